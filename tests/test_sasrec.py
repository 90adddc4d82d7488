import torch

from baselines import build_model
from tests.model_checks import (
    check_causal,
    check_loss_decreases,
    check_scores_shape,
    make_split,
    small_config,
)


def test_sasrec_contract():
    for name in ("sasrec", "sasrec-bce"):
        check_scores_shape(name)
        check_loss_decreases(name)
        check_causal(name)


def test_padding_to_batch_length_equals_padding_to_max_len():
    split = make_split(max_len=10)
    model = build_model("sasrec", split.n_items, small_config("sasrec")).eval()
    users = torch.arange(5)
    end = split.input_end("valid")[users]
    short = split.windows(users, end)
    full = split.windows(users, end, length=10)
    assert short.shape[1] <= full.shape[1]
    torch.testing.assert_close(model.final_state(short), model.final_state(full))


def test_sdpa_and_eager_sasrec_agree():
    split = make_split()
    fused = build_model("sasrec", split.n_items, small_config("sasrec")).eval()
    eager = build_model("sasrec", split.n_items, small_config("sasrec", use_sdpa=False)).eval()
    eager.load_state_dict(fused.state_dict())
    inputs, _ = split.part_inputs("test", torch.arange(16))
    torch.testing.assert_close(fused.scores(inputs), eager.scores(inputs), rtol=1e-5, atol=1e-5)


def test_bce_negatives_avoid_the_training_sequence():
    from baselines.losses import sample_negatives

    torch.manual_seed(0)
    targets = torch.randint(1, 6, (50, 4))
    exclude = torch.tensor([[1, 2, 3, 4]]).expand(50, 4)
    neg = sample_negatives(targets, exclude, n_items=6, rounds=50)
    assert ((neg == 5) | (neg == 6)).all()
