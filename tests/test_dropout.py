"""The CPU dropout draw (baselines/dropout.py) against the law of F.dropout."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from baselines.dropout import Dropout, attend, dropout
from baselines.layers import MultiHeadAttention, attention_mask
from lares_bench.lares.rpt import set_dropout


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_keep_rate_and_inverted_scale(p):
    torch.manual_seed(0)
    x = torch.ones(200_000)
    y = dropout(x, p)
    kept = y != 0
    # 200k draws: the kept fraction is within 5 standard deviations of 1 - p
    sd = (p * (1 - p) / x.numel()) ** 0.5
    assert abs(kept.float().mean().item() - (1 - p)) < 5 * sd
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / (1 - p)))


def test_gradient_is_the_mask_times_the_scale():
    torch.manual_seed(1)
    x = torch.randn(64, 8, requires_grad=True)
    y = dropout(x, 0.3)
    y.sum().backward()
    mask = (y != 0).float()
    torch.testing.assert_close(x.grad, mask / 0.7)
    torch.testing.assert_close(y, x.detach() * mask / 0.7)


def test_identity_in_eval_and_at_zero_and_all_zero_at_one():
    x = torch.randn(10, 4)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    assert (dropout(x, 1.0) == 0).all()
    module = Dropout(0.5).eval()
    assert torch.equal(module(x), x)


def test_bf16_input_keeps_dtype_and_rate():
    torch.manual_seed(2)
    y = dropout(torch.ones(100_000, dtype=torch.bfloat16), 0.5)
    assert y.dtype == torch.bfloat16
    assert abs((y != 0).float().mean().item() - 0.5) < 0.01


def test_module_is_an_nn_dropout_so_rate_switches_find_it():
    model = nn.Sequential(nn.Linear(4, 4), Dropout(0.5))
    set_dropout(model, 0.1)
    assert isinstance(model[1], nn.Dropout) and model[1].p == 0.1


def test_attention_dropout_is_unbiased_on_cpu():
    """Dropout on the attention probabilities is linear before @ v: the mean over many draws
    must approach the output without dropout (a wrong scale or a dropped mask fails this)."""
    torch.manual_seed(3)
    B, H, L, hd = 2, 2, 6, 4
    q, k, v = (torch.randn(B, H, L, hd) for _ in range(3))
    seq = torch.tensor([[0, 0, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]])
    mask = attention_mask(seq, causal=True).unsqueeze(1)
    exact = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    mean = torch.stack([attend(q, k, v, mask, 0.5) for _ in range(4000)]).mean(0)
    assert (mean - exact).abs().max().item() < 0.1
    single = attend(q, k, v, mask, 0.5)
    assert not torch.allclose(single, exact)  # dropout did act
    torch.testing.assert_close(attend(q, k, v, mask, 0.0), exact)


def test_attention_module_drops_only_in_training():
    torch.manual_seed(4)
    attn = MultiHeadAttention(8, 2, attn_dropout=0.5)
    x = torch.randn(3, 5, 8)
    allowed = attention_mask(torch.tensor([[1, 2, 3, 4, 5]] * 3), causal=True)
    attn.eval()
    assert torch.equal(attn(x, allowed), attn(x, allowed))
    attn.train()
    assert not torch.equal(attn(x, allowed), attn(x, allowed))
