import torch

from baselines import build_model
from lares_bench.config import TrainConfig
from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.training import training_batches
from tests.helpers import random_data
from tests.model_checks import (
    check_loss_decreases,
    check_scores_shape,
    first_batch,
    make_split,
    small_config,
)


def build(split, **extra):
    return build_model("bert4rec", split.n_items, small_config("bert4rec", **extra))


def test_bert4rec_contract():
    check_scores_shape("bert4rec")
    check_loss_decreases("bert4rec")


def test_mask_column_is_excluded_and_scoring_uses_a_mask_slot():
    split = make_split(max_len=10)
    model = build(split, max_len=10).eval()
    users = torch.arange(4)
    inputs, _ = split.part_inputs("test", users)
    s = model.scores(inputs, users)
    assert torch.isinf(s[:, model.mask_id]).all() and (s[:, model.mask_id] < 0).all()
    slotted = model.with_mask_slot(inputs)
    assert slotted.shape[1] <= 10 and (slotted[:, -1] == model.mask_id).all()
    torch.testing.assert_close(slotted[:, :-1], inputs[:, -9:])


def test_training_prefix_is_the_whole_training_sequence():
    split = make_split(max_len=10)
    model = build(split, max_len=10)
    batch = first_batch(model, split)
    prefix = model.training_prefix(batch)
    expected = split.windows(batch.users, split.train_end()[batch.users], prefix.shape[1])
    assert torch.equal(prefix, expected)


def test_no_validation_or_test_item_reaches_training():
    data = random_data(n_users=30, max_len=12, unique=True)
    split = LeaveOneOutSplit.from_data(data, max_len=20)
    model = build(split, max_len=20, mask_prob=0.5, last_item_mask_prob=0.3)
    held_out = torch.cat([split.targets("valid"), split.targets("test")])
    seen = []
    gen = torch.Generator().manual_seed(0)
    for batch in training_batches(model, split, TrainConfig(batch_size=8), gen):
        masked, labels = model.cloze(model.training_prefix(batch))
        seen += [masked[masked <= split.n_items], labels]
    seen = torch.cat([s.flatten() for s in seen])
    assert not torch.isin(held_out, seen).any()
    # ... while every training item of users with >= 2 training items is used
    users = torch.nonzero(split.train_lengths() > 0).squeeze(1)
    _, train_items = split.history_items("valid", users)
    assert torch.isin(train_items, seen).all()


def test_cloze_masks_real_positions_and_at_least_one_per_row():
    torch.manual_seed(0)
    split = make_split()
    model = build(split, mask_prob=0.2)
    seq = torch.randint(1, split.n_items + 1, (400, 10))
    seq[:, :4] = 0  # left padding
    masked, labels = model.cloze(seq)
    is_mask = masked == model.mask_id
    assert not is_mask[:, :4].any()
    assert is_mask.any(1).all()
    assert torch.equal(labels[is_mask], seq[is_mask]) and (labels[~is_mask] == 0).all()
    assert 0.15 < is_mask[:, 4:].float().mean() < 0.3
    only_last = build(split, last_item_mask_prob=1.0)
    masked, _ = only_last.cloze(seq)
    assert ((masked == model.mask_id).sum(1) == 1).all() and (masked[:, -1] == model.mask_id).all()


def test_unmasked_positions_do_not_contribute_to_the_loss():
    torch.manual_seed(0)
    split = make_split()
    model = build(split).eval()  # no dropout: the loss is a deterministic function
    seq = torch.randint(1, split.n_items + 1, (16, 8))
    masked, labels = model.cloze(seq)
    loss = model.cloze_loss(masked, labels)
    noise = torch.randint(1, split.n_items + 1, labels.shape)
    other = torch.where(masked == model.mask_id, labels, noise)  # change unmasked labels only
    torch.testing.assert_close(model.cloze_loss(masked, other), loss)
    changed = torch.where(masked == model.mask_id, noise, labels)
    assert not torch.allclose(model.cloze_loss(masked, changed), loss)


def test_attention_is_bidirectional():
    split = make_split()
    model = build(split).eval()
    seq = torch.tensor([[0, 3, 4, 5, 6]])
    other = seq.clone()
    other[0, -1] = 9
    with torch.no_grad():
        assert not torch.allclose(model.encode(seq)[:, 1], model.encode(other)[:, 1])
