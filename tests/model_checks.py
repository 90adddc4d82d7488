"""Checks every model must pass (used by the per-model tests)."""

from __future__ import annotations

import torch

from baselines import build_model, get_spec
from baselines.base import Batch
from lares_bench.data.split import LeaveOneOutSplit
from tests.helpers import patterned_data


def small_config(name: str, **extra):
    cfg = get_spec(name).default_config()
    small = {"d": 16, "inner": 32, "max_len": 10, "hidden_dropout": 0.1, "attn_dropout": 0.1}
    fields = cfg.__dataclass_fields__
    changes = {k: v for k, v in {**small, **extra}.items() if k in fields}
    return type(cfg)(**{**cfg.__dict__, **changes})


def make_split(max_len=10, **kw):
    data = patterned_data(**kw)
    return LeaveOneOutSplit.from_data(data, max_len=max_len)


def first_batch(model, split, batch_size=64, bucketing=True) -> Batch:
    """The first training batch; ``bucketing=False``: random rows of mixed lengths."""
    from lares_bench.config import TrainConfig
    from lares_bench.training import training_batches

    gen = torch.Generator().manual_seed(0)
    cfg = TrainConfig(batch_size=batch_size, length_bucketing=bucketing)
    return next(iter(training_batches(model, split, cfg, gen)))


def check_scores_shape(name: str, **extra):
    split = make_split()
    model = build_model(name, split.n_items, small_config(name, **extra)).eval()
    users = torch.arange(8)
    inputs, _ = split.part_inputs("valid", users)
    scores = model.scores(inputs, users)
    assert scores.shape[0] == 8 and scores.shape[1] >= split.n_items + 1
    assert torch.isinf(scores[:, 0]).all() and (scores[:, 0] < 0).all()
    assert torch.isfinite(scores[:, 1 : split.n_items + 1]).all()


def check_loss_decreases(name: str, steps=30, lr=3e-3, **extra):
    torch.manual_seed(0)
    split = make_split()
    model = build_model(name, split.n_items, small_config(name, **extra))
    model.prepare(split)  # as the trainer does before its first epoch (TLA, DuoRec partners)
    batch = first_batch(model, split)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        loss = model.training_loss(batch)
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5, losses


def check_causal(name: str, **extra):
    """Changing the newest item never changes the state at an earlier position."""
    split = make_split()
    model = build_model(name, split.n_items, small_config(name, **extra)).eval()
    seq = torch.tensor([[0, 0, 3, 4, 5, 6, 7, 8]])
    other = seq.clone()
    other[0, -1] = 20
    with torch.no_grad():
        a, b = model.encode(seq), model.encode(other)
    torch.testing.assert_close(a[:, :-1], b[:, :-1])
    assert not torch.allclose(a[:, -1], b[:, -1])
