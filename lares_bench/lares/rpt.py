"""LARES stage 2, RPT (reinforcement post-training): example filter + GRPO over latent steps.

Read from the authors' ``filter_data.py``, ``trainer.py::RLTrainer`` and ``run_rl.sh`` (GitHub
BishopLiu/LARES):

Filter: the SPT model (eval mode: depth ``eval_depth``, random S_0) scores every training
  example ``rpt_filter_passes`` times; examples whose target ranks in the top
  ``rpt_filter_topk`` in any pass are kept.
GRPO, per example, G = ``rpt_group`` rollouts of the policy (training mode: own random S_0 and
  own sampled depth k_g each); the frozen SPT model (eval mode) is the reference, run with the
  same depth k_g and, as in the authors' code, its OWN random S_0 (``rpt_ref_same_state`` = True
  reuses the rollout's S_0 instead).
  reward r = hit@K (Recall@K) or NDCG@K of the target under the final step's scores, all items
  ranked, no history mask (as the authors);
  A = (r - mean_G r) / (std_G r + 1e-4), std unbiased (torch.std, as the authors);
  per step i: logp_i = log p(target | step i), ratio = exp(logp - logp.detach()),
  KL_i = exp(ref_i - logp_i) - (ref_i - logp_i) - 1 (k3, >= 0),
  loss = mean over rollouts of mean over their k_g steps of -(ratio * A - beta * KL_i).

``run_rpt`` trains with the generic ``train_model`` on a view of the split whose training
examples are the filtered ones (``subset_split``: no change to training.py), with its own lr,
batch size and dropout, starting from the SPT checkpoint. Selection includes the start:
validation is measured before the first RPT epoch (epoch 0 = the SPT checkpoint) and the SPT
weights are restored unless some RPT epoch beats them strictly, so RPT never leaves validation
worse than where it started.

Deviations: the authors' RecBole trainer selects among RPT epochs only (no epoch 0) and counts
patience from the first RPT epoch; our patience is counted among RPT epochs as theirs, then
epoch 0 competes. Ranks are pessimistic over the real items (the authors' ``topk`` includes the
padding column, which never wins). The filter and rewards use the model's similarity.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.evaluation import metrics_from_ranks
from lares_bench.training import EpochRecord, TrainOutcome, evaluate, train_model


def target_ranks(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Pessimistic rank (1 = best) of each target among the real items.
    logits [B, n_items] (column j = item j + 1), targets [B] in 1..n_items -> int64 [B]."""
    t = logits.gather(1, (targets - 1).unsqueeze(1))  # [B, 1]
    return 1 + (logits > t).sum(1) + (logits == t).sum(1) - 1


def rewards_from_ranks(ranks: torch.Tensor, kind: str, k: int) -> torch.Tensor:
    hit = ranks <= k
    if kind == "recall":
        return hit.float()
    return torch.where(hit, 1.0 / torch.log2(ranks.float() + 1.0), 0.0)


def group_advantages(rewards: torch.Tensor) -> torch.Tensor:
    """[B, G] -> [B, G]: (r - group mean) / (group std + 1e-4)."""
    mean = rewards.mean(1, keepdim=True)
    std = rewards.std(1, keepdim=True)
    return (rewards - mean) / (std + 1e-4)


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """k3 estimator of KL(policy || ref) per element: exp(d) - d - 1 with d = ref - logp."""
    d = ref_logp - logp
    return torch.exp(d) - d - 1


def grpo_loss(policy, ref, batch, stats: dict | None = None) -> torch.Tensor:
    """GRPO loss of ``policy`` against the frozen ``ref`` on an example batch (inputs [B, L],
    targets [B]). ``stats`` (optional) accumulates "reward_sum" and "rollouts"."""
    c = policy.config
    inputs, targets = batch.inputs, batch.targets
    if policy.fuse_passes(inputs.device):
        logps, ref_logps, rewards = _fused_rollouts(policy, ref, inputs, targets)
    else:
        logps, ref_logps, rewards = _rollouts(policy, ref, inputs, targets)
    r = torch.stack(rewards, 1)  # [B, G]
    adv = group_advantages(r)  # [B, G]
    per_rollout = []
    for g, (lp, rlp) in enumerate(zip(logps, ref_logps, strict=True)):
        ratio = torch.exp(lp - lp.detach())  # 1, with the gradient of logp
        per_step = -(ratio * adv[:, g : g + 1] - c.rpt_beta * k3_kl(lp, rlp))  # [B, k_g]
        per_rollout.append(per_step.mean(1))  # [B]
    if stats is not None:
        stats["reward_sum"] = stats.get("reward_sum", 0.0) + float(r.sum())
        stats["rollouts"] = stats.get("rollouts", 0) + r.numel()
    return torch.stack(per_rollout, 1).mean()


