"""The built-in synthetic dataset: deterministic, well formed, and needing two items of context."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lares_bench.data.load import load_dataset
from lares_bench.data.synthetic import SyntheticConfig, generate_synthetic, make_world


def test_deterministic_given_the_seed():
    a = generate_synthetic(SyntheticConfig(seed=3))
    b = generate_synthetic(SyntheticConfig(seed=3))
    c = generate_synthetic(SyntheticConfig(seed=4))
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != c.fingerprint()


def test_shape_ids_and_lengths():
    config = SyntheticConfig()
    data = generate_synthetic(config)
    assert data.name == "synthetic"
    assert data.n_users == config.n_users and data.n_items == config.n_items
    assert data.items.min() >= 1 and data.items.max() <= config.n_items
    assert data.lengths.min() >= config.min_len and data.lengths.max() <= config.max_len
    assert len(np.unique(data.items)) > 0.9 * config.n_items  # the catalogue is used


def test_fast():
    start = time.perf_counter()
    generate_synthetic()
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    "bad",
    [dict(n_items=501), dict(n_clusters=1), dict(n_users=0), dict(min_len=2), dict(noise=1.5)],
)
def test_bad_config(bad):
    with pytest.raises(ValueError, match="synthetic"):
        SyntheticConfig(**bad)


def test_follows_the_rule_except_for_noise():
    config = SyntheticConfig(noise=0.1)
    world = make_world(config)
    data = generate_synthetic(config)
    hits, total = 0, 0
    for seq in data.sequences():
        rule = world.rule_cluster(seq[:-2], seq[1:-1])
        hits += int((world.cluster[seq[2:]] == rule).sum())
        total += len(seq) - 2
    assert 0.88 < hits / total < 0.95  # 90% ruled plus noise that lands in the same cluster


def _context_hit_rate(config: SyntheticConfig, context: int) -> float:
    """HR@10 of a count model of the next item given the clusters of the last `context`
    items (0 = popularity), fit on 2/3 of the users and scored on the rest."""
    world = make_world(config)
    data = generate_synthetic(config)
    n_clusters = config.n_clusters

    def examples(seqs):
        keys, targets = [], []
        for seq in seqs:
            clusters = world.cluster[seq]
            key = np.zeros(len(seq) - 2, dtype=np.int64)
            for j in range(1, context + 1):
                key = key * n_clusters + clusters[2 - j : len(seq) - j]
            keys.append(key)
            targets.append(seq[2:])
        return np.concatenate(keys), np.concatenate(targets)

    seqs = data.sequences()
    split = 2 * len(seqs) // 3
    train_keys, train_targets = examples(seqs[:split])
    test_keys, test_targets = examples(seqs[split:])
    counts = np.zeros((n_clusters**context, config.n_items + 1))
    np.add.at(counts, (train_keys, train_targets), 1)
    top10 = np.argsort(-counts, axis=1, kind="stable")[:, :10]
    return float((top10[test_keys] == test_targets[:, None]).any(axis=1).mean())


def test_two_items_of_context_beat_the_last_item_alone():
    config = SyntheticConfig(n_users=4000, seed=1)
    popularity, last_only, last_two = (_context_hit_rate(config, k) for k in (0, 1, 2))
    assert last_only > popularity + 0.05
    assert last_two > last_only + 0.1  # the rule needs both previous items


def test_load_dataset_passes_overrides_and_rejects_them_elsewhere():
    data = load_dataset("synthetic", None, n_users=50, n_items=100, seed=7)
    assert data.n_users == 50 and data.n_items == 100
    with pytest.raises(TypeError, match="only apply to the synthetic dataset"):
        load_dataset("beauty", None, n_users=50)
