"""LARES model and SPT: contract, recurrence, depth samplers, alignment losses, variants."""

import dataclasses

import numpy as np
import pytest
import torch
from scipy import stats

from baselines import build_model, get_spec
from baselines.layers import TransformerConfig, make_layer
from lares_bench.lares.depth import SCHEMES, depth_cap, sample_depths
from lares_bench.lares.model import LARES, LARESConfig
from lares_bench.lares.spt import info_nce, spt_loss, sym_info_nce
from tests.model_checks import (
    check_causal,
    check_loss_decreases,
    check_scores_shape,
    first_batch,
    make_split,
    small_config,
)


def tiny(name="lares", **extra) -> tuple[LARES, object]:
    split = make_split()
    torch.manual_seed(0)
    model = build_model(name, split.n_items, small_config(name, **extra))
    return model, split


def test_contract():
    check_scores_shape("lares")
    check_loss_decreases("lares")
    check_loss_decreases("lares-nospt")  # CE only
    check_causal("lares", init="zero")  # check_causal compares two eval calls: fixed S_0


def _backbone_supported(kind: str) -> bool:
    try:
        make_layer(kind, TransformerConfig(d=16, n_heads=2, inner=32), 10)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name,kind", [("lares-fmlp", "fmlp"), ("lares-bsarec", "bsarec")])
def test_other_backbones(name, kind):
    if not _backbone_supported(kind):
        pytest.skip(f"baselines.layers.make_layer does not build {kind!r} layers yet")
    check_scores_shape(name)
    check_loss_decreases(name, steps=20)


@pytest.mark.parametrize("adapter", ["add", "concat", "linear"])
def test_adapters_and_no_pre_block_train(adapter):
    model, split = tiny(adapter=adapter, n_pre=0 if adapter == "add" else 2)
    model.prepare(split)
    loss = model.training_loss(first_batch(model, split))
    loss.backward()
    assert torch.isfinite(loss)


def test_parameters_do_not_grow_with_depth():
    split = make_split()
    counts = {
        m: build_model("lares", split.n_items, small_config("lares", mean_recurrence=m)).n_parameters()
        for m in (1, 4, 8)
    }
    assert len(set(counts.values())) == 1, counts
    model = build_model("lares", split.n_items, small_config("lares")).eval()
    seq = split.part_inputs("valid", torch.arange(4))[0]
    before = {n: p.clone() for n, p in model.named_parameters()}
    for k in (1, 3, 9):
        assert len(model.trajectory(seq, depth=k)[1]) == k
    assert all(torch.equal(before[n], p) for n, p in model.named_parameters())


def test_every_position_changes_between_steps():
    model, split = tiny()
    model.eval()
    seq = torch.tensor([[3, 4, 5, 6, 7, 8], [0, 0, 9, 10, 11, 12]])
    with torch.no_grad():
        _, states = model.trajectory(seq, depth=5)
    for prev, cur in zip(states, states[1:], strict=False):
        change = (cur - prev).abs().amax(-1)  # [B, L]
        assert (change[seq > 0] > 1e-4).all(), change


def test_causality_holds_through_the_recurrence():
    model, split = tiny()
    model.eval()
    seq = torch.tensor([[0, 0, 3, 4, 5, 6, 7, 8]])
    other = seq.clone()
    other[0, -1] = 20
    s0 = torch.randn(1, 8, model.config.d) * 3
    with torch.no_grad():
        _, a = model.trajectory(seq, depth=6, init_state=s0)
        _, b = model.trajectory(other, depth=6, init_state=s0)
    for sa, sb in zip(a, b, strict=True):
        torch.testing.assert_close(sa[:, :-1], sb[:, :-1])
        assert not torch.allclose(sa[:, -1], sb[:, -1])


def _expected_depth(scheme: str, m: int, sigma: float = 0.5) -> float:
    """Exact E[k] of each scheme, computed independently of depth.py (scipy + quadrature)."""
    cap = depth_cap(scheme, m)
    if scheme == "poisson_lognormal":
        # E[min(P + 1, cap)] = 1 + sum_{t=1}^{cap-1} P(P >= t), P ~ Poisson(rate), rate lognormal
        z, w = np.polynomial.hermite_e.hermegauss(80)
        rate = np.exp(np.log(m) - sigma**2 / 2 + sigma * z)
        tail = sum(stats.poisson.sf(t - 1, rate) for t in range(1, cap))
        return float(1 + (w * tail).sum() / w.sum())
    if scheme == "uniform":
        return m + 0.5
    if scheme == "poisson":
        k = np.arange(0, 200)
        return float((stats.poisson.pmf(k, m) * np.clip(k, 1, cap)).sum())
    return float(cap)  # constant: m, none: 1


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("m", [2, 4])
def test_depth_samplers_have_the_stated_mean_and_cap(scheme, m):
    k = sample_depths(scheme, m, 40_000, generator=torch.Generator().manual_seed(1))
    cap = depth_cap(scheme, m)
    assert k.min() >= 1 and k.max() <= cap
    expected = _expected_depth(scheme, m)
    assert abs(k.double().mean().item() - expected) < 0.06, (k.double().mean(), expected)
    if scheme in ("uniform", "poisson", "constant", "none"):
        assert k.max() == cap  # the cap is reached in 40k draws
    if scheme == "poisson_lognormal":
        assert m + 0.9 < expected < m + 1  # the authors' +1 shifts the mean to ~m + 1


