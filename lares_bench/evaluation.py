"""Full-ranking evaluation (protocol.md, "Ranking and metrics").

Every real item is ranked; the padding column 0 (and any extra column a model adds, such as
BERT4Rec's mask token) is excluded. The target's rank is pessimistic:
    rank = 1 + #(items scoring above the target) + #(other items tied with it)
so a model that scores every item equally ranks every target last among ties, and HR@k is
~k/|I| for it rather than 1.

History masking modes for the items the user interacted with before the target:
  "inf"  : score -inf (default; such items cannot be recommended)
  "none" : keep them (RecBole's choice)
  "zero" : set their scores to 0 (the S3Rec/ICLRec/BSARec code's choice)
The target itself is never masked, even when it repeats a history item (Yelp): with "inf" a
repeated target is scored as-is and competes only with non-history items.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

import numpy as np
import torch

from lares_bench.data.split import LeaveOneOutSplit

HISTORY_MASKS = ("inf", "none", "zero")
DEFAULT_KS = (5, 10, 20)


def pessimistic_ranks(
    scores: torch.Tensor,
    targets: torch.Tensor,
    n_items: int,
    history: tuple[torch.Tensor, torch.Tensor] | None = None,
    history_mask: str = "inf",
) -> torch.Tensor:
    """Rank (1 = best) of each target among the real items 1..n_items.

    scores: [B, >= n_items + 1] (column j scores item j); targets: [B] in 1..n_items;
    history: (row, item) pairs of items to mask. Returns int64 [B]."""
    if history_mask not in HISTORY_MASKS:
        raise ValueError(f"history_mask must be one of {HISTORY_MASKS}, got {history_mask!r}")
    s = scores[:, 1 : n_items + 1].float()  # real items only, [B, I]
    rows = torch.arange(len(targets), device=s.device)
    target_score = s[rows, targets - 1]
    if history is not None and history_mask != "none":
        h_rows, h_items = history
        fill = float("-inf") if history_mask == "inf" else 0.0
        s = s.clone()
        s[h_rows, h_items - 1] = fill
        # the target keeps its own score even when it also occurs in the history
        s[rows, targets - 1] = target_score
    t = target_score.unsqueeze(1)
    greater = (s > t).sum(1)
    ties = (s == t).sum(1) - 1  # minus the target itself
    return 1 + greater + ties


def metrics_from_ranks(ranks: np.ndarray | torch.Tensor, ks: Iterable[int] = DEFAULT_KS) -> dict:
    """HR@k, NDCG@k (one relevant item: 1/log2(rank+1) if rank <= k) and MRR."""
    r = torch.as_tensor(ranks, dtype=torch.float64)
    out: dict[str, float] = {}
    for k in ks:
        hit = r <= k
        out[f"HR@{k}"] = float(hit.double().mean())
        out[f"NDCG@{k}"] = float(torch.where(hit, 1.0 / torch.log2(r + 1.0), 0.0).mean())
    out["MRR"] = float((1.0 / r).mean())
    return out


ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(user rows [B], input windows [B, L]) -> scores [B, n_items + 1 (+ extra)]."""
ManyScoreFn = Callable[[torch.Tensor, torch.Tensor], Iterable[tuple[Hashable, torch.Tensor]]]
"""(user rows [B], input windows [B, L]) -> (key, scores [B, n_items + 1]) pairs, e.g. one per
depth of one recurrent pass; an iterator lets each score matrix go before the next is made."""


@torch.no_grad()
def rank_part(
    score_fn: ScoreFn,
    split: LeaveOneOutSplit,
    part: str,
    history_mask: str = "inf",
    batch_size: int = 1024,
    users: torch.Tensor | None = None,
) -> np.ndarray:
    """Per-user target ranks of ``part`` ("valid" or "test"), batched, no per-user loop.

    Users are processed in order of input length so each batch is padded only to its own
    longest window; the returned array is in user order."""
    one = rank_part_many(lambda u, x: [(0, score_fn(u, x))], split, part, history_mask, batch_size, users)
    return one.get(0, np.zeros(0, dtype=np.int64))  # no users: no batch, no key


@torch.no_grad()
def rank_part_many(
    score_fn: ManyScoreFn,
    split: LeaveOneOutSplit,
    part: str,
    history_mask: str = "inf",
    batch_size: int = 1024,
    users: torch.Tensor | None = None,
) -> dict[Hashable, np.ndarray]:
    """``rank_part`` for a score function that scores every batch several ways at once
    (keys -> per-user ranks in user order)."""
    if users is None:
        users = torch.arange(split.n_users, device=split.device)
    order = torch.argsort(split.input_end(part)[users] - split.starts[users], stable=True)
    ranks: dict[Hashable, torch.Tensor] = {}
    for lo in range(0, len(users), batch_size):
        idx = order[lo : lo + batch_size]
        batch_users = users[idx]
        inputs, targets = split.part_inputs(part, batch_users)
        history = split.history_items(part, batch_users) if history_mask != "none" else None
        for key, scores in score_fn(batch_users, inputs):
            if key not in ranks:
                ranks[key] = torch.empty(len(users), dtype=torch.long, device=split.device)
            ranks[key][idx] = pessimistic_ranks(scores, targets, split.n_items, history, history_mask)
    return {key: r.cpu().numpy() for key, r in ranks.items()}
