import pytest
import torch

from baselines import build_model
from baselines.gru4rec import left_to_right_aligned
from tests.model_checks import (
    check_causal,
    check_loss_decreases,
    check_scores_shape,
    make_split,
    small_config,
)


def test_gru4rec_contract():
    check_scores_shape("gru4rec", hidden=32)
    check_loss_decreases("gru4rec", hidden=32)
    check_causal("gru4rec", hidden=32)


def test_roll_moves_left_padding_to_the_right():
    seq = torch.tensor([[0, 0, 3, 4], [5, 6, 7, 8], [0, 0, 0, 9]])
    right, n_pad = left_to_right_aligned(seq)
    assert right.tolist() == [[3, 4, 0, 0], [5, 6, 7, 8], [9, 0, 0, 0]]
    assert n_pad.squeeze(1).tolist() == [2, 0, 3]


@pytest.mark.parametrize("bias", [False, True])
def test_extra_left_padding_changes_nothing(bias):
    # with biases a GRU run over zero inputs moves its state: the roll must make that harmless
    split = make_split()
    model = build_model("gru4rec", split.n_items, small_config("gru4rec", hidden=32, gru_bias=bias))
    model.eval()
    short = torch.tensor([[0, 3, 4, 5], [6, 7, 8, 9]])
    long = torch.cat([torch.zeros(2, 3, dtype=torch.long), short], dim=1)
    with torch.no_grad():
        a, b = model.encode(short), model.encode(long)
    torch.testing.assert_close(a, b[:, 3:])
    assert (b[:, :3] == 0).all()
    # a row is encoded as if it were alone in the batch
    with torch.no_grad():
        alone = model.encode(torch.tensor([[3, 4, 5]]))
    torch.testing.assert_close(a[0, 1:], alone[0])

