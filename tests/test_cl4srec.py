import math

import torch
import torch.nn.functional as F

from baselines import build_model
from baselines.augment import CROP, MASK, REORDER, augment, crop, mask, reorder, two_views
from baselines.cl4srec import nt_xent
from tests.model_checks import (
    check_causal,
    check_loss_decreases,
    check_scores_shape,
    make_split,
    small_config,
)

MASK_ID = 999


def _batch(B=64, L=12, seed=0):
    """Left-padded rows of distinct items (ids 1..900), lengths 0..L, so every item identifies
    its position."""
    gen = torch.Generator().manual_seed(seed)
    n = torch.randint(0, L + 1, (B,), generator=gen)
    n[:3] = torch.tensor([L, 1, 0])
    items = torch.randperm(900, generator=gen)[: B * L].view(B, L) + 1
    cols = torch.arange(L).unsqueeze(0)
    return torch.where(cols >= L - n.unsqueeze(1), items, torch.zeros_like(items)), n


def _left_padded(row):
    real = row > 0
    return bool((real[1:] >= real[:-1]).all())  # once real, always real


def test_crop_keeps_a_contiguous_run_re_left_padded():
    seq, n = _batch()
    before = seq.clone()
    for eta in (0.2, 0.6):
        out = crop(seq, eta, torch.Generator().manual_seed(1))
        assert torch.equal(seq, before)  # pure
        for row, o, k in zip(seq, out, n.tolist(), strict=True):
            expect = max(1, math.floor(k * eta)) if k else 0
            kept = o[o > 0]
            assert len(kept) == expect and _left_padded(o)
            real = row[row > 0].tolist()
            start = real.index(kept[0].item()) if expect else 0
            assert real[start : start + expect] == kept.tolist()


def test_crop_offsets_cover_every_start():
    seq = torch.arange(1, 11).unsqueeze(0).repeat(500, 1)  # n = 10, eta 0.6 -> keep 6
    out = crop(seq, 0.6, torch.Generator().manual_seed(2))
    assert set(out[:, -6].tolist()) == {1, 2, 3, 4, 5}


def test_mask_replaces_the_right_number_of_real_items():
    seq, n = _batch()
    out = mask(seq, 0.3, MASK_ID, torch.Generator().manual_seed(3))
    masked = out == MASK_ID
    assert torch.equal(masked.sum(1), torch.floor(n * 0.3).long())
    assert not (masked & (seq == 0)).any()  # padding never masked
    assert torch.equal(out[~masked], seq[~masked])  # everything else untouched


def test_reorder_permutes_one_contiguous_run():
    seq, n = _batch()
    out = reorder(seq, 0.6, torch.Generator().manual_seed(4))
    assert torch.equal(out.sort(1).values, seq.sort(1).values)  # same items, same padding
    assert torch.equal(out == 0, seq == 0)
    for row, o, k in zip(seq, out, n.tolist(), strict=True):
        moved = torch.nonzero(row != o).squeeze(1)
        if len(moved):
            assert moved.max() - moved.min() + 1 <= math.floor(k * 0.6)


def test_reorder_shuffles():
    seq = torch.arange(1, 6).unsqueeze(0).repeat(400, 1)
    out = reorder(seq, 1.0, torch.Generator().manual_seed(5))
    assert len({tuple(r) for r in out.tolist()}) > 60  # many of the 120 permutations


def test_augment_picks_per_row():
    seq, _ = _batch(B=6)
    kinds = torch.tensor([CROP, MASK, REORDER, MASK, CROP, REORDER])
    out = augment(seq, kinds, 0.5, 0.5, 0.5, MASK_ID, torch.Generator().manual_seed(6))
    assert (out[[1, 3]] == MASK_ID).any() or (seq[[1, 3]] > 0).sum() < 2
    assert not (out[[0, 2, 4, 5]] == MASK_ID).any()


def _kind(view, n):
    if (view == MASK_ID).any():
        return MASK
    return CROP if (view > 0).sum() < n else REORDER


def test_two_views_use_two_different_augmentations():
    seq = torch.arange(1, 11).unsqueeze(0).repeat(300, 1)  # n = 10
    v1, v2 = two_views(seq, 0.5, 0.5, 1.0, MASK_ID, torch.Generator().manual_seed(7))
    pairs = [(_kind(a, 10), _kind(b, 10)) for a, b in zip(v1, v2, strict=True)]
    # a full reorder can return the identity (1 in 10!): classify it as reorder as well
    assert all(a != b for a, b in pairs)
    assert len(set(pairs)) == 6  # all ordered pairs of distinct augmentations occur


def test_nt_xent_matches_positive_plus_2b_minus_2_negatives():
    torch.manual_seed(0)
    z1, z2 = torch.randn(5, 8), torch.randn(5, 8)
    z = torch.cat([z1, z2])
    sim = z @ z.T
    N, B = 10, 5
    keep = ~torch.eye(N, dtype=torch.bool)
    keep[torch.arange(N), (torch.arange(N) + B) % N] = False
    pos = sim[torch.arange(N), (torch.arange(N) + B) % N].unsqueeze(1)
    logits = torch.cat([pos, sim[keep].view(N, N - 2)], 1)
    expect = F.cross_entropy(logits, torch.zeros(N, dtype=torch.long))
    torch.testing.assert_close(nt_xent(z1, z2), expect)
    # grouping drops the same-group negatives only
    groups = torch.tensor([1, 1, 2, 3, 4])
    assert nt_xent(z1, z2, groups=groups) < expect
    torch.testing.assert_close(nt_xent(z1, z2, groups=torch.arange(5)), expect)


def test_cl4srec_contract():
    check_scores_shape("cl4srec")
    check_loss_decreases("cl4srec")
    check_causal("cl4srec")


def test_mask_token_is_not_scored():
    split = make_split()
    model = build_model("cl4srec", split.n_items, small_config("cl4srec")).eval()
    assert model.mask_id == split.n_items + 1
    assert model.item_embeddings().shape[0] == split.n_items + 1
    inputs, _ = split.part_inputs("test", torch.arange(4))
    assert model.scores(inputs).shape == (4, split.n_items + 1)
    masked = inputs.clone()
    masked[:, -2] = model.mask_id
    assert torch.isfinite(model.scores(masked)[:, 1:]).all()