def test_model_depth_in_training_evaluation_and_override():
    model, _ = tiny(mean_recurrence=3)
    model.train()
    drawn = {model.resolve_depth() for _ in range(300)}
    assert min(drawn) >= 1 and max(drawn) <= 9 and len(drawn) > 3
    model.eval()
    assert model.resolve_depth() == 3
    with model.at_depth(7):
        assert model.resolve_depth() == 7
    assert model.resolve_depth() == 3
    assert model.resolve_depth(5) == 5
    none, _ = tiny(depth_sampler="none", mean_recurrence=3)
    none.eval()
    assert none.resolve_depth() == 1
    fixed, _ = tiny(eval_depth=6)
    fixed.eval()
    assert fixed.resolve_depth() == 6


def test_evaluation_noise_is_reproducible_and_seeded():
    model, split = tiny()
    seq = split.part_inputs("valid", torch.arange(16))[0]
    with torch.no_grad():
        a = model.eval().scores(seq)
        b = model.eval().scores(seq)
        c = model.scores(seq)  # same pass: the stream goes on, new noise
        model.eval_seed = 5
        d = model.eval().scores(seq)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a[:, 1:], c[:, 1:])
    assert not torch.allclose(a[:, 1:], d[:, 1:])
    zero, _ = tiny(init="zero")
    with torch.no_grad():
        torch.testing.assert_close(zero.eval().scores(seq), zero.scores(seq))


def test_initial_state_scale_and_truncation():
    model, _ = tiny()
    model.train()
    s0 = model.initial_state((200, 10, 16), torch.device("cpu"))
    assert s0.abs().max() <= 9.0 + 1e-5  # scale 3 x 3 std
    assert abs(s0.std().item() - 3 * 0.9866) < 0.05  # std of N(0,1) cut at +-3 is 0.9866
    nz, _ = tiny(init="normal_zero")
    assert nz.eval().initial_state((2, 3, 16), torch.device("cpu")).abs().sum() == 0
    assert nz.train().initial_state((2, 3, 16), torch.device("cpu")).abs().sum() > 0


def test_info_nce_prefers_aligned_views():
    torch.manual_seed(0)
    x = torch.randn(32, 16)
    shuffled = x[torch.randperm(32)]
    for sem in ("dot", "cos"):
        assert info_nce(x, x, 1.0, sem) < info_nce(x, shuffled, 1.0, sem)
        assert sym_info_nce(x, x, 0.5, sem) < sym_info_nce(x, shuffled, 0.5, sem)
    assert torch.isclose(sym_info_nce(x, shuffled), sym_info_nce(shuffled, x))


def test_tla_partner_shares_the_sampled_depth_and_target():
    model, split = tiny()
    model.prepare(split)
    batch = first_batch(model, split)
    calls = []
    run = model.run

    def spy(seq, depth=None, init_state=None, all_steps=False, grouped=None):
        if grouped is not False:  # not the inner call of one length group
            calls.append((seq, depth))
        return run(seq, depth, init_state, all_steps, grouped)

    model.run = spy
    model.train()
    spt_loss(model, batch)
    assert len(calls) == 3  # CE pass, example trajectory, partners
    assert calls[0][1] is None and calls[1][1] is not None
    assert {depth for _, depth in calls[1:]} == {calls[1][1]}
    ex = model._examples
    partners = ex.index.sample(batch.example_ids)
    assert torch.equal(split.items[ex.ends[partners]], batch.targets)


def test_partner_chunks_compute_the_same_outputs_as_one_batch():
    model, split = tiny(init="zero")
    model.prepare(split)
    model.eval()
    ids = torch.arange(0, 400, 3)
    torch.manual_seed(7)
    chunked = model.partner_final(ids, depth=3)
    torch.manual_seed(7)
    partners = model._examples.index.sample(ids)
    whole, _ = model.run(model._examples.inputs(partners), depth=3)
    torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backbone", ["transformer", "fmlp"])
