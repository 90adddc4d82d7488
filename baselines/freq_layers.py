"""Frequency-domain sequence layers: FMLP-Rec's learnable filter and BSARec's frequency rescaler.

Both follow the layer interface of layers.py, ``forward(x [B, L, d], allowed [B, L, L]) ->
[B, L, d]``, and are built by ``layers.make_layer("fmlp" | "bsarec", cfg, max_len)``.

The filters are defined over a FIXED length: the real FFT along the sequence axis of a length-L
input has L//2 + 1 frequencies, and FMLP-Rec learns one complex weight per frequency of a
``max_len`` sequence. The references pad every sequence on the left to exactly ``max_len`` and
filter the whole padded window (padding positions included), so a model built from these layers
must left-pad its input to ``max_len`` before the first layer; the layers assert L == max_len.

The filters mix ALL positions (a frequency is a sum over the whole window): they are not causal.
A model made of them must not be trained with a next-item loss at every position, which would
leak the later inputs into the earlier positions' states; the references (and our fmlprec.py /
bsarec.py) train one (prefix -> next item) example at a time with the loss at the last position.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from baselines.dropout import Dropout
from baselines.layers import LN_EPS, MultiHeadAttention, TransformerConfig


def left_pad(seq: torch.Tensor, max_len: int) -> torch.Tensor:
    """Left-pad item ids [B, L] with 0 to [B, max_len] (L <= max_len), as the references do."""
    B, L = seq.shape
    if L > max_len:
        raise ValueError(f"input has {L} positions, more than max_len={max_len}")
    return torch.cat([seq.new_zeros(B, max_len - L), seq], dim=1)


def _check_length(x: torch.Tensor, max_len: int, name: str) -> None:
    if x.shape[1] != max_len:
        raise ValueError(
            f"{name}: the frequency filter is defined for sequences of exactly max_len={max_len} "
            f"positions, got {x.shape[1]}; left-pad the input to max_len first"
        )


class FeedForward(nn.Module):
    """Position-wise feed-forward sublayer, post-LN: LN(x + drop(W2 act(W1 x)))."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.ff1 = nn.Linear(cfg.d, cfg.inner)
        self.ff2 = nn.Linear(cfg.inner, cfg.d)
        self.norm = nn.LayerNorm(cfg.d, eps=LN_EPS)
        self.dropout = Dropout(cfg.hidden_dropout)
        self.act = {"gelu": F.gelu, "relu": F.relu}[cfg.activation]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, L, d] -> [B, L, d]
        return self.norm(x + self.dropout(self.ff2(self.act(self.ff1(x)))))


class FilterLayer(nn.Module):
    """FMLP-Rec block (Zhou et al., WWW 2022; Woeee/FMLP-Rec ``modules.py`` FilterLayer +
    Intermediate): h = LN(x + drop(irfft(rfft(x) * W))); out = LN(h + drop(FFN(h))).

    W is a learnable complex weight per (frequency, channel), stored as [1, max_len//2+1, d, 2]
    (real, imaginary) and initialised N(0, 0.02) as in the reference. FFTs use norm="ortho".
    ``allowed`` is ignored: the filter sees every position of the padded window."""

    def __init__(self, cfg: TransformerConfig, max_len: int):
        super().__init__()
        self.max_len = max_len
        self.complex_weight = nn.Parameter(torch.randn(1, max_len // 2 + 1, cfg.d, 2) * 0.02)
        self.dropout = Dropout(cfg.hidden_dropout)
        self.norm = nn.LayerNorm(cfg.d, eps=LN_EPS)
        self.feed_forward = FeedForward(cfg)

    def filter(self, x: torch.Tensor) -> torch.Tensor:
        """The spectral filter alone: irfft(rfft(x) * W) along the sequence. [B, L, d]."""
        _check_length(x, self.max_len, "FilterLayer")
        # FFTs in float32: bf16 has no FFT kernels, and the weight is a float32 complex view
        spec = torch.fft.rfft(x.float(), dim=1, norm="ortho")  # [B, L//2+1, d] complex
        spec = spec * torch.view_as_complex(self.complex_weight.float())
        return torch.fft.irfft(spec, n=x.shape[1], dim=1, norm="ortho").to(x.dtype)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor | None = None) -> torch.Tensor:
        h = self.norm(x + self.dropout(self.filter(x)))  # [B, L, d]
        return self.feed_forward(h)


class BSARecLayer(nn.Module):
    """BSARec block (Shin et al., AAAI 2024; yehjin-shin/BSARec ``src/model/_modules.py``
    FrequencyLayer + BSARecLayer + BSARecBlock):

      low  = irfft(rfft(x) with all but the lowest c//2 + 1 frequencies zeroed)
      high = x - low
      dsp  = LN(x + drop(low + beta^2 * high))     "frequency rescaler", beta learnable per channel
      gsp  = LN(x + drop(MHA(x, allowed)))          causal self-attention
      h    = alpha * dsp + (1 - alpha) * gsp;  out = LN(h + drop(FFN(h)))

    ``c`` keeps the reference's convention (the layer keeps c // 2 + 1 frequency bins). The
    defaults alpha 0.7, c 5 are the published Beauty setting (the repository's argparse defaults
    are alpha 0.9, c 3). beta (``sqrt_beta`` in the reference) is initialised N(0, 1)."""

    def __init__(
        self, cfg: TransformerConfig, max_len: int, alpha: float = 0.7, c: int = 5
    ):
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"BSARecLayer: alpha must lie in [0, 1], got {alpha}")
        if c < 0:
            raise ValueError(f"BSARecLayer: c must be >= 0, got {c}")
        self.max_len, self.alpha = max_len, alpha
        self.n_low = c // 2 + 1  # frequency bins kept by the low-pass
        self.sqrt_beta = nn.Parameter(torch.randn(cfg.d))
        self.dsp_dropout = Dropout(cfg.hidden_dropout)
        self.dsp_norm = nn.LayerNorm(cfg.d, eps=LN_EPS)
        self.attn = MultiHeadAttention(cfg.d, cfg.n_heads, cfg.attn_dropout, cfg.use_sdpa)
        self.attn_dropout = Dropout(cfg.hidden_dropout)
        self.attn_norm = nn.LayerNorm(cfg.d, eps=LN_EPS)
        self.feed_forward = FeedForward(cfg)

    def low_pass(self, x: torch.Tensor) -> torch.Tensor:
        """The lowest ``n_low`` frequencies of x along the sequence. [B, L, d]."""
        _check_length(x, self.max_len, "BSARecLayer")
        spec = torch.fft.rfft(x.float(), dim=1, norm="ortho")  # [B, L//2+1, d]
        keep = torch.arange(spec.shape[1], device=x.device) < self.n_low
        spec = spec * keep.view(1, -1, 1)
        return torch.fft.irfft(spec, n=x.shape[1], dim=1, norm="ortho").to(x.dtype)

    def rescale(self, x: torch.Tensor) -> torch.Tensor:
        """low + beta^2 * high with high = x - low. [B, L, d]."""
        low = self.low_pass(x)
        return low + self.sqrt_beta.square() * (x - low)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        dsp = self.dsp_norm(x + self.dsp_dropout(self.rescale(x)))  # [B, L, d]
        gsp = self.attn_norm(x + self.attn_dropout(self.attn(x, allowed)))  # [B, L, d]
        return self.feed_forward(self.alpha * dsp + (1.0 - self.alpha) * gsp)
