"""BSARec (Shin, Choi, Wi, Park; "An Attentive Inductive Bias for Sequential Recommendation
beyond the Self-Attention", AAAI 2024).

Reference code checked: yehjin-shin/BSARec (34036fd) ``src/model/bsarec.py`` (BSARecModel,
BSARecEncoder), ``src/model/_modules.py`` (FrequencyLayer, BSARecLayer, BSARecBlock,
MultiHeadAttention, FeedForward), ``src/model/_abstract_model.py``, ``src/utils.py`` (defaults)
and the README's Beauty command.

Architecture: item + learned position embedding, LayerNorm, dropout; ``n_layers`` BSARec blocks
(freq_layers.BSARecLayer: alpha * frequency rescaler + (1 - alpha) * causal self-attention, each
with its own residual + LayerNorm, then the GELU feed-forward + LayerNorm); tied item embedding;
the next item is scored from the last position. N(0, 0.02) init, LayerNorm eps 1e-12.

Not causal: the frequency rescaler mixes every position of the window (see freq_layers.py), so
the model trains in "example" mode, one (prefix -> next item) pair per target with the loss at the
last position, as the reference does. Inputs are left-padded to exactly ``max_len`` in ``encode``.

Loss: softmax cross-entropy over all items at the last position (the reference's loss too).
Augmentations: none.
Defaults = the published Beauty run (README): 2 blocks, 1 head, alpha 0.7, c 5, Adam lr 5e-4
(registry train default), batch 256; d 64, FFN 4d, dropout 0.5 / 0.5, max_len 50, patience 10.
The repository's argparse defaults (used for datasets without a published command) are 2 heads,
alpha 0.9, c 3, lr 1e-3; set them with ``--set model.n_heads=2`` etc.

Deviations:
- Padding rows attend only to themselves (layers.attention_mask). In the reference the additive
  mask gives a padding query the same -10000 on every key, so it attends to the whole window,
  later items included; padding states then enter the next block's FFT. Real rows see exactly
  the same keys in both.
- The padding item (row 0) is not a candidate of the softmax (the reference includes it).
- Evaluation: full ranking with the history mask of protocol.md (the reference sets the scores of
  history items to 0 rather than -inf).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from baselines.base import Batch, SequentialModel
from baselines.freq_layers import BSARecLayer, left_pad
from baselines.layers import (
    SequenceEmbedding,
    TransformerConfig,
    attention_mask,
    init_bert_weights,
)
from baselines.losses import full_ce
from baselines.registry import register


@dataclass
class BSARecConfig:
    d: int = 64  # hidden size = embedding size
    n_layers: int = 2  # BSARec blocks
    n_heads: int = 1  # Beauty run (argparse default 2)
    inner: int = 256  # feed-forward width (4d, as in the reference)
    hidden_dropout: float = 0.5
    attn_dropout: float = 0.5
    alpha: float = 0.7  # weight of the frequency rescaler vs attention (Beauty; default 0.9)
    c: int = 5  # low-pass keeps c // 2 + 1 frequency bins (Beauty; default 3)
    max_len: int = 50  # set per dataset by the runner (ml-1m: 200); the filter length
    activation: str = "gelu"
    use_sdpa: bool = True  # fused attention; False = eager reference

    def transformer(self) -> TransformerConfig:
        return TransformerConfig(
            self.d, self.n_heads, self.inner, self.hidden_dropout, self.attn_dropout,
            self.activation, self.use_sdpa,
        )


@register("bsarec", BSARecConfig, label="BSARec", train={"lr": 5e-4})
class BSARec(SequentialModel):
    train_mode = "example"
    causal = False

    def __init__(self, config: BSARecConfig, n_items: int):
        super().__init__(config, n_items)
        self.embed = SequenceEmbedding(
            n_items, config.d, config.max_len, config.hidden_dropout, position_mode="end"
        )
        self.layers = nn.ModuleList(
            BSARecLayer(config.transformer(), config.max_len, config.alpha, config.c)
            for _ in range(config.n_layers)
        )
        self.apply(init_bert_weights)  # Linear/Embedding/LayerNorm; beta keeps its N(0, 1) init

    def encode(self, seq: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, d]
        L = seq.shape[1]
        full = left_pad(seq, self.config.max_len)  # [B, max_len]
        x, allowed = self.embed(full), attention_mask(full, causal=True)
        for layer in self.layers:
            x = layer(x, allowed)
        return x[:, -L:]

    def item_embeddings(self) -> torch.Tensor:
        return self.embed.item.weight

    def training_loss(self, batch: Batch) -> torch.Tensor:
        hidden = self.encode(batch.inputs)[:, -1]  # [B, d], last position only
        return full_ce(hidden, batch.targets, self.item_embeddings())
