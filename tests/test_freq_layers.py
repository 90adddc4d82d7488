import math

import pytest
import torch

from baselines.freq_layers import BSARecLayer, FilterLayer, left_pad
from baselines.layers import TransformerConfig, attention_mask, make_layer

CFG = TransformerConfig(d=8, n_heads=2, inner=16, hidden_dropout=0.0, attn_dropout=0.0)


def dft_matrices(L: int):
    """Explicit forward (rfft bins, ortho) and inverse (Hermitian completion, ortho) matrices."""
    t = torch.arange(L, dtype=torch.float64)
    k = torch.arange(L // 2 + 1, dtype=torch.float64)
    forward = torch.exp(-2j * math.pi * k[:, None] * t[None, :] / L) / math.sqrt(L)  # [F, L]
    weight = torch.full((L // 2 + 1,), 2.0, dtype=torch.float64)
    weight[0] = 1.0
    if L % 2 == 0:
        weight[-1] = 1.0  # the Nyquist bin has no mirror image
    inverse = weight * torch.exp(2j * math.pi * t[:, None] * k[None, :] / L) / math.sqrt(L)
    return forward, inverse  # [F, L], [L, F]


def dft_apply(x: torch.Tensor, spectral_weight: torch.Tensor) -> torch.Tensor:
    """irfft(rfft(x) * w) along dim 1 by explicit sums. x [B, L, d], w [F, d] complex."""
    forward, inverse = dft_matrices(x.shape[1])
    spec = torch.einsum("kt,btd->bkd", forward, x.double().to(torch.complex128))
    return torch.einsum("tk,bkd->btd", inverse, spec * spectral_weight).real


@pytest.mark.parametrize("kind", ["fmlp", "bsarec"])
def test_layers_keep_the_shape_and_check_the_length(kind):
    layer = make_layer(kind, CFG, max_len=7).eval()
    seq = torch.tensor([[0, 0, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6, 7]])
    x = torch.randn(2, 7, 8)
    out = layer(x, attention_mask(seq))
    assert out.shape == (2, 7, 8) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="max_len"):
        layer(x[:, 1:], attention_mask(seq[:, 1:]))


@pytest.mark.parametrize("L", [6, 7])
def test_fmlp_filter_equals_an_explicit_dft(L):
    torch.manual_seed(0)
    layer = FilterLayer(CFG, max_len=L)
    with torch.no_grad():
        layer.complex_weight.normal_()  # large, so that a wrong bin would show
    x = torch.randn(3, L, 8)
    expected = dft_apply(x, torch.view_as_complex(layer.complex_weight.double())[0])
    torch.testing.assert_close(layer.filter(x).double(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("L", [6, 7])
def test_bsarec_low_pass_equals_an_explicit_dft_and_splits_x(L):
    torch.manual_seed(0)
    layer = BSARecLayer(CFG, max_len=L, alpha=0.5, c=3)  # keeps 3 // 2 + 1 = 2 bins
    keep = (torch.arange(L // 2 + 1) < 2).to(torch.complex128).unsqueeze(1)  # [F, 1]
    x = torch.randn(3, L, 8)
    low = layer.low_pass(x)
    torch.testing.assert_close(low.double(), dft_apply(x, keep), rtol=1e-5, atol=1e-5)
    high = x - low
    torch.testing.assert_close(low + high, x)
    # the high part has no energy in the kept bins, the low part none elsewhere
    assert torch.fft.rfft(high, dim=1, norm="ortho")[:, :2].abs().max() < 1e-5
    assert torch.fft.rfft(low, dim=1, norm="ortho")[:, 2:].abs().max() < 1e-5
    # a constant sequence is all low frequency
    const = torch.ones(1, L, 8)
    torch.testing.assert_close(layer.low_pass(const), const)


def test_bsarec_rescaler_is_identity_for_beta_one_and_low_pass_for_beta_zero():
    layer = BSARecLayer(CFG, max_len=6)
    x = torch.randn(2, 6, 8)
    with torch.no_grad():
        layer.sqrt_beta.fill_(1.0)
    torch.testing.assert_close(layer.rescale(x), x, rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        layer.sqrt_beta.fill_(0.0)
    torch.testing.assert_close(layer.rescale(x), layer.low_pass(x))


def test_bsarec_layer_with_alpha_zero_ignores_the_filter():
    """alpha = 0 leaves attention + FFN only: a causal block (a sanity check of the mixing)."""
    layer = BSARecLayer(CFG, max_len=6, alpha=0.0).eval()
    seq = torch.tensor([[1, 2, 3, 4, 5, 6]])
    x = torch.randn(1, 6, 8)
    y = x.clone()
    y[:, -1] += 1.0
    a, b = layer(x, attention_mask(seq)), layer(y, attention_mask(seq))
    torch.testing.assert_close(a[:, :-1], b[:, :-1])


def test_make_layer_rejects_unknown_kinds_and_left_pad_pads_on_the_left():
    with pytest.raises(ValueError, match="unknown layer kind"):
        make_layer("fourier", CFG, 6)
    padded = left_pad(torch.tensor([[3, 4]]), 4)
    assert padded.tolist() == [[0, 0, 3, 4]]
    with pytest.raises(ValueError):
        left_pad(torch.ones(1, 5, dtype=torch.long), 4)
