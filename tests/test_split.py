import numpy as np
import torch

from lares_bench.data.split import LeaveOneOutSplit
from tests.helpers import random_data


def test_windows_are_the_last_items_left_padded():
    data = random_data(n_users=20, seed=4)
    split = LeaveOneOutSplit.from_data(data, max_len=4)
    users = torch.arange(split.n_users)
    inputs, targets = split.part_inputs("test", users)
    for u in range(split.n_users):
        seq = data.sequence(u)
        hist = seq[:-1][-4:]
        row = inputs[u].tolist()
        assert row[len(row) - len(hist):] == hist.tolist()
        assert all(x == 0 for x in row[: len(row) - len(hist)])
        assert targets[u] == seq[-1]


def test_no_validation_or_test_target_in_any_training_input_or_label():
    data = random_data(n_users=60, min_len=3, max_len=15, seed=5, unique=True)
    split = LeaveOneOutSplit.from_data(data, max_len=6)
    held_out = set()
    for u in range(data.n_users):
        seq = data.sequence(u)
        held_out |= {int(seq[-1]), int(seq[-2])}
    users = torch.arange(split.n_users)
    inputs, targets = split.train_sequences(users)
    seen = set(inputs.flatten().tolist()) | set(targets.flatten().tolist())
    assert not (seen & held_out)
    ends = split.train_example_ends()
    ex_users = split.example_users(ends)
    ex_inputs = split.windows(ex_users, ends)
    ex_targets = split.items[ends]
    seen = set(ex_inputs.flatten().tolist()) | set(ex_targets.tolist())
    assert not (seen & held_out)
    # and every training target is used: positions 1..n-3 of every user
    assert len(ends) == sum(max(0, n - 3) for n in data.lengths)


def test_training_sequences_shift_by_one():
    data = random_data(n_users=10, min_len=6, max_len=9, seed=6)
    split = LeaveOneOutSplit.from_data(data, max_len=50)
    inputs, targets = split.train_sequences(torch.arange(10))
    for u in range(10):
        seq = data.sequence(u)
        real = inputs[u] > 0
        np.testing.assert_array_equal(inputs[u][real].numpy(), seq[: len(seq) - 3])
        np.testing.assert_array_equal(targets[u][real].numpy(), seq[1 : len(seq) - 2])


def test_users_with_fewer_than_three_items_are_rejected():
    from lares_bench.data.dataset import SequenceData

    data = SequenceData.from_sequences("short", [[1, 2, 3], [1, 2]], 3)
    try:
        LeaveOneOutSplit.from_data(data, 10)
    except ValueError as e:
        assert "fewer than 3" in str(e)
    else:
        raise AssertionError("expected an error")
