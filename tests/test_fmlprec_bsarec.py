import pytest
import torch

from baselines import build_model, get_spec
from tests.model_checks import check_loss_decreases, check_scores_shape, make_split, small_config

MODELS = ["fmlprec", "bsarec"]


@pytest.mark.parametrize("name", MODELS)
def test_contract(name):
    check_scores_shape(name)
    check_loss_decreases(name)


@pytest.mark.parametrize("name", MODELS)
def test_trained_one_example_at_a_time_because_the_filter_is_not_causal(name):
    """The filter mixes every position: changing the newest item changes earlier states, which
    is why these models train in example mode with the loss at the last position."""
    split = make_split()
    model = build_model(name, split.n_items, small_config(name)).eval()
    assert model.train_mode == "example"
    seq = torch.tensor([[0, 0, 3, 4, 5, 6, 7, 8]])
    other = seq.clone()
    other[0, -1] = 20
    with torch.no_grad():
        a, b = model.encode(seq), model.encode(other)
    assert a.shape == (1, 8, small_config(name).d)
    assert not torch.allclose(a[:, :-1], b[:, :-1])


@pytest.mark.parametrize("name", MODELS)
def test_padding_to_batch_length_equals_padding_to_max_len(name):
    split = make_split(max_len=10)
    model = build_model(name, split.n_items, small_config(name, max_len=10)).eval()
    short = torch.tensor([[0, 3, 4, 5], [6, 7, 8, 9]])  # padded to the batch's longest row
    full = torch.cat([torch.zeros(2, 6, dtype=torch.long), short], dim=1)  # padded to max_len
    with torch.no_grad():
        torch.testing.assert_close(model.final_state(short), model.final_state(full))
    with pytest.raises(ValueError, match="max_len"):
        model.encode(torch.ones(1, 11, dtype=torch.long))


def test_bsarec_defaults_are_the_published_beauty_run():
    spec = get_spec("bsarec")
    cfg = spec.default_config()
    assert (cfg.n_layers, cfg.n_heads, cfg.alpha, cfg.c) == (2, 1, 0.7, 5)
    assert spec.train_overrides == {"lr": 5e-4}
    assert get_spec("fmlprec").default_config().hidden_dropout == 0.5


def test_bsarec_sdpa_and_eager_agree():
    split = make_split()
    fused = build_model("bsarec", split.n_items, small_config("bsarec", n_heads=2)).eval()
    eager_cfg = small_config("bsarec", n_heads=2, use_sdpa=False)
    eager = build_model("bsarec", split.n_items, eager_cfg).eval()
    eager.load_state_dict(fused.state_dict())
    inputs, _ = split.part_inputs("test", torch.arange(16))
    torch.testing.assert_close(fused.scores(inputs), eager.scores(inputs), rtol=1e-5, atol=1e-5)
