"""ReaRec (Tang et al., "Think before Recommend: Unleashing the Latent Reasoning Power for
Sequential Recommendation", arXiv 2503.22675), ERL and PRL.

Reference code checked: TangJiakai/ReaRec (929ce6c) ``src/models/ERL.py``, ``src/models/PRL.py``
(class ReaSASRec), ``src/helpers/BaseRunner.py``; its ``src/utils/layers.py`` (TransformerEncoder,
ReaRecAutoRegressiveWrapper) is not stored under that repository in our index, so it was read
from an indexed copy of the same file (same ``utils.constants`` import and class signatures).

Architecture: a causal SASRec encoder (post-LN blocks, GELU, LayerNorm eps 1e-12, N(0, 0.02)
init) over item + position embeddings (LayerNorm, dropout 0.2), positions counted from the oldest
real item. Then K reasoning steps: the last hidden state h_{k-1} plus a learned reasoning-position
embedding RPE[k-1] goes through the same embedding LayerNorm and dropout and is appended as a new
token; the causal encoder runs over the extended sequence (keys/values of the earlier positions
cached, as in the reference) and its last output is h_k. The step
states are h_0 (the sequence's last position) ... h_K. Scores are tied to the item embedding.
  ERL: the representation is mean(h_0 .. h_K) (h_0 included, as in the reference).
  PRL: the representation is h_K.

Losses (logits divided by ``temperature`` 0.07, as in the reference):
  ERL: CE(mean state) - kl_weight * mean_{i != j} KL(p_j || sg(p_i)), p_k = softmax(h_k E^T / tau):
       the KL term is subtracted, i.e. the step distributions are pushed apart (diversity); the
       reference detaches the log-probabilities of the first argument (sg).
  PRL: CE(h_K / tau) + pl_weight * mean_{k<K} CE(h_k / tau_k) with the progressive temperatures
       tau_k = tau * temp_scale^(K - k) (earlier steps softer); after ``warmup_epochs`` a second,
       noisy copy of the batch is run (its own dropout, and Gaussian noise of std ``noise_std`` on
       each reasoning token derived from the clean states) and cl_weight * InfoNCE pairs each
       noisy step state h'_k (k >= 1) with the clean h_k of the same user against the other users
       of the batch (temperature tau).
Training: "example" mode (one prefix -> next item per target, loss at the last position), as
the reference's reader does. Augmentations: PRL's noisy view only.
Defaults (the reference's argparse values unless noted): 2 layers, 2 heads, dropout 0.5 / 0.5,
embedding dropout 0.2, K 2, tau 0.07, kl_weight 0.05, temp_scale 5, pl_weight 1, noise 0.01,
cl_weight 1, warmup 2 epochs, Adam lr 1e-3, batch 2048 (registry train default), patience 10.

Deviations:
- d 64 and FFN 256 (the project default) instead of the reference's 256 and 300.
- Blocks are post-LN as in the layers file we could read (reference_defaults.md repeats ManCAR's
  claim that ReaRec uses pre-norm; the code we read does not).
- The padding item is not a softmax candidate (the reference's padding row is).
- PRL: the InfoNCE term is added only once the noise is on (epoch > warmup_epochs); the reference
  would fail in that case (``cl_loss`` undefined), so its published runs cannot tell us more.
- On CPU the training rows run in length groups (``row_groups``, baselines/row_groups.py):
  the same function, other order of dropout and noise draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from baselines.base import Batch, SequentialModel
from baselines.dropout import attend
from baselines.layers import (
    SequenceEmbedding,
    TransformerConfig,
    TransformerEncoder,
    TransformerLayer,
    attention_mask,
    init_bert_weights,
)
from baselines.losses import full_ce
from baselines.registry import register
from baselines.row_groups import grouped_rows, row_groups_on


def cached_block(
    layer: TransformerLayer,
    x: torch.Tensor,
    allowed: torch.Tensor,
    cache: tuple[torch.Tensor, torch.Tensor] | None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """``layer`` (a post-LN layers.TransformerLayer) over the new positions x [B, n, d], which
    attend to the cached keys/values of the earlier positions and to themselves.
    allowed: [B, n, n_cached + n]. Returns (output [B, n, d], updated (keys, values))."""
    attn = layer.attn
    B, n, d = x.shape
    # [B, H, n, head_dim] each
    q, k, v = attn.qkv(x).view(B, n, 3, attn.n_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
    if cache is not None:
        k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
    p = attn.attn_dropout if layer.training else 0.0
    ctx = attend(q, k, v, allowed.unsqueeze(1), p, attn.use_sdpa)
    x = layer.norm1(x + layer.dropout(attn.out(ctx.transpose(1, 2).reshape(B, n, d))))
    return layer.norm2(x + layer.dropout(layer.ff2(layer.act(layer.ff1(x))))), (k, v)


class PairwiseStepKL(torch.autograd.Function):
    """sum over rows b and ordered step pairs i != j of KL(p_bj || sg(p_bi)), p = softmax(logits),
    logits [B, T, N]; ERL's step-diversity term before its mean.

    For step j the pairs sum to sum_n p_jn c_jn with c_j = T log p_j - sum_i log p_i. Its
    gradient with respect to the logits z_j is p_j * (c_j - <p_j, c_j>): the log p_i are
    stopped (sg) and the gradient of sum_n p_jn log p_jn through log p_jn is
    sum_n p_jn d(log p_jn) = 0 for a softmax, so c_j acts as a constant. The forward pass
    computes that gradient from the tensors it has anyway and keeps only it, so the backward
    pass is one product, instead of autograd's backward through the pairwise products, the
    exponential and the log-softmax (recomputed exponentials): fewer passes over the
    [B, T, n_items] tensor (results/benchmarks/cpu_2026-12-07-rearec/). Tested against the KL
    written out, values and gradients (tests/test_rearec.py)."""

    @staticmethod
    def forward(ctx, logits: torch.Tensor) -> torch.Tensor:
        T = logits.shape[1]
        logp = logits.log_softmax(-1)  # [B, T, N]
        c = torch.mul(logp, T).sub_(logp.sum(1, keepdim=True))  # [B, T, N]
        p = logp.exp_()  # the log-probabilities are not needed again
        kl = torch.linalg.vecdot(p, c).unsqueeze(-1)  # [B, T, 1]: sum over i != j, per j
        ctx.save_for_backward(c.sub_(kl).mul_(p))  # d(sum)/d logits
        return kl.sum()

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:
        (grad,) = ctx.saved_tensors
        return grad * grad_out


@dataclass
class ReaRecConfig:
    d: int = 64  # hidden size = embedding size (reference: 256)
    n_layers: int = 2
    n_heads: int = 2
    inner: int = 256  # feed-forward width (reference: 300 for d = 256)
    hidden_dropout: float = 0.5
    attn_dropout: float = 0.5
    emb_dropout: float = 0.2  # dropout after the embedding LayerNorm, also on reasoning tokens
    max_len: int = 50  # set per dataset by the runner (ml-1m: 200)
    method: str = "erl"  # "erl" (ensemble of step states) | "prl" (progressive, last step)
    reason_steps: int = 2  # K, reasoning tokens appended after the sequence
    temperature: float = 0.07  # tau, divides every logit of the losses
    kl_weight: float = 0.05  # ERL: weight of the (subtracted) step-diversity KL
    temp_scale: float = 5.0  # PRL: step k uses tau * temp_scale^(K - k)
    pl_weight: float = 1.0  # PRL: weight of the CE of the earlier steps
    noise_std: float = 0.01  # PRL: Gaussian noise on the noisy view's reasoning tokens
    cl_weight: float = 1.0  # PRL: weight of the noisy/clean InfoNCE
    warmup_epochs: int = 2  # PRL: the noisy view starts after this many epochs
    use_sdpa: bool = True  # fused attention in ``encode``; the reasoning steps always use SDPA
    row_groups: str = "auto"  # training rows in length groups (row_groups.py); auto = CPU

    def transformer(self) -> TransformerConfig:
        return TransformerConfig.of(self)


@register(
    "rearec-erl",
    ReaRecConfig,
    label="ReaRec-ERL",
    train={"batch_size": 2048},
    variants={
        "rearec-prl": {
            "model": {"method": "prl"},
            "train": {"length_bucketing": False},  # in-batch InfoNCE: random batches
            "label": "ReaRec-PRL",
        }
    },
)
class ReaRec(SequentialModel):
    train_mode = "example"
    causal = True  # for the base states h_0; the step states only append tokens
    row_groupable = True

    def __init__(self, config: ReaRecConfig, n_items: int):
        super().__init__(config, n_items)
        if config.method not in ("erl", "prl"):
            raise ValueError(f"rearec: method must be 'erl' or 'prl', got {config.method!r}")
        if config.reason_steps < 0:
            raise ValueError(f"rearec: reason_steps must be >= 0, got {config.reason_steps}")
        self.embed = SequenceEmbedding(
            n_items, config.d, config.max_len, config.emb_dropout, position_mode="start"
        )
        self.encoder = TransformerEncoder(config.transformer(), config.n_layers)
        K = config.reason_steps
        self.reason_pos = nn.Embedding(K, config.d) if K > 0 else None
        self.apply(init_bert_weights)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def encode(self, seq: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, L, d], base states
        return self.encoder(self.embed(seq), attention_mask(seq, causal=True))

    def item_embeddings(self) -> torch.Tensor:
        return self.embed.item.weight

    def reason(self, seq: torch.Tensor, noisy: bool = False):
        """Step states (clean [B, K+1, d], noisy [B, K+1, d] or None). With ``noisy`` the batch
        is run twice; the second copy's reasoning tokens are the clean ones plus noise.

        Keys and values of every layer are cached, so a step runs the blocks over its one new
        token (as the reference does); equal to re-running the causal encoder over the extended
        sequence (tested), and the earlier positions keep their dropout masks across steps."""
        B = seq.shape[0]
        K = self.config.reason_steps
        copies = 2 if noisy else 1
        seq = seq.repeat(copies, 1)  # [cB, L]
        x = self.embed(seq)  # [cB, L, d]; each copy draws its own dropout
        caches: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(self.encoder.layers)
        keys_ok = seq > 0  # [cB, L + k]: keys a reasoning token may attend to
        allowed = attention_mask(seq, causal=True)  # [cB, L, L]
        states = []
        for k in range(K + 1):
            for i, layer in enumerate(self.encoder.layers):
                x, caches[i] = cached_block(layer, x, allowed, caches[i])
            states.append(x[:, -1])  # [cB, d]
            if k == K:
                break
            token = x[:B, -1] + self.reason_pos.weight[k]  # [B, d], from the clean copy
            if noisy:
                token = torch.cat([token, token + self.config.noise_std * torch.randn_like(token)])
            x = self.embed.dropout(self.embed.norm(token)).unsqueeze(1)  # [cB, 1, d]
            keys_ok = torch.cat([keys_ok, torch.ones_like(keys_ok[:, :1])], dim=1)
            allowed = keys_ok.unsqueeze(1)  # [cB, 1, L + k + 1]
        out = torch.stack(states, dim=1)  # [cB, K+1, d]
        return (out[:B], out[B:]) if noisy else (out, None)

    def training_reason(self, seq: torch.Tensor, noisy: bool = False):
        """``reason`` of training rows, in length groups when ``row_groups`` is on for this
        device (row_groups.py: the same function; the reasoning tokens' positions do not
        depend on the padding)."""
        if not row_groups_on(self.config.row_groups, seq.device):
            return self.reason(seq, noisy)
        return grouped_rows(lambda s: self.reason(s, noisy), seq)  # (clean, noisy or None)

    def final_state(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        states, _ = self.reason(seq)  # [B, K+1, d]
        return states.mean(1) if self.config.method == "erl" else states[:, -1]

    def step_temperatures(self) -> torch.Tensor:
        """PRL's tau_k = tau * temp_scale^(K - k) for k = 0..K. [K+1]."""
        K, cfg = self.config.reason_steps, self.config
        return cfg.temperature * cfg.temp_scale ** (K - torch.arange(K + 1, dtype=torch.float64))

    def step_divergence(self, states: torch.Tensor) -> torch.Tensor:
        """ERL: mean over ordered pairs i != j of KL(p_j || sg(p_i)). states: [B, T, d].

        ``PairwiseStepKL`` computes the sum and its gradient in one pass over the
        [B, T, n_items] log-probabilities. The temperature divides the [B, T, d] states, not the
        [B, T, n_items] logits (results/benchmarks/cpu_2026-11-28-rearec/)."""
        B, T = states.shape[:2]
        logits = (states / self.config.temperature) @ self.item_embeddings()[1:].T
        return PairwiseStepKL.apply(logits.float()) / (B * T * (T - 1))

    def info_nce(self, noisy: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        """PRL: each noisy step state against the clean ones of the batch, positive = same row.
        noisy, clean: [B, T, d]."""
        B, T = noisy.shape[:2]
        sim = torch.einsum("btd,ktd->tbk", noisy, clean).float() / self.config.temperature
        labels = torch.arange(B, device=noisy.device).repeat(T)  # [T * B]
        return F.cross_entropy(sim.reshape(T * B, B), labels)

    def training_loss(self, batch: Batch) -> torch.Tensor:
        cfg, K = self.config, self.config.reason_steps
        item_emb = self.item_embeddings()
        if cfg.method == "erl":
            states, _ = self.training_reason(batch.inputs)  # [B, K+1, d]
            loss = full_ce(states.mean(1) / cfg.temperature, batch.targets, item_emb)
            if K > 0 and cfg.kl_weight:
                loss = loss - cfg.kl_weight * self.step_divergence(states)
            return loss
        noisy = self.training and self.epoch > cfg.warmup_epochs and cfg.cl_weight > 0 and K > 0
        states, noisy_states = self.training_reason(batch.inputs, noisy)
        loss = full_ce(states[:, -1] / cfg.temperature, batch.targets, item_emb)
        if K > 0 and cfg.pl_weight:
            taus = self.step_temperatures()[:-1].to(states)  # [K]
            targets = batch.targets.unsqueeze(1).expand(-1, K)  # [B, K]
            earlier = states[:, :-1] / taus.view(1, K, 1)  # [B, K, d], steps 0..K-1
            loss = loss + cfg.pl_weight * full_ce(earlier, targets, item_emb)
        if noisy_states is not None:
            loss = loss + cfg.cl_weight * self.info_nce(noisy_states[:, 1:], states[:, 1:])
        return loss
