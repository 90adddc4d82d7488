"""LARES: depth-recurrent latent reasoning for sequential recommendation.

Liu et al., "LARES: Latent Reasoning for Sequential Recommendation", arXiv 2505.16865; the
authors' code is GitHub BishopLiu/LARES (``model.py``: ``BaseRecommender.forward``,
``initialize_state``, ``randomized_iteration_sampler``; ``run_sl.sh`` / ``run_rl.sh`` for the
published settings). Spec: ../shared/docs/lares.md.

    x = dropout(LN(item_emb + pos_emb))                       [B, L, d]
    H = pre-block(x)            n_pre causal layers           [B, L, d]
    S_0 = scale * truncN(0, std, +-3 std)                     [B, L, d]
    for step 1..k:  S = core(LN(adapter(S, H)))   n_core shared causal layers, all positions
    output = S_k[:, -1] (the newest item; sequences are left-padded)

Adapters: "add" (S + H) / 2, "concat" Linear(2d -> d)([S; H]), "linear" sigmoid(w) S +
(1 - sigmoid(w)) H with one learned scalar w (init 0). Scores are tied to the item table: dot,
or cosine / tau (``sem_func``). The SPT loss is in spt.py, the RPT stage in rpt.py, the
two-stage run in executor.py.

Depth: drawn per forward pass in training (depth.py), ``eval_depth`` (default
``mean_recurrence``) in evaluation, or any depth given explicitly / through ``at_depth`` (test-time
depth scaling). Initial state: random in evaluation too, as in the authors' code; to make
scoring reproducible the evaluation noise comes from a generator that is reseeded with
``eval_seed`` (the run seed, set by the executor) every time the model enters eval mode, so
every evaluation pass of the same weights sees the same noise (noise depends on the batch a
user falls in, not on the user).

Deviations from the authors' code (see also depth.py, spt.py, rpt.py):
- left padding with positions counted from the oldest item (``position_mode`` "start") instead
  of RecBole's right padding; the same numbers, no gather of the last position needed;
- the softmax (CE, per-step log-probabilities) runs over the real items only; RecBole's includes
  the padding row 0 as a (never correct) candidate;
- per-step log-probabilities use the model's similarity (dot, or cosine / tau); the authors'
  LARES uses a raw dot product there even with ``sem_func`` cos (identical at the defaults);
- attention dropout is its own setting (the authors tie it to the hidden dropout; both 0.5 in the
  published run, and our RPT stage sets both to ``rpt_dropout``);
- depth sampler details (k >= 1 always; "none" also evaluates with one step): see depth.py;
- ``max_len`` is set per dataset by the runner (50 on Amazon 2014); the paper used 20;
- evaluation noise comes from the seeded generator above, not from the global RNG.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines.base import Batch, SequentialModel
from baselines.layers import (
    LN_EPS,
    SequenceEmbedding,
    TransformerConfig,
    attention_mask,
    init_bert_weights,
    make_layer,
)
from baselines.registry import register
from baselines.row_groups import ROW_GROUP_MODES, grouped_rows, row_groups_on
from baselines.same_target import SameTargetIndex
from lares_bench.lares.depth import depth_cap, sample_depth
from lares_bench.lares.spt import spt_loss

ADAPTERS = ("add", "concat", "linear")
INITS = ("scaled_normal", "zero", "normal_zero")


@dataclass
class LARESConfig:
    # --- architecture (published run: run_sl.sh) ---
    d: int = 64  # hidden size = embedding size
    n_pre: int = 2  # pre-block layers (0 = the core reads the embeddings directly)
    n_core: int = 2  # recurrent core layers, shared across steps
    n_heads: int = 2
    inner: int = 256  # feed-forward width
    hidden_dropout: float = 0.5  # SPT stage
    attn_dropout: float = 0.5  # SPT stage (the authors tie it to hidden_dropout)
    max_len: int = 50  # set per dataset by the runner; the paper used 20
    position_mode: str = "start"  # RecBole numbers positions from the oldest item
    backbone: str = "transformer"  # layer kind for pre-block and core: transformer|fmlp|bsarec
    adapter: str = "add"  # add | concat | linear (how S and H are merged before each step)
    use_sdpa: bool = True  # fused attention; False = eager reference
    # --- latent state and depth ---
    init: str = "scaled_normal"  # scaled_normal | zero | normal_zero (noise only in training)
    state_scale: float = 3.0  # S_0 = state_scale * truncated normal
    state_std: float = 1.0  # std of that normal, truncated at +-3 std
    depth_sampler: str = "poisson_lognormal"  # poisson_lognormal|uniform|poisson|constant|none
    mean_recurrence: int = 4  # the sampler's m (see depth.py)
    depth_sigma: float = 0.5  # lognormal sigma of poisson_lognormal
    eval_depth: int = 0  # steps in evaluation; 0 = mean_recurrence (1 for sampler "none")
    test_depths: tuple[int, ...] = (1, 2, 4, 8, 12, 16)  # test set also scored at these depths
    # --- similarity (scores, CE, InfoNCE) ---
    sem_func: str = "dot"  # dot | cos (cos: both sides normalised, divided by tau)
    tau: float = 1.0
    # --- stage 1: SPT ---
    spt: bool = True  # False: CE only (alpha = gamma = 0)
    alpha: float = 0.1  # TLA weight (trajectory-level alignment, same-target partner)
    gamma: float = 0.5  # SLA weight (step-level alignment, random step vs final)
    same_step: bool = True  # TLA pair shares one sampled depth (authors' same_step)
    ce_own_pass: bool = True  # CE on its own forward pass, as the authors; False reuses TLA's
    # how the TLA example and partner windows are run (the same function either way, rows never
    # interact): "joint" one forward pass over both (fewest kernel launches: GPUs), "grouped"
    # the partners apart, grouped by length (least padding: CPUs), "auto" joint on CUDA only
    tla_batching: str = "auto"
    # "on": independent runs of one batch (SPT's CE pass and TLA pair; RPT's G policy rollouts,
    # and apart the G reference rollouts) are stacked into ONE recurrent pass of the deepest
    # depth, each read at its own step (rows never interact: the same function). A GPU is
    # bound by kernel launches at this size, so fewer, wider passes are faster there; on a CPU
    # the extra steps of the shallower runs cost real time. "auto": on for CUDA only.
    pass_fusion: str = "auto"
    # "on": in training, the rows of a separate (unfused) pass run in groups of similar length,
    # each cut to its own longest row (baselines/row_groups.py: the same function, rows never
    # interact; on beauty 4.8x fewer token positions than random batches padded to their
    # longest row).
    # Transformer backbone only. "auto": on for CPU (not timed on a GPU, where the fused
    # passes run instead).
    row_groups: str = "auto"
    # --- stage 2: RPT (published run: run_rl.sh) ---
    rpt: bool = True
    rpt_lr: float = 5e-4
    rpt_batch_size: int = 400
    rpt_dropout: float = 0.1  # hidden and attention dropout during RPT
    rpt_group: int = 4  # G rollouts per example
    rpt_beta: float = 1.0  # k3-KL weight against the frozen SPT model
    rpt_reward: str = "recall"  # recall (hit@k) | ndcg (NDCG@k) of the final step's ranking
    rpt_reward_k: int = 10
    rpt_ref_same_state: bool = False  # reference reuses the rollout's S_0 (authors: own draw)
    rpt_filter: bool = True  # train RPT only on examples the SPT model ranks in the top k
    rpt_filter_topk: int = 100
    rpt_filter_passes: int = 3  # passes with fresh random initial states; union of hits
    rpt_epochs: int = 0  # RPT epoch bound; 0 = train.epochs (the authors: one RecBole config)
    rpt_patience: int = 0  # 0 = train.patience (10)
    rpt_epoch_batches: int = 0  # GRPO batches per RPT epoch; 0 = train.epoch_batches

    def transformer(self) -> TransformerConfig:
        return TransformerConfig.of(self)

    @property
    def tla_weight(self) -> float:
        return self.alpha if self.spt else 0.0

    @property
    def sla_weight(self) -> float:
        return self.gamma if self.spt else 0.0

    def validate(self) -> None:
        checks = {
            "adapter": (self.adapter, ADAPTERS),
            "init": (self.init, INITS),
            "sem_func": (self.sem_func, ("dot", "cos")),
            "rpt_reward": (self.rpt_reward, ("recall", "ndcg")),
            "tla_batching": (self.tla_batching, ("auto", "joint", "grouped")),
            "pass_fusion": (self.pass_fusion, ("auto", "on", "off")),
            "row_groups": (self.row_groups, ROW_GROUP_MODES),
        }
        for key, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f"lares: {key} must be one of {allowed}, got {value!r}")
        depth_cap(self.depth_sampler, self.mean_recurrence)  # raises on a bad scheme / mean
        if self.tau <= 0:
            raise ValueError("lares: tau must be > 0")
        if self.rpt_group < 2:
            raise ValueError("lares: rpt_group must be >= 2 (advantages need a group std)")
        if self.n_core < 1 or self.n_pre < 0:
            raise ValueError("lares: need n_core >= 1 and n_pre >= 0")
        if min(self.rpt_epochs, self.rpt_patience, self.rpt_epoch_batches) < 0:
            raise ValueError("lares: rpt_epochs, rpt_patience, rpt_epoch_batches must be >= 0 (0 = train.*)")
        if any(k < 1 for k in self.test_depths) or self.eval_depth < 0:
            raise ValueError("lares: depths must be >= 1 (eval_depth 0 = mean_recurrence)")


class _TrainExamples:
    """What ``prepare`` keeps: training example ends/users and the same-target index."""

    def __init__(self, split, with_index: bool):
        self.split = split
        self.ends = split.train_example_ends()  # [N] absolute target index
        self.users = split.example_users(self.ends)  # [N]
        self.index = SameTargetIndex(split.items[self.ends]) if with_index else None

    def inputs(self, example_ids: torch.Tensor) -> torch.Tensor:  # [B] -> [B, L']
        return self.split.windows(self.users[example_ids], self.ends[example_ids])


VARIANTS = {
    "lares-norpt": {"model": {"rpt": False}, "label": "LARES w/o RPT"},
    "lares-nospt": {"model": {"spt": False}, "label": "LARES w/o SPT (CE + RPT)"},
    "lares-ce": {"model": {"spt": False, "rpt": False}, "label": "LARES w/o SPT, w/o RPT (CE)"},
    "lares-fmlp": {"model": {"backbone": "fmlp"}, "label": "LARES (FMLP-Rec)"},
    "lares-bsarec": {"model": {"backbone": "bsarec"}, "label": "LARES (BSARec)"},
    "lares-nopre": {"model": {"n_pre": 0}, "label": "LARES w/o pre-block"},
    "lares-notla": {"model": {"alpha": 0.0}, "label": "LARES w/o TLA"},
    "lares-nosla": {"model": {"gamma": 0.0}, "label": "LARES w/o SLA"},
    "lares-nofilter": {"model": {"rpt_filter": False}, "label": "LARES w/o RPT filter"},
    "lares-ndcg": {"model": {"rpt_reward": "ndcg"}, "label": "LARES (NDCG reward)"},
    "lares-concat": {"model": {"adapter": "concat"}, "label": "LARES (concat adapter)"},
    "lares-linear": {"model": {"adapter": "linear"}, "label": "LARES (linear adapter)"},
}


@register(
    "lares",
    LARESConfig,
    label="LARES",
    # random batches (no length bucketing) as RecBole: TLA/SLA use in-batch negatives, and
    # batches of equal-length prefixes hold ~4x more identical inputs (measured on beauty)
    train={"batch_size": 1024, "lr": 1e-3, "patience": 10, "length_bucketing": False},
    variants=VARIANTS,
)
class LARES(SequentialModel):
    train_mode = "example"  # each training prefix -> its next item, as RecBole

    def __init__(self, config: LARESConfig, n_items: int):
        super().__init__(config, n_items)
        config.validate()
        c = config
        self.embed = SequenceEmbedding(n_items, c.d, c.max_len, c.hidden_dropout, c.position_mode)
        tcfg = c.transformer()
        self.pre = nn.ModuleList(make_layer(c.backbone, tcfg, c.max_len) for _ in range(c.n_pre))
        self.core = nn.ModuleList(make_layer(c.backbone, tcfg, c.max_len) for _ in range(c.n_core))
        self.core_norm = nn.LayerNorm(c.d, eps=LN_EPS)
        if c.adapter == "concat":
            self.merge = nn.Linear(2 * c.d, c.d)
        elif c.adapter == "linear":
            self.gate = nn.Parameter(torch.zeros(()))
        self.apply(init_bert_weights)
        self.eval_seed = 0  # the executor sets the run seed
        self.depth_override: int | None = None
        self._eval_gen: torch.Generator | None = None
        self._examples: _TrainExamples | None = None

    # --- contract ---------------------------------------------------------------------------
    def item_embeddings(self) -> torch.Tensor:
        return self.embed.item.weight

    def encode(self, seq: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, d] (final step)
        return self.trajectory(seq)[1][-1]

    def final_state(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        return self.run(seq)[0]

    def scores(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        return self._padded_scores(self.final_state(seq))

    def scores_at_depths(self, seq: torch.Tensor, depths: Iterable[int]) -> Iterator[tuple[int, torch.Tensor]]:
        """(k, scores [B, n_items + 1] with k steps) for every k of ``depths``, from ONE pass of
        max(depths) steps: the state after step k of a longer run is the k-step run's final
        state (same S_0, same ops; the eval noise restarts at every evaluation pass), so this
        equals k separate ``at_depth(k)`` passes at the cost of the deepest (tested)."""
        wanted = sorted(set(depths))
        _, states = self.trajectory(seq, depth=wanted[-1])
        for k in wanted:
            yield k, self._padded_scores(states[k - 1][:, -1])

    def _padded_scores(self, h: torch.Tensor) -> torch.Tensor:
        logits = self.logits(h)  # [B, n_items]
        pad = torch.full_like(logits[:, :1], float("-inf"))
        return torch.cat([pad, logits], dim=1)  # [B, n_items + 1]

    def training_loss(self, batch: Batch) -> torch.Tensor:
        return spt_loss(self, batch)

    def graphed_training_loss(self, batch_size: int):
        """SPT replayed from CUDA graphs (graphs.py). CE-only training (SPT off) has one pass and
        nothing to fuse: it keeps the eager loss."""
        if self.config.tla_weight == 0 and self.config.sla_weight == 0:
            return self.training_loss
        from lares_bench.lares.graphs import GraphedSPTLoss

        return GraphedSPTLoss(self, batch_size)

    def prepare(self, split) -> None:
        self._examples = _TrainExamples(split, with_index=self.config.tla_weight > 0)

    def train(self, mode: bool = True):
        if not mode:
            self._eval_gen = None  # every evaluation pass restarts the noise from eval_seed
        return super().train(mode)

    def eval_noise_state(self) -> tuple[str, torch.Tensor] | None:
        """Where the evaluation noise stands (None: it restarts from ``eval_seed``); a frozen
        model in eval mode, as RPT's reference, draws on across batches."""
        gen = self._eval_gen
        return None if gen is None else (str(gen.device), gen.get_state())

    def set_eval_noise_state(self, saved: tuple[str, torch.Tensor] | None) -> None:
        self._eval_gen = None
        if saved is not None:
            self._eval_gen = torch.Generator(device=saved[0])
            self._eval_gen.set_state(saved[1].cpu())

    # --- recurrence -------------------------------------------------------------------------
    def sample_depth(self) -> int:
        c = self.config
        return sample_depth(c.depth_sampler, c.mean_recurrence, c.depth_sigma)

    def resolve_depth(self, depth: int | None = None) -> int:
        if depth is not None:
            return int(depth)
        if self.depth_override is not None:
            return self.depth_override
        if self.training:
            return self.sample_depth()
        c = self.config
        return c.eval_depth or (1 if c.depth_sampler == "none" else c.mean_recurrence)

    @contextlib.contextmanager
    def at_depth(self, depth: int):
        """Score with ``depth`` steps inside the block (test-time depth scaling)."""
        previous, self.depth_override = self.depth_override, int(depth)
        try:
            yield self
        finally:
            self.depth_override = previous

    def initial_state(self, shape: torch.Size, device: torch.device) -> torch.Tensor:
        """S_0 [B, L, d]: state_scale * N(0, state_std) truncated at +-3 std (or zeros)."""
        c = self.config
        if c.init == "zero" or (c.init == "normal_zero" and not self.training):
            return torch.zeros(shape, device=device)
        gen = None
        if not self.training:
            if self._eval_gen is None or self._eval_gen.device != device:
                self._eval_gen = torch.Generator(device=device).manual_seed(self.eval_seed)
            gen = self._eval_gen
        # inverse-CDF truncated normal (as torch.nn.init.trunc_normal_, but with a generator)
        lo = 0.5 * (1 + math.erf(-3 / math.sqrt(2)))
        u = lo + (1 - 2 * lo) * torch.rand(shape, generator=gen, device=device)
        z = torch.erfinv(2 * u - 1) * math.sqrt(2)
        return c.state_scale * c.state_std * z

    def adapt(self, s: torch.Tensor, h: torch.Tensor) -> torch.Tensor:  # [B, L, d] x2
        if self.config.adapter == "add":
            return (s + h) / 2
        if self.config.adapter == "concat":
            return self.merge(torch.cat([s, h], dim=-1))
        g = torch.sigmoid(self.gate)
        return g * s + (1 - g) * h

    def input_window(self, seq: torch.Tensor) -> torch.Tensor:
        """The frequency-domain backbones (fmlp, bsarec) filter a window of exactly ``max_len``
        positions: their input is left-padded to ``max_len``. [B, L] -> [B, L or max_len]."""
        if self.config.backbone != "transformer" and seq.shape[1] < self.config.max_len:
            seq = F.pad(seq, (self.config.max_len - seq.shape[1], 0))  # left-pad with 0
        return seq

    def trajectory(
        self, seq: torch.Tensor, depth: int | None = None, init_state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(H [B, L, d], the state after every step: ``k`` tensors [B, L, d]); L is that of
        ``input_window(seq)``."""
        seq = self.input_window(seq)
        allowed = attention_mask(seq, causal=True)  # [B, L, L]
        h = self.embed(seq)
        for layer in self.pre:
            h = layer(h, allowed)
        s = self.initial_state(h.shape, h.device) if init_state is None else init_state
        states = []
        for _ in range(self.resolve_depth(depth)):
            s = self.core_norm(self.adapt(s, h))
            for layer in self.core:
                s = layer(s, allowed)
            states.append(s)
        return h, states

    def run(
        self,
        seq: torch.Tensor,
        depth: int | None = None,
        init_state: torch.Tensor | None = None,
        all_steps: bool = False,
        grouped: bool | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(final output [B, d], per-step outputs [B, k, d] if ``all_steps``) at the newest item.
        ``grouped``: run the rows in length groups (baselines/row_groups.py; the frequency
        backbones filter a fixed max_len window and are never grouped); None = in training when
        ``groups_rows`` (evaluation passes are never grouped, so their noise is unchanged)."""
        if grouped is None:
            grouped = self.training and self.groups_rows(seq.device)
        if grouped and self.config.backbone == "transformer":
            # one depth for every group; S_0 is cut like the windows (the same function:
            # positions count from the oldest item and padding is never attended to)
            k = self.resolve_depth(depth)
            return grouped_rows(
                lambda s, init: self.run(s, k, init, all_steps, grouped=False), seq, init_state
            )
        _, states = self.trajectory(seq, depth, init_state)
        steps = torch.stack([s[:, -1] for s in states], dim=1) if all_steps else None
        return states[-1][:, -1], steps

    # --- outputs ----------------------------------------------------------------------------
    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """[..., d] -> [..., n_items]: similarity to the real items 1..n_items (dot or cos/tau)."""
        e = self.item_embeddings()[1 : self.n_items + 1]
        if self.config.sem_func == "cos":
            return F.normalize(h, dim=-1) @ F.normalize(e, dim=-1).T / self.config.tau
        return h @ e.T

    def step_log_probs(self, steps: torch.Tensor) -> torch.Tensor:
        """Per-step log-distributions over the real items: [B, k, d] -> [B, k, n_items]."""
        return self.logits(steps).float().log_softmax(-1)

    def target_log_probs(self, steps: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """log p(target | step i) for per-step outputs [B, k, d] and targets [B] -> [B, k]
        (``step_log_probs`` at the targets, without keeping [B, k, n_items] log-probs)."""
        lg = self.logits(steps).float()  # [B, k, n_items]
        idx = (targets - 1).view(-1, 1, 1).expand(-1, lg.shape[1], 1)
        return lg.gather(-1, idx).squeeze(-1) - lg.logsumexp(-1)

    def tla_examples(self) -> _TrainExamples:
        """The training examples and same-target index that ``prepare`` built."""
        ex = self._examples
        if ex is None or ex.index is None:
            raise RuntimeError("lares: prepare(split) must run before TLA (the trainer calls it)")
        return ex

    def joint_tla(self, device: torch.device) -> bool:
        """Whether TLA runs example and partner windows in one pass (``tla_batching``)."""
        mode = self.config.tla_batching
        return mode == "joint" or (mode == "auto" and device.type == "cuda")

    def groups_rows(self, device: torch.device) -> bool:
        """Whether training passes run their rows in length groups (``row_groups``)."""
        return self.config.backbone == "transformer" and row_groups_on(self.config.row_groups, device)

    def fuse_passes(self, device: torch.device) -> bool:
        """Whether independent runs of a batch share one recurrent pass (``pass_fusion``)."""
        mode = self.config.pass_fusion
        return mode == "on" or (mode == "auto" and device.type == "cuda")

    @staticmethod
    def stack_windows(windows: list[torch.Tensor], width: int | None = None) -> torch.Tensor:
        """Windows [B, L_j] of R runs, left-padded to ``width`` (default: the widest) and stacked
        run-major into [R * B, width]. Padding changes no real position's output: positions are
        counted from the oldest item and padding is never attended to (tested)."""
        width = width or max(w.shape[1] for w in windows)
        return torch.cat([F.pad(w, (width - w.shape[1], 0)) for w in windows])

    def stacked_pass(
        self,
        stacked: torch.Tensor,
        reads: torch.Tensor,
        depth: int,
        init_state: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """R independent runs of B rows (``stack_windows``) in ONE recurrent pass of ``depth``
        steps; run r is read after step ``reads[r] + 1`` (an index tensor [R]: no host decision,
        so CUDA graphs can record it), which is the state a separate run of that depth reaches
        (rows never interact; tested). Returns (finals [R, B, d], per-step outputs
        [R, B, depth, d])."""
        R = len(reads)
        _, states = self.trajectory(stacked, depth=depth, init_state=init_state)
        steps = torch.stack([s[:, -1] for s in states], dim=1).view(R, -1, depth, self.config.d)
        at = reads.view(R, 1, 1, 1).expand(R, steps.shape[1], 1, steps.shape[-1])
        return steps.gather(2, at).squeeze(2), steps

    def run_many(
        self,
        windows: list[torch.Tensor],
        depths: list[int],
        init_states: list[torch.Tensor] | None = None,
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Independent runs in ONE recurrent pass: run j reads ``windows[j]`` [B_j, L_j] for
        ``depths[j]`` steps. Returns (final [B_j, d], per-step outputs [B_j, depths[j], d]) per
        run: ``stacked_pass`` with host-side reads, so the runs may differ in size.
        ``init_states`` (one [B_j, L, d] per run, all windows of one width L) fixes S_0."""
        init = torch.cat(init_states) if init_states is not None else None
        _, states = self.trajectory(self.stack_windows(windows), max(depths), init)
        steps = torch.stack([s[:, -1] for s in states], dim=1)  # [sum B_j, max k, d]
        out, lo = [], 0
        for w, k in zip(windows, depths, strict=True):
            chunk = steps[lo : lo + len(w), :k]
            out.append((chunk[:, -1], chunk))
            lo += len(w)
        return out

    def partner_windows(self, example_ids: torch.Tensor) -> torch.Tensor:
        """Input windows [B, L'] of a random other training example with the same target as
        each of ``example_ids`` [B] (itself when alone)."""
        ex = self.tla_examples()
        return ex.inputs(ex.index.sample(example_ids))

    def run_with_partners(
        self, inputs: torch.Tensor, example_ids: torch.Tensor, depth: int | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One forward pass over the example windows and their TLA partners' (stacked, both
        left-padded to the longer length; positions count from the oldest item, so the padding
        changes nothing): (final [B, d], per-step outputs [B, k, d], partner final [B, d])."""
        k = self.resolve_depth(depth)
        (final, steps), (partner, _) = self.run_many(
            [inputs, self.partner_windows(example_ids)], [k, k]
        )
        return final, steps, partner

    def partner_final(self, example_ids: torch.Tensor, depth: int | None) -> torch.Tensor:
        """Final output [B, d] of a random other training example with the same target as each
        of ``example_ids`` [B] (TLA), run with ``depth`` steps.

        Partners have unrelated lengths, so one window batch would be padded to the longest
        (often max_len) while the example batch itself may be length-bucketed. The partners are
        therefore always run in length groups (baselines/row_groups.py), whatever ``row_groups`` says."""
        ex = self.tla_examples()
        return self.run(ex.inputs(ex.index.sample(example_ids)), depth=depth, grouped=True)[0]


def _attach_executor() -> None:
    from lares_bench.lares.executor import execute

    LARES.execute = staticmethod(execute)


_attach_executor()
