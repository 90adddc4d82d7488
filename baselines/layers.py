"""Shared Transformer pieces (BERT-style post-LN blocks as in the S3Rec/RecBole SASRec).

Sequences are LEFT-padded with item 0: the last column is always the newest real item, so the
state used for next-item scoring is ``h[:, -1]`` for every model. Attention takes a boolean
``allowed`` mask [B, L, L] (True = may attend). Padding rows are allowed to attend to themselves
only, which keeps every softmax row finite (SDPA returns NaN for a fully masked row) while real
rows never see padding.

Two attention paths compute the same function (``dropout.attend``):
``F.scaled_dot_product_attention`` (fused, the default) and an eager reference
(``use_sdpa=False``) that the tests compare against. Training on CPU with attention dropout
takes the eager path, whose dropout draw is cheaper there (dropout.py); every dropout here is
``dropout.Dropout``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines.dropout import Dropout, attend

LN_EPS = 1e-12  # BERT/S3Rec/RecBole value


def init_bert_weights(module: nn.Module, std: float = 0.02) -> None:
    """N(0, 0.02) for Linear/Embedding weights, zero biases, unit LayerNorm (S3Rec, RecBole)."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        module.weight.data.normal_(0.0, std)
        if isinstance(module, nn.Linear) and module.bias is not None:
            module.bias.data.zero_()
    elif isinstance(module, nn.LayerNorm):
        module.weight.data.fill_(1.0)
        module.bias.data.zero_()


def attention_mask(seq: torch.Tensor, causal: bool = True) -> torch.Tensor:
    """Boolean [B, L, L]: query i may attend key j when j is a real item (and j <= i if causal);
    padding queries attend to themselves."""
    B, L = seq.shape
    real = seq > 0
    allowed = real.unsqueeze(1).expand(B, L, L)
    if causal:
        allowed = allowed & torch.ones(L, L, dtype=torch.bool, device=seq.device).tril()
    eye = torch.eye(L, dtype=torch.bool, device=seq.device)
    return allowed | (eye & ~real.unsqueeze(2))


def position_ids(seq: torch.Tensor, max_len: int, mode: str) -> torch.Tensor:
    """Position index of each column for left-padded input.

    mode "end":   the newest item has position max_len - 1 (SASRec/S3Rec pad to max_len on the
                  left and number the padded window 0..max_len-1);
    mode "start": the oldest real item has position 0 (RecBole pads on the right)."""
    B, L = seq.shape
    cols = torch.arange(L, device=seq.device)
    if mode == "end":
        return (cols + (max_len - L)).expand(B, L)
    if mode == "start":
        n_pad = (seq == 0).sum(1, keepdim=True)
        return (cols.unsqueeze(0) - n_pad).clamp(min=0)
    raise ValueError(f"position mode must be 'end' or 'start', got {mode!r}")


class SequenceEmbedding(nn.Module):
    """item embedding + learned position embedding -> LayerNorm -> dropout."""

    def __init__(
        self, n_items: int, d: int, max_len: int, dropout: float, position_mode: str = "end",
        extra_tokens: int = 0,
    ):
        super().__init__()
        self.item = nn.Embedding(n_items + 1 + extra_tokens, d, padding_idx=0)
        self.position = nn.Embedding(max_len, d)
        self.norm = nn.LayerNorm(d, eps=LN_EPS)
        self.dropout = Dropout(dropout)
        self.max_len = max_len
        self.position_mode = position_mode

    def forward(self, seq: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, d]
        pos = position_ids(seq, self.max_len, self.position_mode)
        return self.dropout(self.norm(self.item(seq) + self.position(pos)))


class MultiHeadAttention(nn.Module):
    def __init__(self, d: int, n_heads: int, attn_dropout: float, use_sdpa: bool = True):
        super().__init__()
        if d % n_heads:
            raise ValueError(f"hidden size {d} is not a multiple of n_heads {n_heads}")
        self.n_heads, self.head_dim = n_heads, d // n_heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.attn_dropout = attn_dropout
        self.use_sdpa = use_sdpa

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        B, L, d = x.shape
        q, k, v = self.qkv(x).view(B, L, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        mask = allowed.unsqueeze(1)  # [B, 1, L, L], broadcast over heads
        p = self.attn_dropout if self.training else 0.0
        ctx = attend(q, k, v, mask, p, self.use_sdpa)
        return self.out(ctx.transpose(1, 2).reshape(B, L, d))


@dataclass
class TransformerConfig:
    d: int = 64
    n_heads: int = 2
    inner: int = 256  # feed-forward width (4d)
    hidden_dropout: float = 0.5
    attn_dropout: float = 0.5
    activation: str = "gelu"
    use_sdpa: bool = True

    @classmethod
    def of(cls, model_config) -> TransformerConfig:
        """The block settings of a model config that has the usual fields (d, n_heads, inner,
        hidden_dropout, attn_dropout, use_sdpa); GELU as in BERT/S3Rec/RecBole."""
        c = model_config
        return cls(c.d, c.n_heads, c.inner, c.hidden_dropout, c.attn_dropout, "gelu", c.use_sdpa)


class TransformerLayer(nn.Module):
    """Post-LN block: x = LN(x + drop(MHA(x))); x = LN(x + drop(W2 act(W1 x)))."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.attn = MultiHeadAttention(cfg.d, cfg.n_heads, cfg.attn_dropout, cfg.use_sdpa)
        self.norm1 = nn.LayerNorm(cfg.d, eps=LN_EPS)
        self.ff1 = nn.Linear(cfg.d, cfg.inner)
        self.ff2 = nn.Linear(cfg.inner, cfg.d)
        self.norm2 = nn.LayerNorm(cfg.d, eps=LN_EPS)
        self.dropout = Dropout(cfg.hidden_dropout)
        self.act = {"gelu": F.gelu, "relu": F.relu}[cfg.activation]

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.dropout(self.attn(x, allowed)))
        return self.norm2(x + self.dropout(self.ff2(self.act(self.ff1(x)))))


class TransformerEncoder(nn.Module):
    def __init__(self, cfg: TransformerConfig, n_layers: int):
        super().__init__()
        self.layers = nn.ModuleList(TransformerLayer(cfg) for _ in range(n_layers))

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, allowed)
        return x


def make_layer(kind: str, cfg: TransformerConfig, max_len: int) -> nn.Module:
    """A sequence layer ``forward(x [B, L, d], allowed [B, L, L]) -> [B, L, d]`` by name, so
    that LARES can build its pre-block and core from any baseline's layer."""
    if kind == "transformer":
        return TransformerLayer(cfg)
    if kind in ("fmlp", "bsarec"):  # imported here: freq_layers imports this module
        from baselines.freq_layers import BSARecLayer, FilterLayer

        return FilterLayer(cfg, max_len) if kind == "fmlp" else BSARecLayer(cfg, max_len)
    raise ValueError(f"unknown layer kind {kind!r}; known: transformer, fmlp, bsarec")