def _rollouts(policy, ref, inputs: torch.Tensor, targets: torch.Tensor):
    """G rollouts, each its own pass of the policy and of the reference: per rollout the
    target log-probs of every step [B, k_g] (policy, with gradient; reference) and the reward
    [B] of the final step."""
    c = policy.config
    grouped = policy.groups_rows(inputs.device)  # the frozen reference (eval mode) too
    logps, ref_logps, rewards = [], [], []
    for _ in range(c.rpt_group):
        depth = policy.sample_depth()
        init = None
        if c.rpt_ref_same_state:
            window = policy.input_window(inputs)  # [B, L] (max_len for fmlp / bsarec)
            init = policy.initial_state((*window.shape, c.d), inputs.device)
        final, steps = policy.run(
            inputs, depth=depth, init_state=init, all_steps=True, grouped=grouped
        )
        logps.append(policy.target_log_probs(steps, targets))  # [B, k_g]
        with torch.no_grad():
            _, ref_steps = ref.run(
                inputs, depth=depth, init_state=init, all_steps=True, grouped=grouped
            )
            ref_logps.append(ref.target_log_probs(ref_steps, targets))  # [B, k_g]
            ranks = target_ranks(policy.logits(final).float(), targets)
            rewards.append(rewards_from_ranks(ranks, c.rpt_reward, c.rpt_reward_k))
    return logps, ref_logps, rewards


def _fused_rollouts(policy, ref, inputs: torch.Tensor, targets: torch.Tensor):
    """``_rollouts`` with the G policy rollouts in ONE recurrent pass of the deepest and the G
    reference rollouts in another (``LARES.run_many``, ``pass_fusion``). The same rollouts (own
    S_0 and depth each, the reference at the same depth); only the order of the random draws
    differs."""
    c = policy.config
    G = c.rpt_group
    depths = [policy.sample_depth() for _ in range(G)]
    inits = None
    if c.rpt_ref_same_state:
        window = policy.input_window(inputs)  # [B, L] (max_len for fmlp / bsarec)
        inits = [policy.initial_state((*window.shape, c.d), inputs.device) for _ in range(G)]
    runs = policy.run_many([inputs] * G, depths, inits)
    logps = [policy.target_log_probs(steps, targets) for _, steps in runs]  # [B, k_g] each
    with torch.no_grad():
        ref_runs = ref.run_many([inputs] * G, depths, inits)
        ref_logps = [ref.target_log_probs(steps, targets) for _, steps in ref_runs]
        finals = torch.cat([final for final, _ in runs])  # [G * B, d]
        ranks = target_ranks(policy.logits(finals).float(), targets.repeat(G))
        rewards = list(rewards_from_ranks(ranks, c.rpt_reward, c.rpt_reward_k).view(G, -1))
    return logps, ref_logps, rewards


@torch.no_grad()
def filter_examples(
    score_fn: Callable[[torch.Tensor], torch.Tensor],
    split: LeaveOneOutSplit,
    passes: int,
    topk: int,
    batch_size: int = 4096,
) -> torch.Tensor:
    """Rows of ``split.train_example_ends()`` whose target ranks <= ``topk`` in at least one of
    ``passes`` scorings. ``score_fn(inputs [B, L]) -> [B, n_items + 1]`` (column 0 ignored)."""
    ends = split.train_example_ends()
    users = split.example_users(ends)
    order = torch.argsort(ends - split.starts[users], stable=True)  # short windows together
    keep = torch.zeros(len(ends), dtype=torch.bool, device=ends.device)
    for _ in range(passes):
        for lo in range(0, len(ends), batch_size):
            idx = order[lo : lo + batch_size]
            scores = score_fn(split.windows(users[idx], ends[idx]))[:, 1 : split.n_items + 1]
            keep[idx] |= target_ranks(scores.float(), split.items[ends[idx]]) <= topk
    return torch.nonzero(keep).squeeze(1)


@dataclass
class SubsetSplit(LeaveOneOutSplit):
    """The same split whose training examples are a subset (the filter's); valid/test unchanged."""

    kept_ends: torch.Tensor | None = None  # [N'] absolute target indices

    def train_example_ends(self) -> torch.Tensor:
        return self.kept_ends


