import pytest
import torch

from baselines import build_model
from baselines.layers import attention_mask
from tests.model_checks import (
    check_causal,
    check_loss_decreases,
    check_scores_shape,
    first_batch,
    make_split,
    small_config,
)

MODELS = ["rearec-erl", "rearec-prl"]


@pytest.mark.parametrize("name", MODELS)
def test_contract(name):
    check_scores_shape(name)
    check_loss_decreases(name)
    check_causal(name)  # the base states h_0: an earlier position ignores the newest item


def test_prl_with_the_noisy_view_trains():
    # warmup -1: the noisy view and its InfoNCE are on from the first step
    check_loss_decreases("rearec-prl", steps=20, warmup_epochs=-1)


def test_parameters_grow_with_k_only_by_the_reasoning_position_embeddings():
    counts = {
        k: build_model("rearec-erl", 40, small_config("rearec-erl", reason_steps=k)).n_parameters()
        for k in (0, 1, 2, 4)
    }
    d = small_config("rearec-erl").d
    assert all(counts[k] - counts[0] == k * d for k in counts)


def test_prl_temperatures_follow_the_formula():
    model = build_model(
        "rearec-prl", 40, small_config("rearec-prl", reason_steps=3, temperature=0.1, temp_scale=5)
    )
    expected = [0.1 * 5 ** (3 - k) for k in range(4)]  # tau_k = tau * alpha^(K - k)
    assert model.step_temperatures().tolist() == pytest.approx(expected)


def test_step_states_and_final_representations():
    split = make_split()
    users = torch.arange(6)
    inputs, _ = split.part_inputs("test", users)
    erl = build_model("rearec-erl", split.n_items, small_config("rearec-erl")).eval()
    prl = build_model("rearec-prl", split.n_items, small_config("rearec-prl")).eval()
    prl.load_state_dict(erl.state_dict())
    with torch.no_grad():
        states, _ = erl.reason(inputs)  # [B, K+1, d]
        assert states.shape == (6, 3, erl.config.d)
        torch.testing.assert_close(states[:, 0], erl.encode(inputs)[:, -1])  # h_0
        torch.testing.assert_close(erl.final_state(inputs), states.mean(1))  # h_0 included
        torch.testing.assert_close(prl.final_state(inputs), states[:, -1])
        assert not torch.allclose(states[:, 1], states[:, 0])  # the steps do something


def test_noisy_copy_without_noise_equals_the_clean_one():
    split = make_split()
    model = build_model("rearec-prl", split.n_items, small_config("rearec-prl", noise_std=0.0))
    inputs, _ = split.part_inputs("test", torch.arange(6))
    with torch.no_grad():
        clean, noisy = model.eval().reason(inputs, noisy=True)
    torch.testing.assert_close(clean, noisy)


def test_erl_divergence_is_zero_for_equal_steps_and_positive_otherwise():
    model = build_model("rearec-erl", 40, small_config("rearec-erl"))
    same = torch.randn(4, 1, model.config.d).expand(4, 3, -1)
    assert model.step_divergence(same).abs() < 1e-5
    assert model.step_divergence(torch.randn(4, 3, model.config.d)) > 0


def plain_pairwise_kl(logits):
    """KL(p_j || sg(p_i)) written out for every ordered pair i != j: [pairs, B]."""
    logp = logits.log_softmax(-1)  # [B, T, N]
    T = logits.shape[1]
    terms = [
        (logp[:, j].exp() * (logp[:, j] - logp[:, i].detach())).sum(-1)
        for i in range(T) for j in range(T) if i != j
    ]
    return torch.stack(terms)


def plain_step_divergence(states, emb, tau):
    """The ERL term written out: mean over i != j of KL(p_j || sg(p_i))."""
    return plain_pairwise_kl(states @ emb.T / tau).mean()


def test_erl_divergence_value_and_gradients_match_the_plain_kl():
    model = build_model("rearec-erl", 40, small_config("rearec-erl", reason_steps=3))
    states = (torch.randn(5, 4, model.config.d) * 3).requires_grad_()
    fast = model.step_divergence(states)
    fast_grads = torch.autograd.grad(fast, [states, model.embed.item.weight])
    plain = plain_step_divergence(states, model.item_embeddings()[1:], model.config.temperature)
    plain_grads = torch.autograd.grad(plain, [states, model.embed.item.weight])
    torch.testing.assert_close(fast, plain)
    for got, want in zip(fast_grads, plain_grads, strict=True):
        assert want.abs().max() > 0
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


def test_pairwise_step_kl_matches_the_written_out_kl_in_float64():
    """The custom autograd function (gradient formed in the forward pass) against autograd
    through the KL written out, at float64 precision, T = 2..4 steps."""
    from baselines.rearec import PairwiseStepKL

    for T in (2, 3, 4):
        logits = (torch.randn(3, T, 11, dtype=torch.float64) * 4).requires_grad_()
        plain = plain_pairwise_kl(logits).sum()
        fast = PairwiseStepKL.apply(logits)
        (want,) = torch.autograd.grad(plain * 0.7, logits)
        (got,) = torch.autograd.grad(fast * 0.7, logits)
        torch.testing.assert_close(fast, plain, rtol=1e-12, atol=1e-12)
        assert want.abs().max() > 1e-3
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_training_loss_uses_the_noisy_view_only_after_warmup():
    split = make_split()
    model = build_model("rearec-prl", split.n_items, small_config("rearec-prl"))
    batch = first_batch(model, split)
    calls = []
    original = model.info_nce
    model.info_nce = lambda *a: calls.append(1) or original(*a)
    model.train()
    model.set_epoch(model.config.warmup_epochs)
    model.training_loss(batch)
    assert not calls
    model.set_epoch(model.config.warmup_epochs + 1)
    assert torch.isfinite(model.training_loss(batch)) and calls


def test_cached_steps_equal_rerunning_the_encoder_on_the_extended_sequence():
    split = make_split()
    model = build_model("rearec-erl", split.n_items, small_config("rearec-erl")).eval()
    inputs, _ = split.part_inputs("test", torch.arange(6))
    with torch.no_grad():
        states, _ = model.reason(inputs)
        x, seq = model.embed(inputs), inputs
        for k in range(model.config.reason_steps + 1):
            h = model.encoder(x, attention_mask(seq))[:, -1]  # full causal re-run
            torch.testing.assert_close(states[:, k], h, rtol=1e-5, atol=1e-5)
            if k < model.config.reason_steps:
                token = model.embed.norm(h + model.reason_pos.weight[k])
                x = torch.cat([x, token.unsqueeze(1)], dim=1)
                seq = torch.cat([seq, torch.ones_like(seq[:, :1])], dim=1)
