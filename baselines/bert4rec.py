"""BERT4Rec (Sun et al., "BERT4Rec: Sequential Recommendation with Bidirectional Encoder
Representations from Transformer", CIKM 2019).

Reference code checked: FeiSun/BERT4Rec (``run.py`` get_masked_lm_output, ``gen_data_fin.py``,
``bert_train/bert_config_*_64.json``) and RecBole (``recbole/model/sequential_recommender/
bert4rec.py``, the ``MaskItemSequence`` transform in ``recbole/data/transform.py``).

Architecture: item + learned position embedding (a mask token with id n_items + 1),
LayerNorm, dropout; ``n_layers`` bidirectional post-LN Transformer blocks (layers.py, GELU,
N(0, 0.02) init); output head as the original: Linear + GELU + LayerNorm, then logits against
the tied item embeddings plus a per-item output bias.

Training (cloze, train_mode "sequence"): the user's whole training prefix s[:n-2] (last
``max_len`` items; built as cat(inputs, targets[:, -1:]) from the sequence batch, which holds
s[:n-3] and s[1:n-2]) is masked position-wise with probability ``mask_prob``; a row where no
position was drawn gets the position with the smallest random draw masked, so every row
predicts at least one item. With probability ``last_item_mask_prob`` a row
instead masks only its last item (the test-time situation). Loss: softmax cross-entropy over
all real items at the masked positions only.

Inference: the history truncated to its last max_len - 1 items, then the mask token; the
mask position's output scores the next item. The padding and mask-token columns are -inf.

Defaults: d 64, 2 layers, 2 heads, inner 256, dropout 0.2 / 0.2 (RecBole; the original's
Beauty run used hidden dropout 0.5), mask_prob 0.2 (RecBole and the original's ML-1M setting;
the original used 0.6 on Beauty), last_item_mask_prob 0, Adam
lr 1e-3, and a long schedule (400 epochs, patience 40): BERT4Rec converges slowly and is often
reported under-trained (its converged ML-1M full-ranking NDCG@10 is about 0.15, protocol.md).

Deviations: no ``dupe_factor`` copies or sliding windows of the original's data generator (new
masks are drawn every epoch instead); no 80/10/10 replacement (every chosen position becomes
the mask token, as RecBole); at least one masked position per row (the original may draw none);
``last_item_mask_prob`` is per row, RecBole's ``ft_ratio`` (0.5 in its default config) decides
per batch; Adam at 1e-3 without warm-up or decay (the original: 1e-4 with 100 warm-up steps and
linear decay over 400k steps); users whose training prefix has a single item are skipped by the
sequence batcher (nothing to predict from); left padding with positions counted back from the
newest item (layers.position_ids "end"), so the mask token always sits at position max_len - 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines.base import Batch, SequentialModel
from baselines.layers import (
    LN_EPS,
    SequenceEmbedding,
    TransformerConfig,
    TransformerEncoder,
    attention_mask,
    init_bert_weights,
)
from baselines.registry import register


@dataclass
class BERT4RecConfig:
    d: int = 64  # hidden size = embedding size
    n_layers: int = 2
    n_heads: int = 2
    inner: int = 256  # feed-forward width
    hidden_dropout: float = 0.2  # RecBole / original (ML-1M)
    attn_dropout: float = 0.2
    max_len: int = 50  # set per dataset by the runner (ml-1m: 200); includes the mask slot
    mask_prob: float = 0.2  # cloze masking probability per position (original Beauty: 0.6)
    last_item_mask_prob: float = 0.0  # fraction of rows that mask only their last item
    position_mode: str = "end"  # see layers.position_ids
    use_sdpa: bool = True  # fused attention; False = eager reference

    def transformer(self) -> TransformerConfig:
        return TransformerConfig.of(self)


@register(
    "bert4rec", BERT4RecConfig, label="BERT4Rec", train={"epochs": 400, "patience": 40}
)
class BERT4Rec(SequentialModel):
    causal = False

    def __init__(self, config: BERT4RecConfig, n_items: int):
        super().__init__(config, n_items)
        if not 0.0 < config.mask_prob <= 1.0:
            raise ValueError(f"bert4rec: mask_prob must lie in (0, 1], got {config.mask_prob}")
        if config.max_len < 2:
            raise ValueError("bert4rec: max_len must be >= 2 (history + the mask slot)")
        self.mask_id = n_items + 1
        self.embed = SequenceEmbedding(
            n_items, config.d, config.max_len, config.hidden_dropout, config.position_mode,
            extra_tokens=1,
        )
        self.encoder = TransformerEncoder(config.transformer(), config.n_layers)
        # output head of the original: transform (dense + GELU + LayerNorm), tied weights + bias
        self.head = nn.Sequential(
            nn.Linear(config.d, config.d), nn.GELU(), nn.LayerNorm(config.d, eps=LN_EPS)
        )
        self.out_bias = nn.Parameter(torch.zeros(n_items + 2))
        self.apply(init_bert_weights)

    def encode(self, seq: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, d]
        return self.encoder(self.embed(seq), attention_mask(seq, causal=False))

    def item_embeddings(self) -> torch.Tensor:
        return self.embed.item.weight  # [n_items + 2, d], last row = mask token

    # --- training -------------------------------------------------------------------------
    def training_prefix(self, batch: Batch) -> torch.Tensor:
        """The user's training prefix s[:n-2] (last max_len items), left-padded. [B, <=max_len]"""
        prefix = torch.cat([batch.inputs, batch.targets[:, -1:]], dim=1)
        return prefix[:, -self.config.max_len :]

    def cloze(self, seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Random cloze masking of a left-padded batch: (masked input, labels), labels 0 at
        positions that are not masked. [B, L] -> ([B, L], [B, L])"""
        real = seq > 0
        draw = torch.rand(seq.shape, device=seq.device).masked_fill(~real, 2.0)  # [B, L]
        masked = draw < self.config.mask_prob
        # rows that drew no position: mask the one with the smallest draw (always a real item)
        none = ~masked.any(1, keepdim=True)
        masked |= none & (draw == draw.min(1, keepdim=True).values)
        if self.config.last_item_mask_prob > 0:
            p_last = self.config.last_item_mask_prob
            last_only = torch.rand(len(seq), 1, device=seq.device) < p_last  # [B, 1]
            only_last = torch.zeros_like(masked)
            only_last[:, -1] = True  # column -1 is the newest (always real) item
            masked = torch.where(last_only, only_last, masked)
        masked_seq = seq.masked_fill(masked, self.mask_id)
        labels = seq.masked_fill(~masked, 0)
        return masked_seq, labels

    def cloze_loss(self, masked_seq: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """CE over all real items at the mask-token positions only (their labels)."""
        sel = masked_seq == self.mask_id  # [B, L]
        h = self.head(self.encode(masked_seq)[sel])  # [N, d]
        n = self.n_items
        logits = h @ self.embed.item.weight[1 : n + 1].T + self.out_bias[1 : n + 1]  # [N, n]
        return F.cross_entropy(logits.float(), labels[sel] - 1)

    def training_loss(self, batch: Batch) -> torch.Tensor:
        return self.cloze_loss(*self.cloze(self.training_prefix(batch)))

    # --- inference ------------------------------------------------------------------------
    def with_mask_slot(self, seq: torch.Tensor) -> torch.Tensor:
        """History (last max_len - 1 items) followed by the mask token. [B, <=max_len]"""
        hist = seq[:, -(self.config.max_len - 1) :]
        slot = torch.full((len(seq), 1), self.mask_id, dtype=seq.dtype, device=seq.device)
        return torch.cat([hist, slot], dim=1)

    def final_state(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.encode(self.with_mask_slot(seq))[:, -1])  # [B, d]

    def scores(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        s = self.final_state(seq) @ self.embed.item.weight.T + self.out_bias  # [B, n_items + 2]
        s[:, 0] = float("-inf")
        s[:, self.mask_id] = float("-inf")
        return s