def test_joint_tla_pass_computes_the_same_outputs_as_separate_passes(backbone):
    model, split = tiny(init="zero", backbone=backbone)
    model.prepare(split)
    model.eval()
    batch = first_batch(model, split)
    torch.manual_seed(3)
    final, steps, partner = model.run_with_partners(batch.inputs, batch.example_ids, depth=3)
    torch.manual_seed(3)
    alone_final, alone_steps = model.run(batch.inputs, depth=3, all_steps=True)
    alone_partner = model.partner_final(batch.example_ids, depth=3)
    torch.testing.assert_close(final, alone_final, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(steps, alone_steps, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(partner, alone_partner, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backbone", ["transformer", "fmlp"])
def test_one_fused_pass_reads_each_run_at_its_own_depth(backbone):
    model, split = tiny(init="zero", backbone=backbone)
    model.prepare(split)
    model.eval()
    batch = first_batch(model, split)
    partners = model.partner_windows(batch.example_ids)  # other lengths: padded in the stack
    windows, depths = [batch.inputs, partners, batch.inputs[:5]], [2, 5, 1]
    for (final, steps), w, k in zip(model.run_many(windows, depths), windows, depths, strict=True):
        alone_final, alone_steps = model.run(w, depth=k, all_steps=True)
        assert steps.shape == (len(w), k, model.config.d)
        torch.testing.assert_close(final, alone_final, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(steps, alone_steps, rtol=1e-5, atol=1e-5)


def _deterministic_spt(monkeypatch, model, depths):
    """Make every random draw of ``spt_loss`` but SLA's step index fixed: depths from the
    list (in call order), partners a fixed permutation of the batch, no dropout, S_0 = 0."""
    supply = iter(depths)
    monkeypatch.setattr(model, "sample_depth", lambda: next(supply))
    if model._examples.index is not None:  # None without TLA
        monkeypatch.setattr(model._examples.index, "sample", lambda ids: ids.flip(0))


@pytest.mark.parametrize(
    "extra", [{}, {"tla_batching": "joint"}, {"ce_own_pass": False}, {"alpha": 0.0}, {"gamma": 0.0}]
)
def test_the_fused_spt_loss_equals_the_separate_passes(monkeypatch, extra):
    """Separate passes padded to the batch's longest row, separate passes in length groups
    (``row_groups``), one fused pass: the same loss and gradient."""
    grads = []
    for fusion, groups in (("off", "off"), ("off", "on"), ("on", "off")):
        model, split = tiny(init="zero", hidden_dropout=0.0, attn_dropout=0.0,
                            pass_fusion=fusion, row_groups=groups, **extra)
        model.prepare(split)
        model.train()
        _deterministic_spt(monkeypatch, model, [2, 5, 3])
        torch.manual_seed(11)  # SLA's step index: the one draw left
        loss = spt_loss(model, first_batch(model, split, bucketing=False))
        loss.backward()
        grads.append((loss.detach(), model.embed.item.weight.grad.clone()))
    for loss, grad in grads[1:]:
        torch.testing.assert_close(loss, grads[0][0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(grad, grads[0][1], rtol=1e-4, atol=1e-6)


def test_pass_fusion_modes():
    model, split = tiny()
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert not model.fuse_passes(cpu) and model.fuse_passes(cuda)  # auto
    model.config.pass_fusion = "on"
    assert model.fuse_passes(cpu)
    model.config.pass_fusion = "off"
    assert not model.fuse_passes(cuda)
    with pytest.raises(ValueError, match="pass_fusion"):
        dataclasses.replace(model.config, pass_fusion="yes").validate()


def test_tla_batching_modes():
    model, split = tiny()
    cpu = torch.device("cpu")
    assert not model.joint_tla(cpu) and model.joint_tla(torch.device("cuda"))  # auto
    model.config.tla_batching = "joint"
    assert model.joint_tla(cpu)
    model.prepare(split)
    model.train()
    loss = spt_loss(model, first_batch(model, split))
    assert torch.isfinite(loss)
    loss.backward()
    with pytest.raises(ValueError, match="tla_batching"):
        dataclasses.replace(model.config, tla_batching="fast").validate()


def test_spt_switches_and_variants_config():
    base = get_spec("lares").default_config()
    assert (base.d, base.n_pre, base.n_core, base.n_heads, base.inner) == (64, 2, 2, 2, 256)
    assert (base.alpha, base.gamma, base.tau, base.sem_func) == (0.1, 0.5, 1.0, "dot")
    assert base.spt and base.rpt and base.rpt_filter and base.position_mode == "start"
    assert (base.rpt_lr, base.rpt_batch_size, base.rpt_dropout, base.rpt_group) == (
        5e-4, 400, 0.1, 4,
    )
    assert get_spec("lares").train_overrides == {
        "batch_size": 1024, "lr": 1e-3, "patience": 10, "length_bucketing": False,
    }
    expect = {
        "lares-norpt": {"rpt": False},
        "lares-nospt": {"spt": False},
        "lares-ce": {"spt": False, "rpt": False},
        "lares-fmlp": {"backbone": "fmlp"},
        "lares-bsarec": {"backbone": "bsarec"},
        "lares-nopre": {"n_pre": 0},
        "lares-notla": {"alpha": 0.0},
        "lares-nosla": {"gamma": 0.0},
        "lares-nofilter": {"rpt_filter": False},
        "lares-ndcg": {"rpt_reward": "ndcg"},
        "lares-concat": {"adapter": "concat"},
        "lares-linear": {"adapter": "linear"},
    }
    for name, changes in expect.items():
        spec = get_spec(name)
        assert spec.default_config() == dataclasses.replace(base, **changes), name
        assert spec.train_overrides["batch_size"] == 1024
    nospt = get_spec("lares-nospt").default_config()
    assert nospt.tla_weight == 0.0 and nospt.sla_weight == 0.0
    assert (base.tla_weight, base.sla_weight) == (0.1, 0.5)


def test_without_spt_the_loss_is_plain_ce_of_one_pass():
    model, split = tiny("lares-nospt")
    batch = first_batch(model, split)  # no prepare needed: no partner lookup
    model.train()
    torch.manual_seed(3)
    loss = spt_loss(model, batch)
    torch.manual_seed(3)
    final, _ = model.run(batch.inputs)
    ce = torch.nn.functional.cross_entropy(model.logits(final), batch.targets - 1)
    torch.testing.assert_close(loss, ce)


def test_bad_config_values_are_rejected():
    with pytest.raises(ValueError, match="adapter"):
        LARES(LARESConfig(adapter="mul"), 10)
    with pytest.raises(ValueError, match="depth sampler"):
        LARES(LARESConfig(depth_sampler="geometric"), 10)
    with pytest.raises(ValueError, match="rpt_group"):
        LARES(LARESConfig(rpt_group=1), 10)


def test_per_step_log_probs_at_the_last_position():
    model, split = tiny()
    model.eval()
    seq, targets = split.part_inputs("valid", torch.arange(6))
    s0 = torch.randn(*seq.shape, model.config.d)
    with torch.no_grad():
        final, steps = model.run(seq, depth=4, init_state=s0, all_steps=True)  # [B, d], [B, 4, d]
        _, states = model.trajectory(seq, depth=4, init_state=s0)
        full = model.step_log_probs(steps)  # [B, 4, n_items]
        picked = model.target_log_probs(steps, targets)  # [B, 4]
    assert steps.shape == (6, 4, model.config.d) and full.shape == (6, 4, split.n_items)
    torch.testing.assert_close(steps[:, -1], final)
    torch.testing.assert_close(steps[:, 1], states[1][:, -1])
    torch.testing.assert_close(full.exp().sum(-1), torch.ones(6, 4))
    torch.testing.assert_close(picked, full.gather(-1, (targets - 1).view(-1, 1, 1).expand(6, 4, 1))[..., 0])


@pytest.mark.parametrize("init", ["scaled_normal", "zero"])
def test_one_pass_scores_every_test_depth_exactly_as_separate_passes(tmp_path, init):
    from lares_bench.config import RunConfig, TrainConfig
    from lares_bench.lares.executor import score_at_depths
    from lares_bench.training import evaluate

    model, split = tiny(init=init, test_depths=(1, 3, 2, 5))
    model.eval_seed = 7
    # batches of 48 users: the evaluation noise runs on across batches in both ways of scoring
    cfg = RunConfig("patterned", "lares", model.config, TrainConfig(eval_batch_size=48))
    model.train()  # the executor may find the model in training mode: it must leave it so
    by_depth, seconds = score_at_depths(model, split, cfg, tmp_path)
    assert model.training and seconds > 0
    assert sorted(by_depth, key=int) == ["1", "2", "3", "5"]
    for k in (1, 2, 3, 5):
        with model.at_depth(k):
            separate = evaluate(model, split, "test", cfg.eval, 48)
        assert np.array_equal(np.load(tmp_path / f"ranks_depth_{k}.npy"), separate), k
    assert by_depth["1"] != by_depth["5"]  # the depths really differ
