"""CL4SRec's sequence augmentations (crop, mask, reorder), vectorised over a batch.

All functions take LEFT-padded item windows ``seq`` [B, L] (0 = padding, the newest item in
column -1), return a new [B, L] tensor and leave the input untouched. With n = the number of
real items of a row:
  crop(eta):     keep max(1, floor(n * eta)) consecutive items starting at a random offset,
                 re-left-padded (the kept sub-sequence ends in column -1);
  mask(gamma):   replace floor(n * gamma) distinct random real items with ``mask_id``;
  reorder(beta): shuffle a random run of floor(n * beta) consecutive items.
Padding stays padding and on the left; items are only removed (crop), replaced by the mask id
(mask) or moved (reorder), never invented. The sizes and the uniform choice of offsets follow
the CL4SRec implementation in RuihongQiu/DuoRec (``sequential_dataloader.py::cl4srec_aug``),
which loops over samples in Python; there a crop of floor(n * eta) = 0 items yields an empty
sequence, here at least one item is kept.
"""

from __future__ import annotations

import torch

CROP, MASK, REORDER = 0, 1, 2


def _uniform(shape: tuple[int, ...], like: torch.Tensor, generator: torch.Generator | None):
    """Uniform [0, 1) float64 on ``like``'s device, drawn from ``generator`` on its own device.
    float64 so that scaled draws (u * k) never round up to their exclusive upper bound."""
    dev = generator.device if generator is not None else like.device
    u = torch.rand(shape, generator=generator, device=dev, dtype=torch.float64)
    return u.to(like.device)


def _offset(n: torch.Tensor, k: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Uniform integer in [0, n - k] per row ([B] -> [B])."""
    u = _uniform(tuple(n.shape), n, generator)
    return (u * (n - k + 1)).long().clamp(max=n - k)


def lengths(seq: torch.Tensor) -> torch.Tensor:
    return (seq > 0).sum(1)  # [B]


def crop(seq: torch.Tensor, eta: float, generator: torch.Generator | None = None) -> torch.Tensor:
    B, L = seq.shape
    n = lengths(seq)  # [B]
    k = torch.floor(n * eta).long().clamp(min=1).minimum(n)  # [B] items kept
    b = _offset(n, k, generator)  # [B] first kept item, counted from the oldest real item
    # the kept items move right by s = n - b - k columns so that the last one lands in column -1
    s = (n - b - k).unsqueeze(1)  # [B, 1]
    cols = torch.arange(L, device=seq.device).unsqueeze(0)  # [1, L]
    src = (cols - s).clamp(min=0)  # [B, L]
    out = seq.gather(1, src)
    return torch.where(cols >= L - k.unsqueeze(1), out, torch.zeros_like(out))


def mask(
    seq: torch.Tensor, gamma: float, mask_id: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    n = lengths(seq)
    m = torch.floor(n * gamma).long()  # [B] items to mask
    keys = _uniform(tuple(seq.shape), seq, generator)
    keys = keys.masked_fill(seq == 0, 2.0)  # padding sorts after every real item
    rank = keys.argsort(1).argsort(1)  # [B, L] rank of each column's key within its row
    chosen = rank < m.unsqueeze(1)  # m random real columns per row
    return torch.where(chosen, torch.full_like(seq, mask_id), seq)


def reorder(
    seq: torch.Tensor, beta: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    B, L = seq.shape
    n = lengths(seq)
    k = torch.floor(n * beta).long()  # [B] items to shuffle
    c0 = (L - n + _offset(n, k, generator)).unsqueeze(1)  # [B, 1] first shuffled column
    cols = torch.arange(L, device=seq.device).unsqueeze(0).expand(B, L)
    inside = (cols >= c0) & (cols < c0 + k.unsqueeze(1))
    # sort key: a column outside the run keeps its own index; columns inside get random keys in
    # [c0, c0 + k), so sorting permutes the run uniformly and leaves everything else in place
    rand_keys = c0 + _uniform((B, L), seq, generator) * k.unsqueeze(1)
    keys = torch.where(inside, rand_keys, cols.double())
    return seq.gather(1, keys.argsort(1))


def augment(
    seq: torch.Tensor,
    kinds: torch.Tensor,
    eta: float,
    gamma: float,
    beta: float,
    mask_id: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Row i gets augmentation ``kinds[i]`` in {CROP, MASK, REORDER}. [B, L] -> [B, L]."""
    views = torch.stack(
        [
            crop(seq, eta, generator),
            mask(seq, gamma, mask_id, generator),
            reorder(seq, beta, generator),
        ]
    )  # [3, B, L]
    return views.gather(0, kinds.view(1, -1, 1).expand(1, *seq.shape)).squeeze(0)


def two_views(
    seq: torch.Tensor,
    eta: float,
    gamma: float,
    beta: float,
    mask_id: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two augmented views per row with two *different* augmentations drawn uniformly from the
    three (``random.sample(range(3), k=2)`` in the reference). [B, L] -> 2 x [B, L]."""
    B = seq.shape[0]
    u = _uniform((2, B), seq, generator)
    first = (u[0] * 3).long().clamp(max=2)
    second = (first + 1 + (u[1] * 2).long().clamp(max=1)) % 3
    # both views in one pass over the stacked batch [2B, L]
    both = augment(
        torch.cat([seq, seq]), torch.cat([first, second]), eta, gamma, beta, mask_id, generator
    )
    return both[:B], both[B:]
