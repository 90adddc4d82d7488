"""Caser (Tang & Wang, "Personalized Top-N Sequential Recommendation via Convolutional Sequence
Embedding", WSDM 2018).

Reference code checked: graytowne/caser_pytorch (``caser.py``, ``interactions.py``,
``train_caser.py``). The last ``L`` items form an L x d "image" E. Horizontal filters of
heights 1..L (``nh`` per height, ReLU, max-pooled over time) and ``nv`` vertical filters
(L x 1, linear) read it; their outputs are concatenated, dropped out and mapped by an FC layer
with ReLU to z [d]. The prediction layer scores item i from [z; P_u] (P_u a user embedding) with
its OWN output embedding W2_i [2d] and bias b2_i, as the paper does; so ``scores`` is overridden
and ``final_state`` is [z; P_u] of size 2d.

Loss: full softmax cross-entropy over all items, one example per training target (train_mode
"example": the L items before the target, left-padded with 0 when fewer exist).

Defaults: L 5, nv 4, nh 16, dropout 0.5, ReLU for the convolutions and the FC layer, Adam
weight decay 1e-6 and batch 512 (graytowne); d 64 (suite default; graytowne 50). Init as
graytowne: user and item embeddings N(0, 1/d), W2 N(0, 1/2d), b2 = 0, PyTorch defaults for the
convolutions and the FC layer. The padding item 0 has a learned embedding (graytowne pads with
item 0 of an embedding without padding_idx).

The user embedding is sized from the data: ``n_users`` = 0 (the default) creates it in
``prepare(split)``, which the trainer calls before building the optimiser; tests set it
directly.

Deviations from graytowne: T = 1 target per example with full CE instead of T = 3 targets and
BCE with 3 sampled negatives per target; windows come from our leave-one-out training prefixes
(graytowne: its own split, sliding windows of L + T); 200 epochs with early stopping instead of
50 fixed iterations.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines.base import Batch, SequentialModel
from baselines.dropout import Dropout
from baselines.registry import register


@dataclass
class CaserConfig:
    d: int = 64  # item/user embedding size (graytowne: 50)
    L: int = 5  # number of most recent items read by the convolutions
    nv: int = 4  # vertical filters
    nh: int = 16  # horizontal filters per height 1..L
    dropout: float = 0.5  # before the FC layer
    n_users: int = 0  # user embedding rows; 0 = take the split's user count in prepare()


@register(
    "caser", CaserConfig, label="Caser", train={"batch_size": 512, "weight_decay": 1e-6}
)
class Caser(SequentialModel):
    train_mode = "example"

    def __init__(self, config: CaserConfig, n_items: int):
        super().__init__(config, n_items)
        d, L = config.d, config.L
        self.item = nn.Embedding(n_items + 1, d)
        self.conv_v = nn.Conv2d(1, config.nv, (L, 1))
        self.conv_h = nn.ModuleList(nn.Conv2d(1, config.nh, (h, d)) for h in range(1, L + 1))
        self.fc = nn.Linear(config.nv * d + config.nh * L, d)
        self.dropout = Dropout(config.dropout)
        self.out_item = nn.Embedding(n_items + 1, 2 * d)  # W2
        self.out_bias = nn.Embedding(n_items + 1, 1)  # b2
        self.item.weight.data.normal_(0.0, 1.0 / d)
        self.out_item.weight.data.normal_(0.0, 1.0 / (2 * d))
        self.out_bias.weight.data.zero_()
        self.user: nn.Embedding | None = None
        if config.n_users > 0:
            self._make_user_embedding(config.n_users, self.item.weight.device)

    def _make_user_embedding(self, n_users: int, device: torch.device) -> None:
        self.user = nn.Embedding(n_users, self.config.d, device=device)
        self.user.weight.data.normal_(0.0, 1.0 / self.config.d)

    def prepare(self, split) -> None:
        if self.user is None:
            self._make_user_embedding(split.n_users, split.device)
        elif self.user.num_embeddings != split.n_users:
            raise ValueError(
                f"caser: n_users = {self.user.num_embeddings} but the split has {split.n_users}"
            )

    def window(self, seq: torch.Tensor) -> torch.Tensor:
        """The last L columns, left-padded with 0 when the input is narrower. [B, L]"""
        L = self.config.L
        if seq.shape[1] < L:
            seq = F.pad(seq, (L - seq.shape[1], 0))
        return seq[:, -L:]

    def final_state(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        if self.user is None or users is None:
            raise RuntimeError("caser needs user rows and a user embedding (call prepare(split))")
        E = self.item(self.window(seq)).unsqueeze(1)  # [B, 1, L, d]
        out_v = self.conv_v(E).flatten(1)  # [B, nv * d]
        pooled = []
        for conv in self.conv_h:
            h = F.relu(conv(E).squeeze(3))  # [B, nh, L - height + 1]
            pooled.append(h.amax(dim=2))  # max-pool over time: [B, nh]
        z = F.relu(self.fc(self.dropout(torch.cat([out_v, *pooled], dim=1))))  # [B, d]
        return torch.cat([z, self.user(users)], dim=1)  # [B, 2d]

    def encode(self, seq: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("caser has no per-position states; use final_state(seq, users)")

    def item_embeddings(self) -> torch.Tensor:
        return self.item.weight  # input embeddings; the output layer is out_item / out_bias

    def logits(self, state: torch.Tensor) -> torch.Tensor:  # [B, 2d] -> [B, n_items + 1]
        return state @ self.out_item.weight.T + self.out_bias.weight.T

    def scores(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        s = self.logits(self.final_state(seq, users))
        s[:, 0] = float("-inf")
        return s

    def training_loss(self, batch: Batch) -> torch.Tensor:
        logits = self.logits(self.final_state(batch.inputs, batch.users))  # [B, n_items + 1]
        return F.cross_entropy(logits[:, 1:].float(), batch.targets - 1)
