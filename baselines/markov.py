"""First-order Markov chain: score(j | history) = count of the transition (last item -> j).

Transitions are counted over consecutive pairs inside the users' training prefixes s[:n-2]
only (the pair s[t-1] -> s[t] for every training target s[t]), so validation and test targets
never enter. The count matrix is sparse (at most one entry per training pair): it is kept in
CSR form (row pointers, column ids, counts), built with one ``torch.unique`` over pair keys,
and a batch of rows is expanded to dense scores with a gather and a scatter (no per-user loop).
No parameters, train_mode "fit".

Ties: most items were never seen after a given item and all score 0. A popularity term
``tie_break`` x popularity / max popularity (training-prefix counts, as ``pop``) breaks those
ties in favour of popular items; because it stays below 1 it never overturns a difference in
transition counts. A last item that never had a successor in training falls back to pure
popularity. ``tie_break`` is larger than a "tiny" epsilon on purpose: float32 scores lose an
epsilon like 1e-6 next to counts above ~8, while 0.5 keeps popularity differences resolvable.

Deviations: none from the textbook estimator (no smoothing, no higher order); the matrix
lives in non-persistent buffers (rebuilt by ``fit``, not saved in state_dict).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from baselines.base import SequentialModel
from baselines.popularity import training_item_counts
from baselines.registry import register


@dataclass
class MarkovConfig:
    tie_break: float = 0.5  # weight of normalised popularity; must stay < 1 (see docstring)


def transition_csr(split) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Counts of (previous item -> item) over the training prefixes as CSR:
    (row pointers [n_items + 2], column ids [nnz], counts [nnz] float)."""
    n = split.n_items + 1
    ends = split.train_example_ends()  # index of every training target; its input ends before
    src, dst = split.items[ends - 1], split.items[ends]
    keys, counts = torch.unique(src * n + dst, return_counts=True)  # sorted: row-major order
    rows, cols = keys // n, keys % n
    crow = torch.zeros(n + 1, dtype=torch.long, device=split.device)
    crow[1:] = torch.cumsum(torch.bincount(rows, minlength=n), 0)
    return crow, cols, counts.float()


@register("markov", MarkovConfig, label="Markov (1st order)")
class Markov(SequentialModel):
    train_mode = "fit"

    def __init__(self, config: MarkovConfig, n_items: int):
        super().__init__(config, n_items)
        if not 0.0 <= config.tie_break < 1.0:
            raise ValueError(f"markov: tie_break must lie in [0, 1), got {config.tie_break}")
        empty = torch.zeros(0)
        self.register_buffer("crow", torch.zeros(n_items + 2, dtype=torch.long), persistent=False)
        self.register_buffer("cols", empty.long(), persistent=False)
        self.register_buffer("counts", empty, persistent=False)
        self.register_buffer("prior", torch.zeros(n_items + 1), persistent=False)

    @torch.no_grad()
    def fit(self, split) -> None:
        dev = self.prior.device
        crow, cols, counts = transition_csr(split)
        self.crow, self.cols, self.counts = crow.to(dev), cols.to(dev), counts.to(dev)
        pop = training_item_counts(split).to(dev)
        self.prior = self.config.tie_break * pop / pop.max().clamp(min=1.0)

    def transition_rows(self, last: torch.Tensor, base: torch.Tensor | None = None):
        """Transition counts out of each item in ``last`` [B], added to ``base`` [n_items + 1]
        (zeros by default): [B, n_items + 1]."""
        start = self.crow[last]
        n_out = self.crow[last + 1] - start  # [B] entries per row
        rows = torch.repeat_interleave(torch.arange(len(last), device=last.device), n_out)
        first = torch.repeat_interleave(torch.cumsum(n_out, 0) - n_out, n_out)
        idx = torch.repeat_interleave(start, n_out) + torch.arange(len(rows), device=last.device)
        idx = idx - first  # absolute positions in cols/counts
        if base is None:
            base = torch.zeros(self.n_items + 1, device=last.device)
        dense = base.unsqueeze(0).repeat(len(last), 1)  # [B, n_items + 1]
        dense[rows, self.cols[idx]] += self.counts[idx]  # (row, col) pairs are unique
        return dense

    def scores(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        s = self.transition_rows(seq[:, -1], self.prior)  # [B, n_items + 1]
        s[:, 0] = float("-inf")
        return s
