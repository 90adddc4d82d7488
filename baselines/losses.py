"""Next-item losses shared by every model (protocol.md, "Losses and fairness").

Both compute the output layer only at real (non-padding) target positions."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def full_ce(hidden: torch.Tensor, targets: torch.Tensor, item_emb: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy over all real items.

    hidden: [..., d]; targets: [...] item ids, 0 = no target; item_emb: [n_items + 1 (+x), d].
    The padding row 0 (and rows past the real items) are not candidates."""
    sel = targets > 0
    logits = hidden[sel] @ item_emb[1:].T  # [N, n_items(+x)]
    return F.cross_entropy(logits.float(), targets[sel] - 1)


def sample_negatives(
    targets: torch.Tensor, exclude: torch.Tensor, n_items: int, rounds: int = 10
) -> torch.Tensor:
    """One uniform negative per target, redrawn (vectorised, a few rounds) while it equals an
    item in ``exclude`` [B, L] (the user's training sequence). [B, L] -> [B, L]."""
    neg = torch.randint(1, n_items + 1, targets.shape, device=targets.device)
    for _ in range(rounds):
        bad = (neg.unsqueeze(-1) == exclude.unsqueeze(-2)).any(-1)
        if not bool(bad.any()):
            break
        neg = torch.where(bad, torch.randint_like(neg, 1, n_items + 1), neg)
    return neg


def bce_one_negative(
    hidden: torch.Tensor, targets: torch.Tensor, negatives: torch.Tensor, item_emb: torch.Tensor
) -> torch.Tensor:
    """Binary cross-entropy with one sampled negative per position (SASRec as published)."""
    sel = targets > 0
    h = hidden[sel].float()
    pos = (h * item_emb[targets[sel]].float()).sum(-1)
    neg = (h * item_emb[negatives[sel]].float()).sum(-1)
    return (F.softplus(-pos) + F.softplus(neg)).mean()
