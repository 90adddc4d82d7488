import dataclasses

import pytest
import torch

from baselines import build_model
from baselines.cl4srec import nt_xent
from baselines.losses import full_ce
from tests.model_checks import (
    check_causal,
    check_loss_decreases,
    check_scores_shape,
    first_batch,
    make_split,
    small_config,
)


def test_duorec_contract():
    check_scores_shape("duorec")
    check_loss_decreases("duorec")
    check_causal("duorec")


def _prepared(**extra):
    split = make_split()
    model = build_model("duorec", split.n_items, small_config("duorec", **extra))
    model.prepare(split)
    return split, model


def test_partners_are_training_windows_with_the_same_target():
    split, model = _prepared()
    batch = first_batch(model, split)
    assert batch.example_ids is not None
    torch.manual_seed(0)
    partner = model.partner_inputs(batch)  # [B, L']
    ends = split.train_example_ends()
    all_windows = split.windows(split.example_users(ends), ends, length=split.max_len)
    all_targets = split.items[ends]
    pad = split.max_len - partner.shape[1]
    partner = torch.nn.functional.pad(partner, (pad, 0))  # left-pad to max_len
    same = (partner.unsqueeze(1) == all_windows.unsqueeze(0)).all(-1)  # [B, N]
    same &= all_targets.unsqueeze(0) == batch.targets.unsqueeze(1)
    assert same.any(1).all()


def test_us_x_is_ce_plus_lmd_sem_infonce_of_dropout_view_and_partner():
    split, model = _prepared()
    model.eval()  # no dropout: the unsupervised view equals h, so the terms can be recomputed
    batch = first_batch(model, split)
    torch.manual_seed(1)
    loss = model.training_loss(batch)
    torch.manual_seed(1)
    partner = model.partner_inputs(batch)
    with torch.no_grad():
        h = model.final_state(batch.inputs)
        ce = full_ce(h, batch.targets, model.item_embeddings())
        expect = ce + 0.1 * nt_xent(h, model.final_state(partner))
    torch.testing.assert_close(loss.detach(), expect)


def test_every_contrast_mode_trains():
    split = make_split()
    base = small_config("duorec")
    modes = [("us_x", True), ("us", True), ("un", False), ("su", False), ("none", False)]
    for mode, mask_same in modes:
        cfg = dataclasses.replace(base, contrast=mode, mask_same_target=mask_same)
        model = build_model("duorec", split.n_items, cfg)
        model.prepare(split)
        batch = first_batch(model, split, batch_size=32)
        loss = model.training_loss(batch)
        assert torch.isfinite(loss)
        loss.backward()
    model.eval()
    with torch.no_grad():
        h = model.final_state(batch.inputs)
        ce = full_ce(h, batch.targets, model.item_embeddings())
        torch.testing.assert_close(model.training_loss(batch), ce)  # "none" = CE only


def test_unprepared_model_says_prepare_must_run():
    split = make_split()
    model = build_model("duorec", split.n_items, small_config("duorec"))
    batch = first_batch(model, split)
    with pytest.raises(RuntimeError, match="prepare"):
        model.partner_inputs(batch)
