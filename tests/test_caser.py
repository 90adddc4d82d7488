import pytest
import torch

from baselines import build_model
from lares_bench.config import EvalConfig, TrainConfig
from lares_bench.training import train_model
from tests.model_checks import check_loss_decreases, check_scores_shape, make_split, small_config

N_USERS = 200  # users of tests.model_checks.make_split()


def build(split, **extra):
    return build_model("caser", split.n_items, small_config("caser", **extra))


def test_caser_contract():
    check_scores_shape("caser", n_users=N_USERS)
    check_loss_decreases("caser", n_users=N_USERS)


def test_only_the_last_L_items_and_the_user_matter():
    split = make_split()
    model = build(split, n_users=N_USERS, L=3).eval()
    users = torch.tensor([0, 0])
    seq = torch.tensor([[1, 2, 3, 4, 5, 6], [9, 9, 3, 4, 5, 6]])  # differ before the last 3
    with torch.no_grad():
        s = model.scores(seq, users)
        narrow = model.scores(torch.tensor([[5, 6]]), torch.tensor([0]))  # padded to L on the left
        padded = model.scores(torch.tensor([[0, 5, 6]]), torch.tensor([0]))
        other_user = model.scores(seq[:1], torch.tensor([1]))
    torch.testing.assert_close(s[0], s[1])
    torch.testing.assert_close(narrow, padded)
    assert not torch.allclose(s[:1], other_user)
    assert s.shape[1] == split.n_items + 1 and torch.isinf(s[:, 0]).all()


def test_user_embedding_is_made_in_prepare_and_trained():
    split = make_split()
    model = build(split)
    assert model.user is None
    with pytest.raises(RuntimeError):
        model.scores(torch.tensor([[1, 2]]), torch.tensor([0]))
    cfg = TrainConfig(epochs=1, batch_size=256, seed=0, eval_batch_size=256)
    model.prepare(split)  # the trainer calls it again: must be a no-op
    before = model.user.weight.detach().clone()
    train_model(model, split, cfg, EvalConfig(), progress=False)
    assert model.user.num_embeddings == split.n_users
    assert not torch.equal(before, model.user.weight)


def test_prepare_rejects_a_wrong_user_count():
    split = make_split()
    model = build(split, n_users=N_USERS + 1)
    with pytest.raises(ValueError, match="n_users"):
        model.prepare(split)
