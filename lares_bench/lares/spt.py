"""LARES stage 1, SPT (self-supervised pre-training): CE + alpha * TLA + gamma * SLA.

Read from ``BaseRecommender.calculate_loss`` and ``ContrastiveLoss`` in the authors' ``model.py``
(GitHub BishopLiu/LARES) and the published run ``run_sl.sh`` (alpha 0.1, gamma 0.5, tau 1, dot):

  CE   cross-entropy of the final output of one forward pass (its own random depth and S_0);
  TLA  a training example with the same target (``SameTargetIndex``, itself when alone) and the
       example are run with ONE shared sampled depth (``same_step``); symmetric InfoNCE between
       the two final outputs, in-batch, positives on the diagonal;
  SLA  on that same trajectory of the example, a step index drawn uniformly from 0..k-1 (the
       final step included, as the authors); symmetric InfoNCE between the final output and that
       step's output (only when k > 1).
InfoNCE(x, y) = CE(sim(x, y^T) / tau, diagonal), sim = dot or cosine (``sem_func``).

So a batch costs three forward passes (CE, example, partner), as in the authors' code. On a GPU
all three share ONE recurrent pass of the deeper depth (``LARESConfig.pass_fusion``: each run
is read at its own step; fewer, wider kernels); with fusion off the example and partner windows
may still share one pass (``tla_batching``);
``ce_own_pass=False`` reuses the example's trajectory for CE (two passes; not the authors').
Passes whose weight is zero are skipped (``spt=False``: CE only, one pass).
Deviation: CE's softmax runs over the real items only (the authors' includes the padding row).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


def info_nce(x: torch.Tensor, y: torch.Tensor, tau: float = 1.0, sem_func: str = "dot"):
    """In-batch InfoNCE of x [B, d] against y [B, d], row i's positive is y[i]."""
    if sem_func == "cos":
        x, y = F.normalize(x, dim=-1), F.normalize(y, dim=-1)
    logits = (x @ y.T).float() / tau  # [B, B]
    return F.cross_entropy(logits, torch.arange(len(x), device=x.device))


def sym_info_nce(x: torch.Tensor, y: torch.Tensor, tau: float = 1.0, sem_func: str = "dot"):
    return (info_nce(x, y, tau, sem_func) + info_nce(y, x, tau, sem_func)) / 2


def spt_loss(model, batch) -> torch.Tensor:
    """The SPT loss of ``model`` (a LARES) on an example-mode batch (inputs [B, L], targets [B],
    example_ids [B])."""
    c = model.config
    alpha, gamma = c.tla_weight, c.sla_weight
    aligned = alpha > 0 or gamma > 0
    loss = torch.zeros((), device=batch.inputs.device)
    if aligned and model.fuse_passes(batch.inputs.device):
        return loss + _fused_spt_loss(model, batch)
    if c.ce_own_pass or not aligned:
        final, _ = model.run(batch.inputs)  # [B, d], random depth
        loss = loss + F.cross_entropy(model.logits(final).float(), batch.targets - 1)
    if not aligned:
        return loss

    depth = model.sample_depth() if c.same_step else None
    joint = alpha > 0 and c.same_step and model.joint_tla(batch.inputs.device)
    if joint:  # example and partner windows in one pass (see LARESConfig.tla_batching)
        final, steps, partner = model.run_with_partners(batch.inputs, batch.example_ids, depth)
    else:
        final, steps = model.run(batch.inputs, depth=depth, all_steps=True)  # [B, d], [B, k, d]
        partner = model.partner_final(batch.example_ids, depth) if alpha > 0 else None  # [B, d]
    if not c.ce_own_pass:
        loss = loss + F.cross_entropy(model.logits(final).float(), batch.targets - 1)
    if alpha > 0:
        loss = loss + alpha * sym_info_nce(final, partner, c.tau, c.sem_func)
    k = steps.shape[1]
    if gamma > 0 and k > 1:
        i = _sla_step(k)
        loss = loss + gamma * sym_info_nce(final, steps[:, i], c.tau, c.sem_func)
    return loss



