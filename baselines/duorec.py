"""DuoRec (Qiu, Huang, Yin, Wang: "Contrastive Learning for Representation Degeneration Problem
in Sequential Recommendation", WSDM 2022, arXiv 2110.05730).

Architecture: the SASRec encoder of this suite (item + learned position embedding, LayerNorm,
dropout, causal post-LN Transformer blocks with GELU, tied output embedding).

Reference code checked: RuihongQiu/DuoRec (RecBole based) ``recbole/model/sequential_recommender/
duorec.py`` (``calculate_loss``, ``info_nce``, ``mask_correlated_samples``),
``recbole/data/dataset/sequential_dataset.py::semantic_augmentation``,
``recbole/data/dataloader/sequential_dataloader.py::duorec_aug``, ``seq.yaml``, ``duorec.sh``;
and the port in yehjin-shin/BSARec ``src/model/duorec.py`` (same loss).

Training (train_mode "example": RecBole expands every prefix into one example):
  h      = final state of the input                   (dropout pass 1)
  h'     = final state of the same input again        (dropout pass 2: unsupervised view)
  h_s    = final state of a *different* training example with the same target item, drawn
           uniformly per batch (supervised view; the example itself when no other exists)
  loss   = CE(target | h) + contrastive terms by ``contrast``:
    "us_x" (default, the published run): lmd_sem * InfoNCE(h', h_s)   (lmd is unused)
    "us":  lmd * InfoNCE(h, h') + lmd_sem * InfoNCE(h, h_s)
    "un":  lmd * InfoNCE(h, h');   "su": lmd_sem * InfoNCE(h, h_s);   "none": CE only
InfoNCE is the SimCLR NT-Xent over the 2B views of the batch (positive = the paired view,
negatives = the other 2B - 2 views), dot similarity, temperature 1 (cl4srec.nt_xent).

Same-target negatives: the reference masks only the self-similarity and the positive pair
(``mask_correlated_samples``); other in-batch views that share the anchor's target stay
negatives. ``mask_same_target=True`` (off by default, not in the reference) drops them.

Defaults (``seq.yaml``, ``duorec.sh``): d 64, 2 layers, 2 heads, inner 256, dropout 0.5 / 0.5,
lmd 0.1, lmd_sem 0.1, tau 1, dot, "us_x", batch 256, lr 1e-3.

Deviations:
- Full softmax CE over the real items only (the reference also scores the padding row).
- Positions are counted from the newest item (left padding, ``position_mode="end"``, as our
  SASRec); RecBole numbers them from the oldest. ``position_mode="start"`` restores that.
- Partners come from ``SameTargetIndex`` (same rule, built in milliseconds instead of one
  ``np.where`` per example). ``prepare(split)`` (the trainer calls it) builds the index.
- On CPU the training rows run in length groups (``row_groups``, baselines/row_groups.py):
  the same function, other order of dropout draws.
- Early stopping on validation NDCG@10 with patience 10 and at most 200 epochs (protocol.md);
  the reference stops on MRR@10 after at most 50 epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from baselines.base import Batch, SequentialModel
from baselines.cl4srec import nt_xent
from baselines.layers import (
    SequenceEmbedding,
    TransformerConfig,
    TransformerEncoder,
    attention_mask,
    init_bert_weights,
)
from baselines.losses import full_ce
from baselines.registry import register
from baselines.same_target import SameTargetIndex

CONTRAST_MODES = ("us_x", "us", "un", "su", "none")


@dataclass
class DuoRecConfig:
    d: int = 64  # hidden size = embedding size
    n_layers: int = 2
    n_heads: int = 2
    inner: int = 256  # feed-forward width
    hidden_dropout: float = 0.5  # also the source of the unsupervised view
    attn_dropout: float = 0.5
    max_len: int = 50  # set per dataset by the runner (ml-1m: 200)
    contrast: str = "us_x"  # us_x | us | un | su | none (see the module docstring)
    lmd: float = 0.1  # weight of InfoNCE(h, h') in "us" and "un"
    lmd_sem: float = 0.1  # weight of the supervised term ("us", "su", "us_x")
    tau: float = 1.0  # InfoNCE temperature
    sim: str = "dot"  # "dot" | "cos"
    mask_same_target: bool = False  # drop in-batch negatives with the anchor's target (not in ref.)
    position_mode: str = "end"  # see layers.position_ids
    row_groups: str = "auto"  # training rows in length groups (row_groups.py); auto = CPU
    use_sdpa: bool = True  # fused attention; False = eager reference

    def transformer(self) -> TransformerConfig:
        return TransformerConfig.of(self)


@register("duorec", DuoRecConfig, label="DuoRec", train={"length_bucketing": False})
class DuoRec(SequentialModel):
    train_mode = "example"
    causal = True
    row_groupable = True

    def __init__(self, config: DuoRecConfig, n_items: int):
        super().__init__(config, n_items)
        if config.contrast not in CONTRAST_MODES:
            raise ValueError(f"duorec: contrast must be one of {CONTRAST_MODES}")
        self.embed = SequenceEmbedding(
            n_items, config.d, config.max_len, config.hidden_dropout, config.position_mode
        )
        self.encoder = TransformerEncoder(config.transformer(), config.n_layers)
        self.apply(init_bert_weights)
        self._split = None  # set by prepare(): the LeaveOneOutSplit the partners come from
        self.same_target: SameTargetIndex | None = None

    def encode(self, seq: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, d]
        return self.encoder(self.embed(seq), attention_mask(seq, causal=True))

    def item_embeddings(self) -> torch.Tensor:
        return self.embed.item.weight

    def prepare(self, split) -> None:
        """Index the training examples by target (rows of ``split.train_example_ends()``, the
        ids that example-mode batches carry)."""
        self._split = split
        self._ends = split.train_example_ends()  # [N]
        self._users = split.example_users(self._ends)  # [N]
        self.same_target = SameTargetIndex(split.items[self._ends])

    def partner_inputs(self, batch: Batch) -> torch.Tensor:
        """Input windows of same-target partners. [B, L'] (L' = the partners' longest window)."""
        if self.same_target is None or batch.example_ids is None:
            raise RuntimeError("duorec: prepare(split) must run before training (the trainer calls it)")
        partner = self.same_target.sample(batch.example_ids)  # [B] example rows
        return self._split.windows(self._users[partner], self._ends[partner])

    def training_loss(self, batch: Batch) -> torch.Tensor:
        cfg = self.config
        B = batch.inputs.shape[0]
        mode = cfg.contrast
        if mode in ("us_x", "us", "un"):
            # both dropout passes in one batched call; rows get independent dropout masks
            both = self.training_final_state(torch.cat([batch.inputs, batch.inputs]))  # [2B, d]
            h, h_drop = both[:B], both[B:]
        else:
            h = self.training_final_state(batch.inputs)  # [B, d]
        loss = full_ce(h, batch.targets, self.item_embeddings())
        if mode == "none":
            return loss
        groups = batch.targets if cfg.mask_same_target else None
        if mode in ("us_x", "us", "su"):
            h_sem = self.training_final_state(self.partner_inputs(batch))  # [B, d]
        if mode in ("us", "un"):
            loss = loss + cfg.lmd * nt_xent(h, h_drop, cfg.tau, cfg.sim, groups)
        if mode in ("us", "su"):
            loss = loss + cfg.lmd_sem * nt_xent(h, h_sem, cfg.tau, cfg.sim, groups)
        if mode == "us_x":
            loss = loss + cfg.lmd_sem * nt_xent(h_drop, h_sem, cfg.tau, cfg.sim, groups)
        return loss
