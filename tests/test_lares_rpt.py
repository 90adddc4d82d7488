"""LARES RPT: GRPO pieces, the example filter, the stage's selection, and the two-stage run."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from baselines import build_model
from lares_bench.config import RunConfig, TrainConfig
from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.lares.rpt import (
    filter_examples,
    group_advantages,
    grpo_loss,
    k3_kl,
    rewards_from_ranks,
    run_rpt,
    set_dropout,
    subset_split,
    target_ranks,
)
from lares_bench.runs import execute_run
from lares_bench.training import evaluate, train_model, training_batches
from tests.helpers import random_data
from tests.model_checks import first_batch, make_split, small_config


def test_group_advantages_have_zero_mean_per_group():
    torch.manual_seed(0)
    r = (torch.rand(50, 4) < 0.3).float()
    a = group_advantages(r)
    torch.testing.assert_close(a.mean(1), torch.zeros(50), atol=1e-5, rtol=0)
    same = r[:, :1].expand(50, 4)
    assert (group_advantages(same) == 0).all()  # no signal when every rollout scores alike
    r2 = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    expected = (r2 - 0.25) / (r2.std() + 1e-4)  # unbiased std, as torch.std in the reference
    torch.testing.assert_close(group_advantages(r2), expected)


def test_k3_kl_is_non_negative_and_zero_at_equality():
    torch.manual_seed(0)
    logp, ref = -torch.rand(1000) * 10, -torch.rand(1000) * 10
    assert (k3_kl(logp, ref) >= 0).all()
    assert k3_kl(logp, logp).abs().max() == 0


def test_target_ranks_and_rewards():
    logits = torch.tensor([[0.1, 0.9, 0.5, 0.5], [1.0, 0.0, 0.0, 0.0]])
    ranks = target_ranks(logits, torch.tensor([3, 1]))  # item 3 ties item 4: pessimistic 3
    assert ranks.tolist() == [3, 1]
    assert rewards_from_ranks(torch.tensor([1, 10, 11]), "recall", 10).tolist() == [1, 1, 0]
    ndcg = rewards_from_ranks(torch.tensor([1, 3, 11]), "ndcg", 10)
    torch.testing.assert_close(ndcg, torch.tensor([1.0, 0.5, 0.0]))


def test_filter_keeps_exactly_the_examples_ranked_in_the_top_k_of_some_pass():
    split = LeaveOneOutSplit.from_data(random_data(n_users=60, n_items=300, seed=3), max_len=10)
    n = split.n_items
    shifts = [0, 150, 40]
    calls = {"n": 0}
    per_pass = -(-len(split.train_example_ends()) // 64)  # batches per pass

    def score_fn(inputs):
        # pass p ranks item j at ((j - 1 + shift_p) mod n) + 1: known ranks for every target
        p = calls["n"] // per_pass
        calls["n"] += 1
        items = torch.arange(1, n + 1)
        s = -(((items - 1 + shifts[p]) % n).float())
        return torch.cat([torch.full((1,), -1e9), s]).expand(len(inputs), n + 1)

    kept = filter_examples(score_fn, split, passes=3, topk=100, batch_size=64)
    targets = split.items[split.train_example_ends()]
    ranks = torch.stack([((targets - 1 + s) % n) + 1 for s in shifts])  # [passes, N]
    expected = torch.nonzero((ranks <= 100).any(0)).squeeze(1)
    assert torch.equal(kept, expected)
    assert 0 < len(kept) < len(targets)
    calls["n"] = 0
    one_pass = filter_examples(score_fn, split, passes=1, topk=100, batch_size=64)
    assert torch.equal(one_pass, torch.nonzero(ranks[0] <= 100).squeeze(1))


def test_subset_split_batches_only_the_kept_examples():
    split = make_split()
    rows = torch.arange(0, len(split.train_example_ends()), 7)
    sub = subset_split(split, rows)
    model = build_model("lares", split.n_items, small_config("lares"))
    seen = torch.cat([b.targets for b in training_batches(model, sub, TrainConfig(), _gen())])
    kept_targets = split.items[split.train_example_ends()[rows]]
    assert torch.equal(seen.sort().values, kept_targets.sort().values)
    users = torch.arange(5)
    assert torch.equal(sub.part_inputs("test", users)[0], split.part_inputs("test", users)[0])


def _gen():
    return torch.Generator().manual_seed(0)


def test_grpo_loss_trains_the_policy_only_and_is_finite():
    split = make_split()
    torch.manual_seed(0)
    cfg = small_config("lares")
    policy = build_model("lares", split.n_items, cfg)
    ref = build_model("lares", split.n_items, cfg)
    ref.load_state_dict(policy.state_dict())
    ref.requires_grad_(False).eval()
    batch = first_batch(policy, split, batch_size=32)
    stats = {}
    for same_state in (False, True):
        policy.config = dataclasses.replace(cfg, rpt_ref_same_state=same_state)
        loss = grpo_loss(policy.train(), ref, batch, stats)
        loss.backward()
        assert torch.isfinite(loss)
    assert policy.embed.item.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in ref.parameters())
    assert stats["rollouts"] == 2 * 32 * cfg.rpt_group and 0 <= stats["reward_sum"]
    set_dropout(policy, 0.1)
    assert all(m.p == 0.1 for m in policy.modules() if isinstance(m, torch.nn.Dropout))


@pytest.mark.parametrize("same_state", [False, True])
def test_fused_rollouts_give_the_loss_and_gradient_of_separate_passes(monkeypatch, same_state):
    """No dropout and S_0 = 0 leave only the depths random: fixed here, in draw order."""
    split = make_split()
    results = []
    for fusion, groups in (("off", "off"), ("off", "on"), ("on", "off")):
        torch.manual_seed(0)
        cfg = small_config("lares", init="zero", hidden_dropout=0.0, attn_dropout=0.0,
                           pass_fusion=fusion, row_groups=groups, rpt_ref_same_state=same_state)
        policy = build_model("lares", split.n_items, cfg).train()
        ref = build_model("lares", split.n_items, cfg)
        ref.load_state_dict(policy.state_dict())
        with torch.no_grad():  # a reference unlike the policy, so the KL term is not zero
            for p in ref.parameters():
                p.add_(0.05 * torch.randn_like(p))
        ref.requires_grad_(False).eval()
        supply = iter([3, 1, 6, 2])
        monkeypatch.setattr(policy, "sample_depth", lambda s=supply: next(s))
        stats = {}
        batch = first_batch(policy, split, batch_size=32, bucketing=False)
        loss = grpo_loss(policy, ref, batch, stats)
        loss.backward()
        results.append((loss.detach(), policy.core[0].ff1.weight.grad.clone(), stats))
    loss_off, grad_off, stats_off = results[0]  # separate passes, padded to the longest row
    for loss_on, grad_on, stats_on in results[1:]:  # in length groups; fused
        torch.testing.assert_close(loss_off, loss_on, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(grad_off, grad_on, rtol=1e-4, atol=1e-7)
        assert stats_off == stats_on and grad_on.abs().sum() > 0


def test_grpo_gradient_raises_the_log_prob_of_better_than_average_rollouts(monkeypatch):
    """With beta 0, d loss / d logp_{g,i} = -A_g / (k_g * B * G) exactly."""
    import lares_bench.lares.rpt as rpt

    split = make_split()
    torch.manual_seed(1)
    cfg = small_config("lares", rpt_beta=0.0, rpt_group=4)
    policy = build_model("lares", split.n_items, cfg).train()
    ref = build_model("lares", split.n_items, cfg).eval()
    batch = first_batch(policy, split, batch_size=16)
    logps, advs = [], []
    orig_lp, orig_adv = policy.target_log_probs, rpt.group_advantages

    def record_lp(steps, targets):
        out = orig_lp(steps, targets)
        if out.requires_grad:
            out.retain_grad()
            logps.append(out)
        return out

    def record_adv(r):
        advs.append(orig_adv(r))
        return advs[-1]

    monkeypatch.setattr(policy, "target_log_probs", record_lp)
    monkeypatch.setattr(rpt, "group_advantages", record_adv)
    grpo_loss(policy, ref, batch).backward()
    B, G = len(batch.targets), cfg.rpt_group
    assert len(logps) == G
    for g, lp in enumerate(logps):
        k = lp.shape[1]
        expected = (-advs[0][:, g] / (k * B * G)).unsqueeze(1).expand(B, k)
        torch.testing.assert_close(lp.grad, expected)


def _small_split():
    return make_split(n_users=80)


def _run_cfg(**model_extra):
    mc = small_config(
        "lares", rpt_epochs=2, rpt_batch_size=128, rpt_filter_passes=2, rpt_filter_topk=10,
        rpt_patience=2, test_depths=(1, 3), **model_extra,
    )
    train = TrainConfig(epochs=2, batch_size=128, lr=3e-3, patience=5, eval_batch_size=256)
    return RunConfig(dataset="patterned", model="lares", model_config=mc, train=train)


@pytest.fixture(scope="module")
def spt_state():
    split = _small_split()
    torch.manual_seed(0)
    cfg = _run_cfg()
    model = build_model("lares", split.n_items, cfg.model_config)
    train_model(model, split, cfg.train, cfg.eval, progress=False)
    return model.state_dict()


@pytest.mark.parametrize("lr", [5e-3, 1e-12])
def test_rpt_never_leaves_validation_worse_than_its_start(spt_state, lr):
    split = _small_split()
    cfg = _run_cfg(rpt_lr=lr)
    model = build_model("lares", split.n_items, cfg.model_config)
    model.load_state_dict(spt_state)
    res = run_rpt(model, split, cfg)
    after = evaluate(model, split, "valid", cfg.eval, 256)
    metric = cfg.train.select_metric
    assert res.valid[metric] >= res.valid_before[metric]
    assert res.valid[metric] == pytest.approx(float(np.mean(_ndcg10(after))))
    assert 0 < res.kept < res.examples  # top 10 of 40 items: the filter drops some
    if res.selected_epoch == 0:  # kept the SPT checkpoint: the very same weights
        assert all(torch.equal(spt_state[k], v) for k, v in model.state_dict().items())
    if lr == 1e-12:  # no step can change validation: the start is kept
        assert res.selected_epoch == 0


@pytest.mark.parametrize(("rpt_epoch_batches", "train_epoch_batches", "expected"),
                         [(1, 0, 1), (0, 2, 2), (0, 0, None)])
def test_rpt_epochs_are_cut_to_rpt_epoch_batches(
    spt_state, monkeypatch, rpt_epoch_batches, train_epoch_batches, expected
):
    import lares_bench.lares.rpt as rpt_module

    split = _small_split()
    cfg = _run_cfg(rpt_epoch_batches=rpt_epoch_batches)
    cfg = dataclasses.replace(
        cfg, train=dataclasses.replace(cfg.train, epoch_batches=train_epoch_batches)
    )
    model = build_model("lares", split.n_items, cfg.model_config)
    model.load_state_dict(spt_state)
    calls = []
    real = rpt_module.grpo_loss
    monkeypatch.setattr(rpt_module, "grpo_loss", lambda *a, **k: calls.append(1) or real(*a, **k))
    res = run_rpt(model, split, cfg)
    per_epoch = len(calls) / len(res.outcome.epochs)
    if expected is None:  # 0 and 0: every kept example, in batches of rpt_batch_size
        assert per_epoch == -(-res.kept // cfg.model_config.rpt_batch_size)
    else:
        assert per_epoch == expected


def _ndcg10(ranks):
    r = np.asarray(ranks, dtype=float)
    return np.where(r <= 10, 1.0 / np.log2(r + 1.0), 0.0)


@pytest.mark.parametrize("name", ["lares", "lares-norpt"])
def test_two_stage_run_writes_its_records(tmp_path, name):
    split = _small_split()
    cfg = _run_cfg(rpt=name == "lares")
    cfg = dataclasses.replace(cfg, model=name)
    rec = execute_run(cfg, split, "fp", tmp_path, build_executor(name), progress=False)
    res = rec.result
    lines = [json.loads(x) for x in (rec.path / "epochs.jsonl").read_text().splitlines()]
    assert sum(x["stage"] == "spt" for x in lines) == 2
    assert set(res["test_by_depth"]) == {"1", "3"}
    for k in (1, 3):
        assert (rec.path / f"ranks_depth_{k}.npy").exists()
    assert res["spt"]["best_epoch"] >= 1 and res["spt"]["seconds_per_epoch"] > 0
    if name == "lares":
        rpt = res["rpt"]
        assert any(x["stage"] == "rpt" and x["epoch"] == 0 for x in lines)
        assert any(x["stage"] == "rpt" and "reward" in x for x in lines)
        assert rpt["valid_after"]["NDCG@10"] >= rpt["valid_before"]["NDCG@10"]
        assert res["valid"] == rpt["valid_after"]
        assert 0 < rpt["kept"] <= rpt["examples"]
    else:
        assert res["rpt"] is None and res["valid"] == res["spt"]["valid"]


def build_executor(name):
    from lares_bench.experiment import executor_for

    return executor_for(name)


def test_a_run_with_rpt_writes_its_no_rpt_twin_as_the_twin_would_run(tmp_path):
    split = _small_split()
    full = _run_cfg(rpt=True)
    rec = execute_run(full, split, "fp", tmp_path / "a", build_executor("lares"), progress=False)
    twin_dir = rec.path.parent.parent / "lares-norpt"
    (twin_path,) = twin_dir.iterdir()
    twin = json.loads((twin_path / "result.json").read_text())
    assert twin["config"]["model"] == "lares-norpt"
    assert twin["config"]["model_config"]["rpt"] is False and twin["rpt"] is None

    # the twin's own run (same seed) gives the same record, in the same directory name
    alone_cfg = dataclasses.replace(
        full, model="lares-norpt", model_config=dataclasses.replace(full.model_config, rpt=False)
    )
    alone = execute_run(alone_cfg, split, "fp", tmp_path / "b", build_executor("lares-norpt"), progress=False)
    assert alone.path.name == twin_path.name
    assert alone.result["test"] == twin["test"] and alone.result["valid"] == twin["valid"]
    assert alone.result["test_by_depth"].keys() == twin["test_by_depth"].keys()
    for k, m in alone.result["test_by_depth"].items():
        assert {x: v for x, v in m.items() if x != "seconds"} == {
            x: v for x, v in twin["test_by_depth"][k].items() if x != "seconds"
        }
    np.testing.assert_array_equal(np.load(alone.path / "ranks.npy"), np.load(twin_path / "ranks.npy"))

    # writing the twin leaves the full run's own result as it is without it (twin present: skipped)
    again = execute_run(full, split, "fp", tmp_path / "b", build_executor("lares"), progress=False)
    assert again.result["test"] == rec.result["test"]
    assert again.result["rpt"]["valid_after"] == rec.result["rpt"]["valid_after"]
    assert json.loads((alone.path / "result.json").read_text()).get("written_by") is None


def test_the_ablation_twin_keeps_the_model_name():
    from lares_bench.lares.executor import no_rpt_model

    cfg = _run_cfg(rpt=True)
    assert no_rpt_model(cfg) == "lares-norpt"
    assert no_rpt_model(dataclasses.replace(cfg, suite="ablation")) == "lares"
    assert no_rpt_model(dataclasses.replace(cfg, model="lares-nospt")) == "lares-ce"
    assert no_rpt_model(dataclasses.replace(cfg, model="lares-notla")) is None  # no twin
