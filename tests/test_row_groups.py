"""LARES row grouping (row_groups.py): length groups, and the same outputs as one padded pass."""

import dataclasses

import pytest
import torch

from baselines import build_model
from baselines.row_groups import length_groups
from tests.model_checks import first_batch, make_split, small_config


def test_length_groups_cover_every_row_once_within_a_power_of_two():
    lengths = torch.tensor([1, 50, 3, 4, 5, 2, 8, 9, 16, 17, 1, 32, 33])
    groups = length_groups(lengths)
    rows = torch.cat([r for r, _ in groups])
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    for r, width in groups:
        assert width == int(lengths[r].max())
        assert torch.all(lengths[r] > width // 2) or width == 1  # one (2^(j-1), 2^j] bucket
        assert r.tolist() == sorted(r.tolist())  # batch order kept inside a group
    widths = [w for _, w in groups]
    assert widths == sorted(widths) and widths == [1, 2, 4, 8, 16, 32, 50]


def _model(**extra):
    split = make_split()
    torch.manual_seed(0)
    return build_model("lares", split.n_items, small_config("lares", **extra)), split


@pytest.mark.parametrize("train_mode", [False, True])
def test_grouped_run_equals_one_padded_pass(train_mode):
    model, split = _model(hidden_dropout=0.0, attn_dropout=0.0)
    model.train(train_mode)
    seq = first_batch(model, split, bucketing=False).inputs
    assert len(length_groups((seq > 0).sum(1))) >= 3  # the test batch really has groups
    init = torch.randn(*seq.shape, model.config.d)  # a fixed S_0, cut like the windows
    final, steps = model.run(seq, depth=3, init_state=init, all_steps=True, grouped=True)
    one_final, one_steps = model.run(seq, depth=3, init_state=init, all_steps=True, grouped=False)
    torch.testing.assert_close(final, one_final, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(steps, one_steps, rtol=1e-5, atol=1e-5)


def test_a_grouped_training_pass_draws_one_depth_for_every_group(monkeypatch):
    model, split = _model()
    model.train()
    calls = []
    monkeypatch.setattr(model, "sample_depth", lambda: calls.append(1) or 3)
    _, steps = model.run(first_batch(model, split, bucketing=False).inputs, all_steps=True)  # auto: CPU groups
    assert len(calls) == 1 and steps.shape[1] == 3


def test_row_group_modes():
    model, _ = _model()
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert model.groups_rows(cpu) and not model.groups_rows(cuda)  # auto
    model.config.row_groups = "on"
    assert model.groups_rows(cuda)
    model.config.row_groups = "off"
    assert not model.groups_rows(cpu)
    fmlp, _ = _model(backbone="fmlp", row_groups="on")  # a fixed max_len filter window
    assert not fmlp.groups_rows(cpu)
    with pytest.raises(ValueError, match="row_groups"):
        dataclasses.replace(model.config, row_groups="yes").validate()


NO_DROPOUT = {"hidden_dropout": 0.0, "attn_dropout": 0.0, "emb_dropout": 0.0, "noise_std": 0.0}


@pytest.mark.parametrize("name", ["cl4srec", "duorec", "rearec-erl", "rearec-prl"])
def test_grouped_training_loss_of_the_baselines_equals_one_padded_pass(name):
    """Without dropout or noise, the rows in length groups give the loss and gradient of one
    pass over the batch padded to its longest row (augmentations and partners drawn alike)."""
    split = make_split()
    batch = None
    results = []
    for groups in ("off", "on"):
        torch.manual_seed(0)
        model = build_model(name, split.n_items, small_config(name, row_groups=groups, **NO_DROPOUT))
        model.prepare(split)
        model.set_epoch(10)  # PRL's noisy view is on after its warm-up
        model.train()
        batch = batch or first_batch(model, split, bucketing=False)
        torch.manual_seed(1)
        loss = model.training_loss(batch)
        loss.backward()
        results.append((loss.detach(), model.embed.item.weight.grad.clone()))
    assert len(length_groups((batch.inputs > 0).sum(1))) >= 3
    torch.testing.assert_close(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(results[1][1], results[0][1], rtol=1e-4, atol=1e-6)


def test_baseline_row_groups_follow_the_device_and_reject_bad_values():
    split = make_split()
    model = build_model("duorec", split.n_items, small_config("duorec"))
    seq = first_batch(model, split, bucketing=False).inputs
    calls = []
    model.final_state = lambda s, users=None: calls.append(s.shape[1]) or torch.zeros(len(s), 16)
    model.training_final_state(seq)  # auto on CPU: one call per length group
    assert len(calls) >= 3 and max(calls) == seq.shape[1]
    model.config.row_groups = "off"
    calls.clear()
    model.training_final_state(seq)
    assert calls == [seq.shape[1]]
    model.config.row_groups = "maybe"
    with pytest.raises(ValueError, match="row_groups"):
        model.training_final_state(seq)
