"""FMLP-Rec (Zhou, Yu, Zhao, Wen; "Filter-enhanced MLP is All You Need for Sequential
Recommendation", WWW 2022).

Reference code checked: Woeee/FMLP-Rec (f3c4285) ``models.py`` (FMLPRecModel), ``modules.py``
(FilterLayer, Intermediate, Layer), ``datasets.py``, ``trainers.py`` (FMLPRecTrainer).

Architecture: item + learned position embedding, LayerNorm, dropout; ``n_layers`` filter blocks
(freq_layers.FilterLayer: learnable complex filter over the FFT of the sequence, residual +
LayerNorm, then the GELU feed-forward + LayerNorm); the item embedding is tied to the output
layer; the next item is scored from the last position. N(0, 0.02) init, LayerNorm eps 1e-12.

Not causal: the filter mixes every position of the window (see freq_layers.py), so the model
trains in "example" mode, one (prefix -> next item) pair per training target with the loss at the
last position, exactly as the reference does (its training set holds every prefix of s[:n-2]).
Every input is left-padded to exactly ``max_len`` inside ``encode``, because the filter weights
are defined per frequency of a ``max_len`` window (the reference pads every row to max_len too).

Loss: softmax cross-entropy over all items at the last position (``full_ce``).
Augmentations: none.
Defaults (the reference's): d 64, 2 blocks, FFN 4d = 256, GELU, dropout 0.5, max_len 50,
Adam lr 1e-3, batch 256, patience 10.

Deviations:
- Loss: the reference uses BCE with one sampled negative at the last position; we use full CE
  (protocol.md: the same loss for every model).
- Evaluation: the reference reports 99 sampled negatives by default (``--full_sort`` optional);
  we rank all items (protocol.md).
- Padding rows of the input are the same as the reference's (item 0 embedding + position), but
  the batch is padded to max_len here rather than in the data loader; results are identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from baselines.base import Batch, SequentialModel
from baselines.freq_layers import FilterLayer, left_pad
from baselines.layers import SequenceEmbedding, TransformerConfig, init_bert_weights
from baselines.losses import full_ce
from baselines.registry import register


@dataclass
class FMLPRecConfig:
    d: int = 64  # hidden size = embedding size
    n_layers: int = 2  # filter blocks
    inner: int = 256  # feed-forward width (4d, as in the reference)
    hidden_dropout: float = 0.5  # embedding, filter and feed-forward dropout (reference value)
    max_len: int = 50  # set per dataset by the runner (ml-1m: 200); the filter length
    activation: str = "gelu"  # feed-forward activation: "gelu" | "relu"

    def transformer(self) -> TransformerConfig:
        # n_heads / attention dropout are unused by the filter blocks
        return TransformerConfig(self.d, 1, self.inner, self.hidden_dropout, 0.0, self.activation)


@register("fmlprec", FMLPRecConfig, label="FMLP-Rec")
class FMLPRec(SequentialModel):
    train_mode = "example"
    causal = False

    def __init__(self, config: FMLPRecConfig, n_items: int):
        super().__init__(config, n_items)
        self.embed = SequenceEmbedding(
            n_items, config.d, config.max_len, config.hidden_dropout, position_mode="end"
        )
        self.layers = nn.ModuleList(
            FilterLayer(config.transformer(), config.max_len) for _ in range(config.n_layers)
        )
        self.apply(init_bert_weights)  # Linear/Embedding/LayerNorm; the filter keeps its init

    def encode(self, seq: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, d]
        L = seq.shape[1]
        x = self.embed(left_pad(seq, self.config.max_len))  # [B, max_len, d]
        for layer in self.layers:
            x = layer(x)
        return x[:, -L:]

    def item_embeddings(self) -> torch.Tensor:
        return self.embed.item.weight

    def training_loss(self, batch: Batch) -> torch.Tensor:
        hidden = self.encode(batch.inputs)[:, -1]  # [B, d], last position only
        return full_ce(hidden, batch.targets, self.item_embeddings())
