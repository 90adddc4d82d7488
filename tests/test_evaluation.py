import numpy as np
import torch

from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.evaluation import metrics_from_ranks, pessimistic_ranks, rank_part
from tests.helpers import random_data


def brute_force_rank(scores_row, target, masked, mode):
    """Reference: loop over items, pessimistic ties, history handled per mode."""
    s = scores_row.copy()
    for item in masked:
        if item != target:
            s[item] = -np.inf if mode == "inf" else (0.0 if mode == "zero" else s[item])
    rank = 1
    for item in range(1, len(s)):
        if item == target:
            continue
        if s[item] > s[target] or s[item] == s[target]:
            rank += 1
    return rank


def test_ranks_match_brute_force_with_ties_and_masks():
    rng = np.random.default_rng(0)
    n_items, B = 25, 30
    # rounded scores create many ties
    scores = np.round(rng.normal(size=(B, n_items + 1)), 1)
    targets = rng.integers(1, n_items + 1, B)
    history = [rng.choice(np.arange(1, n_items + 1), rng.integers(0, 6), replace=False) for _ in range(B)]
    rows = torch.tensor(np.concatenate([[b] * len(h) for b, h in enumerate(history)]), dtype=torch.long)
    items = torch.tensor(np.concatenate(history), dtype=torch.long)
    for mode in ("inf", "none", "zero"):
        got = pessimistic_ranks(
            torch.tensor(scores), torch.tensor(targets), n_items, (rows, items), mode
        ).numpy()
        want = [brute_force_rank(scores[b], targets[b], history[b], mode) for b in range(B)]
        np.testing.assert_array_equal(got, want, err_msg=mode)


def test_padding_and_extra_columns_are_never_ranked():
    n_items = 10
    scores = torch.zeros(1, n_items + 2)
    scores[0, 0] = 100.0  # padding column
    scores[0, -1] = 100.0  # e.g. a mask token column
    scores[0, 3] = 1.0
    assert pessimistic_ranks(scores, torch.tensor([3]), n_items).item() == 1


def test_metrics_against_hand_computed_values():
    ranks = np.array([1, 2, 5, 11, 30])
    m = metrics_from_ranks(ranks, ks=(5, 10))
    assert m["HR@5"] == 3 / 5
    assert m["HR@10"] == 3 / 5
    ndcg5 = (1 / np.log2(2) + 1 / np.log2(3) + 1 / np.log2(6)) / 5
    assert abs(m["NDCG@5"] - ndcg5) < 1e-12
    assert abs(m["MRR"] - np.mean(1 / ranks)) < 1e-12


def test_constant_scores_rank_last_and_random_scores_give_k_over_items():
    data = random_data(n_users=3000, n_items=200, seed=1)
    split = LeaveOneOutSplit.from_data(data, max_len=50)
    n = data.n_items

    def constant(users, inputs):
        return torch.zeros(len(users), n + 1)

    ranks = rank_part(constant, split, "test", history_mask="none")
    # pessimistic ties: every other item ties with the target, so the target ranks last
    assert (ranks == n).all()
    assert metrics_from_ranks(ranks)["HR@20"] == 0.0

    gen = torch.Generator().manual_seed(0)

    def random_scores(users, inputs):
        return torch.rand(len(users), n + 1, generator=gen)

    hr20 = metrics_from_ranks(rank_part(random_scores, split, "test", history_mask="none"))["HR@20"]
    expected, sd = 20 / n, np.sqrt(20 / n * (1 - 20 / n) / 3000)
    assert abs(hr20 - expected) < 4 * sd


def test_history_mask_removes_exactly_the_history_items():
    data = random_data(n_users=50, n_items=40, seed=2)
    split = LeaveOneOutSplit.from_data(data, max_len=5)  # history longer than the window
    users = torch.arange(split.n_users)
    rows, items = split.history_items("test", users)
    for u in range(split.n_users):
        seq = data.sequence(u)
        assert set(items[rows == u].tolist()) == set(seq[:-1].tolist())
    # scoring every history item highest: with the inf mask the target competes with
    # non-history items only
    def history_first(users_, inputs):
        s = torch.zeros(len(users_), split.n_items + 1)
        r, it = split.history_items("test", users_)
        s[r, it] = 10.0
        return s

    ranks = rank_part(history_first, split, "test", history_mask="inf")
    for u in range(split.n_users):
        seq = data.sequence(u)
        target, hist = seq[-1], set(seq[:-1].tolist())
        if target in hist:
            # a repeated target keeps its high score: ties only with itself
            assert ranks[u] == 1
        else:
            assert ranks[u] == split.n_items - len(hist)


def test_rank_part_returns_users_in_order_despite_length_sorting():
    data = random_data(n_users=64, n_items=30, seed=3)
    split = LeaveOneOutSplit.from_data(data, max_len=50)

    def target_best(users, inputs):
        s = torch.zeros(len(users), split.n_items + 1)
        s[torch.arange(len(users)), split.targets("valid", users)] = users.float() + 1
        return s

    ranks = rank_part(target_best, split, "valid", history_mask="none", batch_size=7)
    assert (ranks == 1).all()