def _sla_step(k: int) -> int:
    """SLA's step index, uniform over 0..k-1 (a host draw, as the separate passes draw it)."""
    return int(torch.randint(0, k, (1,)))


class FusedSPTInputs(NamedTuple):
    """One batch of the fused SPT loss, prepared on the host (see ``fused_spt_inputs``)."""

    windows: torch.Tensor  # [R * B, W] the R runs' windows, run-major, left-padded to width W
    reads: torch.Tensor  # [R] 0-based step after which each run is read
    sla: torch.Tensor  # [2] SLA's step index on the example run, and 1 if SLA applies (k > 1)
    targets: torch.Tensor  # [B]
    depth: int  # steps of the pass: the deepest run


def fused_spt_inputs(model, batch, width: int | None = None) -> FusedSPTInputs:
    """Draw the batch's depths, TLA partners and SLA step, in the order of the separate passes,
    and stack the runs: the CE run (if ``ce_own_pass``), the example, its partner (if alpha > 0).
    ``width``: pad every window to it (CUDA graphs need one shape), else to the widest."""
    c = model.config
    windows, depths = [], []
    if c.ce_own_pass:
        windows.append(batch.inputs)
        depths.append(model.sample_depth())
    k = model.sample_depth()
    windows.append(batch.inputs)  # the TLA / SLA trajectory of the example
    depths.append(k)
    if c.tla_weight > 0:
        windows.append(model.partner_windows(batch.example_ids))
        depths.append(k if c.same_step else model.sample_depth())
    sla = [_sla_step(k), 1] if c.sla_weight > 0 and k > 1 else [0, 0]
    dev = batch.inputs.device
    return FusedSPTInputs(
        model.stack_windows(windows, width),
        torch.tensor([d - 1 for d in depths], device=dev),
        torch.tensor(sla, device=dev),
        batch.targets,
        max(depths),
    )


class FusedSPTTerms(nn.Module):
    """The SPT loss of R stacked runs in ONE recurrent pass of ``depth`` steps, each run read
    after its own step (``reads``) and SLA's step taken on the device: no host decision inside,
    so one instance per depth can be recorded as a CUDA graph (graphs.py). ``forward(windows,
    reads, sla, targets) -> loss`` with the tensors of ``FusedSPTInputs``."""

    def __init__(self, model, depth: int):
        super().__init__()
        self.model, self.depth = model, depth

    def forward(self, windows, reads, sla, targets) -> torch.Tensor:
        m = self.model
        c = m.config
        finals, steps = m.stacked_pass(windows, reads, self.depth)  # [R, B, d], [R, B, K, d]
        ex = 1 if c.ce_own_pass else 0  # the example run (the CE run when it has its own)
        final = finals[ex]
        loss = F.cross_entropy(m.logits(finals[0]).float(), targets - 1)
        if c.tla_weight > 0:
            loss = loss + c.tla_weight * sym_info_nce(final, finals[-1], c.tau, c.sem_func)
        if c.sla_weight > 0:
            step = steps[ex].index_select(1, sla[:1]).squeeze(1)  # [B, d]
            term = sym_info_nce(final, step, c.tau, c.sem_func)
            loss = loss + c.sla_weight * sla[1] * term  # sla[1] = 0 when k = 1: no SLA
        return loss


def _fused_spt_loss(model, batch) -> torch.Tensor:
    """``spt_loss`` with its runs in one recurrent pass (``pass_fusion``): the CE run (own
    depth), the TLA example and its partner (one shared depth when ``same_step``, else each its
    own). The same runs, the same loss terms; only the order of the random draws differs from
    the separate passes."""
    inputs = fused_spt_inputs(model, batch)
    return FusedSPTTerms(model, inputs.depth)(*inputs[:4])
