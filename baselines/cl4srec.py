"""CL4SRec (Xie, Sun, Liu, Wu, Gao, Ding, Cui: "Contrastive Learning for Sequential
Recommendation", ICDE 2022, arXiv 2010.14395).

Architecture: the SASRec encoder of this suite (item + learned position embedding, LayerNorm,
dropout, causal post-LN Transformer blocks with GELU, tied output embedding) with one extra
embedding row, the mask token ``n_items + 1``, used only by the mask augmentation.

Reference code checked: the authors released none. We follow the CL4SRec that the DuoRec
authors implemented on RecBole and used as their baseline (RuihongQiu/DuoRec,
``recbole/model/sequential_recommender/cl4srec.py``, ``recbole/data/dataloader/
sequential_dataloader.py::cl4srec_aug``, ``recbole/properties/model/CL4SRec.yaml``, ``seq.yaml``),
so that CL4SRec and DuoRec are trained the same way. Also read: JamZheng/CL4SRec-pytorch (BCE at
every position, contrast on the concatenated states of all positions, crop 0.6 / mask 0.5 /
reorder 0.2).

Training (train_mode "example", as RecBole expands every prefix into one example):
  loss = CE(next item | final state of the input)
         + lambda * NT-Xent(final state of view 1, final state of view 2)
Each view is the input window under one augmentation; the two views of a row use two different
augmentations drawn uniformly from {crop, mask, reorder} (see augment.py). NT-Xent (SimCLR) is
computed over the 2B views of the batch: the other view of the same row is the positive, the
other 2B - 2 views are negatives; dot similarity, temperature 1.

Defaults (DuoRec repo's CL4SRec): d 64, 2 layers, 2 heads, inner 256, dropout 0.5 / 0.5,
crop eta 0.6 (keep 60%), mask gamma 0.3, reorder beta 0.6, lambda 0.1, tau 1, batch 256, lr 1e-3.
The paper sweeps eta, gamma and beta over 0.1 ... 0.9 per dataset; we did not confirm a single
"paper default" from its text, so the defaults are the reference code's.

Deviations:
- Full softmax CE over the real items only (the reference also scores the padding row).
- Positions are counted from the newest item (left padding, ``position_mode="end"``, as our
  SASRec); RecBole numbers them from the oldest. ``position_mode="start"`` restores that.
- A crop always keeps at least one item (the reference yields an empty sequence when
  floor(n * eta) = 0, possible only for eta < 0.5).
- Augmentations are vectorised on the device instead of a per-sample Python loop; the draws
  (uniform offsets, uniform subsets, uniform shuffles) have the same distributions.
- The original input and both views go through the encoder in one batched pass (independent
  dropout masks per row, as with three passes).
- On CPU the training rows run in length groups (``row_groups``, baselines/row_groups.py):
  the same function, other order of dropout draws.
- Early stopping on validation NDCG@10 with patience 10 and at most 200 epochs (protocol.md);
  the reference stops on MRR@10 after at most 50 epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from baselines.augment import two_views
from baselines.base import Batch, SequentialModel
from baselines.layers import (
    SequenceEmbedding,
    TransformerConfig,
    TransformerEncoder,
    attention_mask,
    init_bert_weights,
)
from baselines.losses import full_ce
from baselines.registry import register


def nt_xent(
    z1: torch.Tensor,
    z2: torch.Tensor,
    tau: float = 1.0,
    sim: str = "dot",
    groups: torch.Tensor | None = None,
) -> torch.Tensor:
    """SimCLR NT-Xent over 2B views: row i of ``z1`` [B, d] and row i of ``z2`` [B, d] are a
    positive pair; every other view in the batch is a negative (2B - 2 per anchor).

    Equal to the reference ``info_nce`` + CrossEntropy (positive logit first, then the 2B - 2
    negatives) since dropping the self-similarity column leaves exactly those logits.
    ``groups`` [B] (optional): also drop negatives whose group equals the anchor's (e.g. the
    same target item: false negatives)."""
    B = z1.shape[0]
    z = torch.cat([z1, z2]).float()  # [2B, d]
    if sim == "cos":
        z = F.normalize(z, dim=-1)
    elif sim != "dot":
        raise ValueError(f"sim must be 'dot' or 'cos', got {sim!r}")
    logits = z @ z.T / tau  # [2B, 2B]
    idx = torch.arange(2 * B, device=z.device)
    positive = (idx + B) % (2 * B)  # [2B] column of each anchor's positive
    drop = torch.eye(2 * B, dtype=torch.bool, device=z.device)
    if groups is not None:
        g = torch.cat([groups, groups])
        same = (g.unsqueeze(0) == g.unsqueeze(1)) & (idx.unsqueeze(0) != positive.unsqueeze(1))
        drop = drop | same
    return F.cross_entropy(logits.masked_fill(drop, float("-inf")), positive)


@dataclass
class CL4SRecConfig:
    d: int = 64  # hidden size = embedding size
    n_layers: int = 2
    n_heads: int = 2
    inner: int = 256  # feed-forward width
    hidden_dropout: float = 0.5
    attn_dropout: float = 0.5
    max_len: int = 50  # set per dataset by the runner (ml-1m: 200)
    crop_eta: float = 0.6  # fraction of the items a crop keeps
    mask_gamma: float = 0.3  # fraction of the items a mask replaces by the mask token
    reorder_beta: float = 0.6  # fraction of the items in the shuffled run
    cl_weight: float = 0.1  # lambda, weight of the contrastive loss (0 = SASRec on examples)
    tau: float = 1.0  # NT-Xent temperature
    sim: str = "dot"  # "dot" | "cos"
    position_mode: str = "end"  # see layers.position_ids
    row_groups: str = "auto"  # training rows in length groups (row_groups.py); auto = CPU
    use_sdpa: bool = True  # fused attention; False = eager reference

    def transformer(self) -> TransformerConfig:
        return TransformerConfig.of(self)


@register("cl4srec", CL4SRecConfig, label="CL4SRec", train={"length_bucketing": False})
class CL4SRec(SequentialModel):
    train_mode = "example"
    causal = True
    row_groupable = True

    def __init__(self, config: CL4SRecConfig, n_items: int):
        super().__init__(config, n_items)
        for name in ("crop_eta", "mask_gamma", "reorder_beta"):
            if not 0.0 <= getattr(config, name) <= 1.0:
                raise ValueError(f"cl4srec: {name} must lie in [0, 1]")
        self.mask_id = n_items + 1
        self.embed = SequenceEmbedding(
            n_items, config.d, config.max_len, config.hidden_dropout, config.position_mode,
            extra_tokens=1,
        )
        self.encoder = TransformerEncoder(config.transformer(), config.n_layers)
        self.apply(init_bert_weights)

    def encode(self, seq: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, d]
        return self.encoder(self.embed(seq), attention_mask(seq, causal=True))

    def item_embeddings(self) -> torch.Tensor:  # [n_items + 1, d], without the mask token
        return self.embed.item.weight[: self.n_items + 1]

    def training_loss(self, batch: Batch) -> torch.Tensor:
        cfg = self.config
        B = batch.inputs.shape[0]
        if cfg.cl_weight <= 0:
            return full_ce(self.training_final_state(batch.inputs), batch.targets,
                           self.item_embeddings())
        v1, v2 = two_views(
            batch.inputs, cfg.crop_eta, cfg.mask_gamma, cfg.reorder_beta, self.mask_id
        )
        h = self.training_final_state(torch.cat([batch.inputs, v1, v2]))  # [3B, d]
        loss = full_ce(h[:B], batch.targets, self.item_embeddings())
        return loss + cfg.cl_weight * nt_xent(h[B : 2 * B], h[2 * B :], cfg.tau, cfg.sim)
