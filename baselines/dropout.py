"""Dropout that is cheap on CPU, and the attention that uses it.

torch's CPU dropout draws its keep mask with ``bernoulli_``, one element at a time; profiled on
beauty with one thread (2026-11-28), those draws were 17% of a CL4SRec and 19% of a BSARec
training step, and SDPA's own attention-probability dropout cost more than the attention
itself. Here the mask on CPU is ``rand(shape) >= p`` in float32: the same Bernoulli(1 - p)
keep law and the same inverted scaling 1 / (1 - p) as ``F.dropout``, about 2x cheaper forward
and backward (`results/benchmarks/cpu_2026-11-28-dropout/`). On any other device ``F.dropout``
(one fused kernel) and fused SDPA dropout are used unchanged.

The function is the same; the random stream is not: a CPU run draws other masks for the same
seed than it did before this module existed (commit of 2026-11-28).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """Inverted dropout: each element is kept with probability 1 - p and scaled by 1 / (1 - p)."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p >= 1.0:
        return F.dropout(x, p, True)
    # float32 draws whatever x's dtype: bf16 uniforms are too coarse for an exact keep rate
    keep = torch.rand(x.shape, device=x.device) >= p
    return x * keep.to(x.dtype).mul_(1.0 / (1.0 - p))


class Dropout(nn.Dropout):
    """``nn.Dropout`` with the cheap CPU draw of ``dropout``; an ``nn.Dropout`` subclass, so code
    that finds dropout modules by type (LARES's RPT rate switch) still finds it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)


def attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor,
    p: float,
    use_sdpa: bool = True,
) -> torch.Tensor:
    """softmax(q k^T / sqrt(head_dim), masked) with dropout ``p`` on the probabilities, @ v.

    q [B, H, Lq, hd], k and v [B, H, Lk, hd], mask [B, 1 or H, Lq, Lk] (True = may attend; every
    row needs one True). Fused SDPA unless ``use_sdpa`` is False or attention dropout runs on
    CPU, where SDPA falls back to its unfused path with the slow ``bernoulli_`` draw anyway."""
    if use_sdpa and (p == 0.0 or q.device.type != "cpu"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    probs = scores.masked_fill(~mask, float("-inf")).softmax(-1)
    return dropout(probs, p) @ v
