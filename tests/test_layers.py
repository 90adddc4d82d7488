import torch

from baselines.layers import (
    TransformerConfig,
    TransformerEncoder,
    attention_mask,
    init_bert_weights,
    position_ids,
)


def encoder_pair(causal=True):
    torch.manual_seed(0)
    cfg = TransformerConfig(d=16, n_heads=2, inner=32, hidden_dropout=0.0, attn_dropout=0.0)
    fused = TransformerEncoder(cfg, 2)
    fused.apply(init_bert_weights)
    eager = TransformerEncoder(TransformerConfig(**{**cfg.__dict__, "use_sdpa": False}), 2)
    eager.load_state_dict(fused.state_dict())
    return fused.eval(), eager.eval()


def test_sdpa_and_eager_attention_agree():
    fused, eager = encoder_pair()
    seq = torch.tensor([[0, 0, 3, 4, 5], [1, 2, 3, 4, 5], [0, 0, 0, 0, 7]])
    x = torch.randn(3, 5, 16)
    for causal in (True, False):
        mask = attention_mask(seq, causal)
        torch.testing.assert_close(fused(x, mask), eager(x, mask), rtol=1e-5, atol=1e-5)
        assert torch.isfinite(fused(x, mask)).all()


def test_causal_mask_hides_the_future_and_padding():
    seq = torch.tensor([[0, 2, 3, 4]])
    m = attention_mask(seq, causal=True)[0]
    assert m[0].tolist() == [True, False, False, False]  # padding attends to itself only
    assert m[1].tolist() == [False, True, False, False]
    assert m[3].tolist() == [False, True, True, True]
    bidirectional = attention_mask(seq, causal=False)[0]
    assert bidirectional[1].tolist() == [False, True, True, True]


def test_position_ids_end_and_start_modes():
    seq = torch.tensor([[0, 0, 5, 6], [1, 2, 3, 4]])
    assert position_ids(seq, 10, "end").tolist() == [[6, 7, 8, 9], [6, 7, 8, 9]]
    assert position_ids(seq, 10, "start")[0, 2:].tolist() == [0, 1]
    assert position_ids(seq, 10, "start")[1].tolist() == [0, 1, 2, 3]
