import numpy as np
import pytest
from scipy import stats as sps

from lares_bench.stats import holm, paired_test, per_user_metric, seed_level_test


def test_per_user_metric_by_hand():
    ranks = np.array([1, 3, 11])
    np.testing.assert_allclose(per_user_metric(ranks, "HR@10"), [1, 1, 0])
    np.testing.assert_allclose(per_user_metric(ranks, "NDCG@10"), [1, 0.5, 0])
    np.testing.assert_allclose(per_user_metric(ranks, "MRR"), [1, 1 / 3, 1 / 11])


def test_paired_ttest_on_hand_made_ranks_matches_scipy():
    a = np.array([1, 2, 1, 5, 30, 1, 2, 4])
    b = np.array([3, 2, 8, 5, 40, 2, 9, 4])
    res = paired_test(a, b, "NDCG@10")
    ndcg = lambda r: np.where(r <= 10, 1 / np.log2(r + 1), 0.0)  # noqa: E731
    want = sps.ttest_rel(ndcg(a), ndcg(b))
    assert res.p_value == pytest.approx(want.pvalue)
    assert res.mean_a > res.mean_b
    w = paired_test(a, b, "NDCG@10", test="wilcoxon")
    assert w.p_value == pytest.approx(sps.wilcoxon(ndcg(a), ndcg(b)).pvalue)


def test_seeds_are_averaged_per_user():
    a = np.array([[1, 20], [3, 20]])  # two seeds
    res = paired_test(a, np.array([[20, 20], [20, 20]]), "HR@10")
    assert res.mean_a == 0.5 and res.n_users == 2


def test_holm_by_hand():
    # sorted p: 0.01*3=0.03, 0.02*2=0.04, 0.04*1=0.04 (monotone)
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])


def test_seed_level_test_is_welch_over_per_seed_means():
    a = np.array([[1, 20, 1], [1, 20, 20], [1, 1, 20]])  # HR@10 per seed: 2/3, 1/3, 2/3
    b = np.array([[20, 20, 1], [20, 20, 20]])  # 1/3, 0
    res = seed_level_test(a, b, "HR@10")
    np.testing.assert_allclose(res.seed_means_a, [2 / 3, 1 / 3, 2 / 3])
    np.testing.assert_allclose(res.seed_means_b, [1 / 3, 0])
    want = sps.ttest_ind([2 / 3, 1 / 3, 2 / 3], [1 / 3, 0], equal_var=False).pvalue
    assert res.p_value == pytest.approx(want)
    # one seed on a side: no seed-to-seed variance, so no test
    assert np.isnan(seed_level_test(a[:1], b, "HR@10").p_value)
