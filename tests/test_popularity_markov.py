import time

import torch

from baselines import build_model
from baselines.markov import transition_csr
from lares_bench.config import EvalConfig, TrainConfig
from lares_bench.data.dataset import SequenceData
from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.training import train_model
from tests.helpers import random_data


def split_of(seqs, n_items=None, max_len=10):
    return LeaveOneOutSplit.from_data(SequenceData.from_sequences("t", seqs, n_items), max_len)


def fitted(name, split):
    model = build_model(name, split.n_items)
    model.fit(split)
    return model


def test_no_parameters():
    for name in ("pop", "markov"):
        assert build_model(name, 10).n_parameters() == 0


def test_pop_ranks_the_most_frequent_training_item_first():
    # item 7 dominates the training prefixes; item 9 (validation/test targets) must not count
    split = split_of([[7, 1, 7, 9, 9], [7, 2, 9, 9], [3, 7, 9, 9], [7, 4, 9, 9]], n_items=9)
    model = fitted("pop", split)
    s = model.scores(torch.tensor([[1, 2]]))
    assert int(s.argmax()) == 7 and torch.isinf(s[0, 0])
    assert model.counts[9] == 0 and model.counts[7] == 5


def test_markov_follows_the_transition():
    # 3 is always followed by 5 in training; 6 is more popular overall
    seqs = [[3, 5, 6, 6, 6, 1, 2], [6, 3, 5, 6, 1, 2], [6, 6, 3, 5, 1, 2]]
    split = split_of(seqs, n_items=8)
    model = fitted("markov", split)
    s = model.scores(torch.tensor([[0, 3], [1, 6]]))
    assert int(s[0].argmax()) == 5
    assert int(s[1].argmax()) == 6  # 6 -> 6 is the most frequent transition out of 6
    assert torch.isinf(s[:, 0]).all()
    # unseen transitions are ordered by popularity (tie-break), seen ones stay on top
    order = s[0, 1:].argsort(descending=True) + 1
    assert order[0] == 5 and order[1] == 6


def test_markov_rows_match_a_dense_count():
    split = LeaveOneOutSplit.from_data(random_data(n_users=30, n_items=12), max_len=10)
    model = fitted("markov", split)
    dense = torch.zeros(13, 13)
    for u in range(split.n_users):  # test-only reference loop
        seq = split.items[split.starts[u] : split.ends[u] - 2].tolist()
        for a, b in zip(seq[:-1], seq[1:], strict=False):
            dense[a, b] += 1
    rows = torch.arange(1, 13)
    torch.testing.assert_close(model.transition_rows(rows), dense[1:])


def test_neither_sees_validation_or_test_targets():
    split = LeaveOneOutSplit.from_data(random_data(n_users=40, unique=True), max_len=10)
    held_out = torch.cat([split.targets("valid"), split.targets("test")])
    pop = fitted("pop", split)
    assert (pop.counts[held_out] == 0).all()
    crow, cols, _ = transition_csr(split)
    sources = torch.repeat_interleave(torch.arange(len(crow) - 1), crow[1:] - crow[:-1])
    assert not torch.isin(held_out, torch.cat([sources, cols])).any()
    markov = fitted("markov", split)
    assert (markov.prior[held_out] == 0).all()


def test_fit_mode_runs_through_the_trainer():
    split = LeaveOneOutSplit.from_data(random_data(n_users=50), max_len=10)
    for name in ("pop", "markov"):
        model = build_model(name, split.n_items)
        t0 = time.perf_counter()
        out = train_model(model, split, TrainConfig(epochs=1), EvalConfig(), progress=False)
        assert out.stop_reason == "fit" and len(out.valid_ranks) == split.n_users
        assert time.perf_counter() - t0 < 5
