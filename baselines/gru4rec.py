"""GRU4Rec (Hidasi et al., ICLR 2016; Tan et al., DLRS 2016) as sequential benchmarks use it.

This is the per-user sequence model of RecBole (``recbole/model/sequential_recommender/
gru4rec.py``, checked): item embedding -> dropout -> GRU -> Linear back to the embedding size,
scored against the (tied) item embedding table. It is NOT the session-parallel original
(hidasib/GRU4Rec_PyTorch_Official: session-parallel mini-batches, Adagrad, sampled softmax with
popularity^0.5 negatives or BPR-max, no embedding layer by default); tables label it
"GRU4Rec (CE)" (protocol.md).

Loss: full softmax cross-entropy over all items at every real position of the user's training
sequence (train_mode "sequence"); for a causal model this equals RecBole's one example per
prefix.

Defaults (RecBole): embedding 64, hidden 128, 1 layer, dropout 0.3 on the embeddings, GRU
without biases, xavier-normal embeddings, xavier-uniform GRU weights.

Left padding. A GRU run forwards over ``[0, 0, a, b]`` would update its state at the padding
steps (with biases even zero inputs move it), so the state of ``a`` would depend on the amount
of padding. ``encode`` therefore rolls every row so that its items start at column 0 (padding
moves to the right, after the items, where a forward GRU cannot reach them), runs the GRU and
rolls the outputs back. Any amount of left padding gives the same states (tested).

Deviations from RecBole: the padding row of the embedding is zeroed after the xavier
initialisation (RecBole's init overwrites it; harmless there because it pads on the right);
CE over real items only (RecBole's logits include the padding column); batch 256 (suite
default; RecBole 2048); training batches group users of similar length (training.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from baselines.base import Batch, SequentialModel
from baselines.dropout import Dropout
from baselines.losses import full_ce
from baselines.registry import register


@dataclass
class GRU4RecConfig:
    d: int = 64  # item embedding size (= size of the scored state)
    hidden: int = 128  # GRU hidden size
    n_layers: int = 1
    dropout: float = 0.3  # on the input embeddings (RecBole)
    gru_bias: bool = False  # RecBole builds the GRU without biases


def left_to_right_aligned(seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Roll each left-padded row so that its items start at column 0.

    Returns (right-padded seq [B, L], n_pad [B, 1]). Padding is 0 and only on the left."""
    L = seq.shape[1]
    n_pad = (seq == 0).sum(1, keepdim=True)  # [B, 1]
    idx = (torch.arange(L, device=seq.device) + n_pad) % L  # [B, L]
    return seq.gather(1, idx), n_pad


@register("gru4rec", GRU4RecConfig, label="GRU4Rec (CE)")
class GRU4Rec(SequentialModel):
    causal = True

    def __init__(self, config: GRU4RecConfig, n_items: int):
        super().__init__(config, n_items)
        self.item = nn.Embedding(n_items + 1, config.d, padding_idx=0)
        self.dropout = Dropout(config.dropout)
        self.gru = nn.GRU(
            config.d, config.hidden, config.n_layers, bias=config.gru_bias, batch_first=True
        )
        self.dense = nn.Linear(config.hidden, config.d)
        nn.init.xavier_normal_(self.item.weight)
        with torch.no_grad():
            self.item.weight[0].zero_()
        for name, weight in self.gru.named_parameters():
            if name.startswith("weight_"):
                nn.init.xavier_uniform_(weight)

    def encode(self, seq: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, d]
        right, n_pad = left_to_right_aligned(seq)
        out, _ = self.gru(self.dropout(self.item(right)))  # [B, L, hidden]
        out = self.dense(out)  # [B, L, d]
        # roll back: column i of the left-padded row is column i - n_pad of the aligned one
        L = seq.shape[1]
        back = (torch.arange(L, device=seq.device) - n_pad) % L  # [B, L]
        out = out.gather(1, back.unsqueeze(-1).expand_as(out))
        return out * (seq > 0).unsqueeze(-1)  # padding states are not used; make them 0

    def item_embeddings(self) -> torch.Tensor:
        return self.item.weight

    def training_loss(self, batch: Batch) -> torch.Tensor:
        return full_ce(self.encode(batch.inputs), batch.targets, self.item_embeddings())
