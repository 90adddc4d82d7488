"""SASRec (Kang & McAuley, ICDM 2018), as the S3Rec/RecBole code trains it.

Architecture: item + learned position embedding, LayerNorm, dropout; ``n_layers`` causal
post-LN Transformer blocks (GELU, LayerNorm eps 1e-12, N(0, 0.02) init); the item embedding is
tied to the output layer; the next item is scored from the last position.

Losses:
  "ce"  (default, registry name ``sasrec``): softmax cross-entropy over all items at every real
        position (protocol.md: the fair default for every model).
  "bce" (``sasrec-bce``, "as published"): binary cross-entropy with one uniformly sampled
        negative per position.

Deviations from kang205/SASRec, all following the S3Rec fine-tuning code that produced the
protocol's anchor numbers: post-LN BERT blocks with GELU instead of pre-LN blocks with ReLU
point-wise convolutions; no sqrt(d) embedding scaling; d=64, 2 heads. Negatives for "bce" are
redrawn while they hit an item of the user's training sequence (S3Rec excludes the whole
sequence, test item included; we never look at the held-out items). Training batches group
users of similar length (see training.py), padding each batch only to its longest sequence;
positions stay aligned to the newest item exactly as with padding to max_len.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from baselines.base import Batch, SequentialModel
from baselines.layers import (
    SequenceEmbedding,
    TransformerConfig,
    TransformerEncoder,
    attention_mask,
    init_bert_weights,
)
from baselines.losses import bce_one_negative, full_ce, sample_negatives
from baselines.registry import register


@dataclass
class SASRecConfig:
    d: int = 64  # hidden size = embedding size
    n_layers: int = 2
    n_heads: int = 2
    inner: int = 256  # feed-forward width
    hidden_dropout: float = 0.5  # S3Rec/RecBole value for Amazon data
    attn_dropout: float = 0.5
    max_len: int = 50  # set per dataset by the runner (ml-1m: 200)
    loss: str = "ce"  # "ce" | "bce"
    position_mode: str = "end"  # see layers.position_ids
    use_sdpa: bool = True  # fused attention; False = eager reference

    def transformer(self) -> TransformerConfig:
        return TransformerConfig.of(self)


@register(
    "sasrec",
    SASRecConfig,
    label="SASRec (CE)",
    variants={"sasrec-bce": {"model": {"loss": "bce"}, "label": "SASRec (BCE, 1 neg.)"}},
)
class SASRec(SequentialModel):
    causal = True

    def __init__(self, config: SASRecConfig, n_items: int):
        super().__init__(config, n_items)
        if config.loss not in ("ce", "bce"):
            raise ValueError(f"sasrec: loss must be 'ce' or 'bce', got {config.loss!r}")
        self.embed = SequenceEmbedding(
            n_items, config.d, config.max_len, config.hidden_dropout, config.position_mode
        )
        self.encoder = TransformerEncoder(config.transformer(), config.n_layers)
        self.apply(init_bert_weights)

    def encode(self, seq: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, d]
        return self.encoder(self.embed(seq), attention_mask(seq, causal=True))

    def item_embeddings(self) -> torch.Tensor:
        return self.embed.item.weight

    def training_loss(self, batch: Batch) -> torch.Tensor:
        hidden = self.encode(batch.inputs)  # [B, L, d]
        if self.config.loss == "ce":
            return full_ce(hidden, batch.targets, self.item_embeddings())
        exclude = torch.cat([batch.inputs, batch.targets[:, -1:]], dim=1)
        negatives = sample_negatives(batch.targets, exclude, self.n_items)
        return bce_one_negative(hidden, batch.targets, negatives, self.item_embeddings())