def subset_split(split: LeaveOneOutSplit, rows: torch.Tensor) -> SubsetSplit:
    fields = {f.name: getattr(split, f.name) for f in dataclasses.fields(LeaveOneOutSplit)}
    return SubsetSplit(**fields, kept_ends=split.train_example_ends()[rows])


def set_dropout(model: nn.Module, p: float) -> None:
    """Set every dropout rate of ``model`` (nn.Dropout modules and float ``attn_dropout``)."""
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = p
        if isinstance(getattr(m, "attn_dropout", None), float):
            m.attn_dropout = p


@dataclass
class RPTResult:
    outcome: TrainOutcome  # RPT epochs (epoch 0 not among them)
    selected_epoch: int  # 0 = the SPT checkpoint was kept
    valid_before: dict
    valid: dict  # of the selected weights
    valid_ranks: object  # np.ndarray of the selected weights
    kept: int  # examples kept by the filter
    examples: int  # training examples before filtering
    filter_seconds: float


def run_rpt(
    model, split, cfg, *, on_epoch=None, progress=False, description="rpt", state=None
) -> RPTResult:
    """Filter, then GRPO from the current (SPT) weights of ``model``; leaves ``model`` with the
    selected weights. ``cfg`` is the RunConfig (model_config holds the rpt_* settings).
    ``on_epoch(record, extra)`` gets epoch 0 (the start) and every RPT epoch; ``extra`` holds
    the epoch's mean rollout reward."""
    c, metric = cfg.model_config, cfg.train.select_metric
    t0 = time.perf_counter()
    ranks0 = evaluate(model, split, "valid", cfg.eval, cfg.train.eval_batch_size, cfg.train.bf16)
    before = metrics_from_ranks(ranks0, cfg.eval.ks)
    resuming = state is not None and state.file.exists()  # its log has epoch 0 already
    if on_epoch and not resuming:  # epoch 0 = the SPT checkpoint RPT starts from
        start_rec = EpochRecord(0, 0.0, 0.0, time.perf_counter() - t0, before)
        on_epoch(start_rec, {"loss": None, "note": "SPT checkpoint, before RPT"})
    start = copy.deepcopy(model.state_dict())
    ref = type(model)(c, model.n_items).to(split.device)
    ref.load_state_dict(start)
    ref.eval_seed = model.eval_seed
    ref.requires_grad_(False).eval()

    n_examples = len(split.train_example_ends())
    t0 = time.perf_counter()
    if c.rpt_filter:
        model.eval()
        rows = filter_examples(
            model.scores, split, c.rpt_filter_passes, c.rpt_filter_topk,
            cfg.train.eval_batch_size,
        )
    else:
        rows = torch.arange(n_examples, device=split.device)
    filter_s = time.perf_counter() - t0

    set_dropout(model, c.rpt_dropout)
    train = dataclasses.replace(
        cfg.train, lr=c.rpt_lr, batch_size=c.rpt_batch_size,
        epochs=c.rpt_epochs or cfg.train.epochs, patience=c.rpt_patience or cfg.train.patience,
        epoch_batches=c.rpt_epoch_batches or cfg.train.epoch_batches,
    )
    opt = torch.optim.Adam(model.parameters(), lr=c.rpt_lr, weight_decay=train.weight_decay)
    stats: dict = {}
    if state is not None:  # the reference draws its S_0 from its own generator, which runs on
        # across batches and epochs (rpt_ref_same_state off): a resumed RPT must go on from it
        state.extras["reference_noise"] = (ref.eval_noise_state, ref.set_eval_noise_state)
        # a pause inside an epoch: the rewards summed so far go into that epoch's mean
        state.extras["epoch_rewards"] = (lambda: dict(stats), stats.update)

    def epoch_done(rec):
        if on_epoch:
            n = max(1, stats.get("rollouts", 0))
            on_epoch(rec, {"reward": stats.get("reward_sum", 0.0) / n})
        stats.clear()

    outcome = train_model(
        model, subset_split(split, rows), train, cfg.eval,
        loss_fn=lambda batch: grpo_loss(model, ref, batch, stats), optimizer=opt,
        on_epoch=epoch_done, progress=progress, description=description, state=state,
    )
    improved = bool(outcome.best_valid) and outcome.best_valid[metric] > before[metric]
    if not improved:
        model.load_state_dict(start)
    return RPTResult(
        outcome=outcome,
        selected_epoch=outcome.best_epoch if improved else 0,
        valid_before=before,
        valid=outcome.best_valid if improved else before,
        valid_ranks=outcome.valid_ranks if improved else ranks0,
        kept=len(rows),
        examples=n_examples,
        filter_seconds=filter_s,
    )
