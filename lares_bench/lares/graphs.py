"""CUDA graphs for LARES's SPT step (``train.cuda_graphs``, experimental, off by default).

At d = 64 a LARES SPT step on a GPU is bound by launching its operators (about 1,600 per step on CPU
with fused passes, ``benchmarks/op_count.py``), not by arithmetic. A CUDA graph records the
kernels of the forward and backward pass once and replays them with one launch. A graph needs
fixed shapes and no host decision inside, which ``spt.FusedSPTTerms`` provides: every window is
left-padded to ``max_len`` (the same function: padding never changes a real position's output),
each run is read after its own step and SLA's step is chosen with index tensors, so only the
depth of the pass (the deepest run of the batch) shapes the graph. One graph per drawn depth is
recorded the first time that depth comes up (at most the sampler's cap, 12 at mean 4), all in
one memory pool: each replay's outputs are used up (loss read, gradients applied) before the
next replay. Depths, partners and the SLA step are drawn on the host exactly as the eager fused
loss draws them. A batch of another size (an epoch's last) runs the same loss eagerly, and so
does a depth whose recording fails (the error is kept in ``failures``). The optimizer step
stays eager (one foreach Adam). bf16 autocast needs ``cache_enabled=False`` under graphs; the
trainer refuses the combination instead.

Not validated on a GPU yet (written in a session without one): ``benchmarks/gpu_check.sh``
times it against the eager fused loss and ``tests/test_lares_graphs.py`` compares their losses
and gradients on CUDA (skipped without CUDA).
"""

from __future__ import annotations

import torch

from lares_bench.lares.spt import FusedSPTTerms, fused_spt_inputs


class GraphedSPTLoss:
    """``loss = GraphedSPTLoss(model, batch_size)(batch)``: the fused SPT loss, replayed from a
    CUDA graph per depth for batches of ``batch_size`` rows."""

    def __init__(self, model, batch_size: int, warmup: int = 3):
        if not torch.cuda.is_available():
            raise RuntimeError("train.cuda_graphs needs CUDA (--device cuda)")
        self.model, self.batch_size, self.warmup = model, batch_size, warmup
        self.graphed: dict[int, torch.nn.Module] = {}
        self.failures: dict[int, str] = {}
        self.pool = torch.cuda.graph_pool_handle()
        self.replays = 0

    def _graph_for(self, depth: int, sample: tuple[torch.Tensor, ...]):
        if depth in self.failures:
            return None
        if depth not in self.graphed:
            try:
                self.graphed[depth] = torch.cuda.make_graphed_callables(
                    FusedSPTTerms(self.model, depth), sample,
                    num_warmup_iters=self.warmup, allow_unused_input=True, pool=self.pool,
                )
            except Exception as err:  # keep training (eagerly) and say why in the record
                self.failures[depth] = f"{type(err).__name__}: {err}"
                return None
        return self.graphed[depth]

    def __call__(self, batch) -> torch.Tensor:
        model = self.model
        if len(batch.targets) != self.batch_size or not model.training:
            inputs = fused_spt_inputs(model, batch)
            return FusedSPTTerms(model, inputs.depth)(*inputs[:4])
        inputs = fused_spt_inputs(model, batch, width=model.config.max_len)
        args = tuple(inputs[:4])
        graphed = self._graph_for(inputs.depth, args)
        if graphed is None:
            return FusedSPTTerms(model, inputs.depth)(*args)
        self.replays += 1
        return graphed(*args)
