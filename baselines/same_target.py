"""Same-target partner sampling, shared by DuoRec (supervised positives) and LARES (TLA partners).

Given the target item of every training example, ``SameTargetIndex.sample(ids)`` returns for
each example another example with the same target, uniformly at random among the others, or the
example itself when it is the only one with that target. This is DuoRec's rule
(RuihongQiu/DuoRec, ``recbole/data/dataset/sequential_dataset.py::semantic_augmentation`` and
``sequential_dataloader.py::duorec_aug``), built without a Python loop over examples: DuoRec
stores one index array per example (quadratic in the size of popular groups and built with an
``np.where`` per example); here the examples are sorted by target once and each group is a
contiguous slice of that order.
"""

from __future__ import annotations

import torch


class SameTargetIndex:
    """Examples grouped by target. ``targets`` [N]: the target item of example i (any ints)."""

    def __init__(self, targets: torch.Tensor):
        if targets.dim() != 1:
            shape = tuple(targets.shape)
            raise ValueError(f"SameTargetIndex: targets must be 1-D, got shape {shape}")
        n = len(targets)
        dev = targets.device
        # example ids sorted by target; each group of equal targets is a contiguous slice
        self.order = torch.argsort(targets, stable=True)  # [N]
        _, counts = torch.unique_consecutive(targets[self.order], return_counts=True)  # [G]
        starts = torch.cumsum(counts, 0) - counts  # [G] first sorted slot of each group
        group_of_slot = torch.repeat_interleave(torch.arange(len(counts), device=dev), counts)
        # slot[i] = where example i sits in ``order``
        self.slot = torch.empty(n, dtype=torch.long, device=dev)
        self.slot[self.order] = torch.arange(n, device=dev)
        group = group_of_slot[self.slot]  # [N] group of each example
        self.start = starts[group]  # [N] first slot of the example's group
        self.count = counts[group]  # [N] size of the example's group (>= 1)

    def __len__(self) -> int:
        return len(self.order)

    @property
    def device(self) -> torch.device:
        return self.order.device

    def group_sizes(self, example_ids: torch.Tensor) -> torch.Tensor:
        """Number of examples (self included) sharing each example's target. [B] -> [B]."""
        return self.count[example_ids]

    def sample(
        self, example_ids: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """A random other example with the same target for each id, itself when alone. [B]->[B].

        An offset r is drawn uniformly from [0, count - 2] and moved one slot up when it reaches
        the example's own slot, so every other group member has probability 1 / (count - 1)."""
        ids = example_ids.to(self.device)
        count, start = self.count[ids], self.start[ids]
        own = self.slot[ids] - start  # [B] own offset inside the group
        # float64 so that u * (count - 1) never rounds up to count - 1 for large groups
        gen_dev = generator.device if generator is not None else self.device
        u = torch.rand(len(ids), dtype=torch.float64, generator=generator, device=gen_dev)
        others = (count - 1).clamp(min=1)
        r = (u.to(self.device) * others).long().clamp(max=others - 1)  # [B] in [0, count - 2]
        r = r + (r >= own).long()  # skip the example's own slot
        r = torch.where(count > 1, r, own)  # singletons: themselves
        return self.order[start + r]
