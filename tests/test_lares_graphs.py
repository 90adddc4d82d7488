"""CUDA graphs for LARES SPT (``train.cuda_graphs``): the static-shape loss it replays, the
option's errors, and (on CUDA only) graph replay against the eager loss."""

import pytest
import torch

from baselines import build_model
from lares_bench.config import ConfigError, RunConfig, TrainConfig
from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.lares.spt import FusedSPTTerms, fused_spt_inputs
from lares_bench.training import train_model
from tests.helpers import patterned_data
from tests.model_checks import first_batch, small_config


def _deterministic(model, monkeypatch, depths):
    supply = iter(depths)
    monkeypatch.setattr(model, "sample_depth", lambda: next(supply))
    monkeypatch.setattr(model._examples.index, "sample", lambda ids: ids.flip(0))


def _model(device="cpu", **extra):
    split = LeaveOneOutSplit.from_data(patterned_data(), max_len=10, device=device)
    torch.manual_seed(0)
    cfg = small_config("lares", init="zero", hidden_dropout=0.0, attn_dropout=0.0, **extra)
    model = build_model("lares", split.n_items, cfg).to(device)
    model.prepare(split)
    return model.train(), split


def test_padding_every_window_to_max_len_changes_no_loss(monkeypatch):
    """The graphs pad all windows to max_len (one shape); the eager loss to the widest."""
    model, split = _model()
    batch = first_batch(model, split)  # length-bucketed: short windows, much padding added
    losses = []
    for width in (None, model.config.max_len):
        _deterministic(model, monkeypatch, [2, 4, 4])
        torch.manual_seed(5)
        inputs = fused_spt_inputs(model, batch, width=width)
        assert inputs.windows.shape[1] == (width or inputs.windows.shape[1])
        losses.append(FusedSPTTerms(model, inputs.depth)(*inputs[:4]))
    assert losses[0].item() != 0
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-6)


def test_the_option_is_refused_where_it_cannot_work():
    model, split = _model()
    cfg = TrainConfig(epochs=1, batch_size=64, cuda_graphs=True)
    with pytest.raises(ValueError, match="train.cuda_graphs needs --device cuda"):
        train_model(model, split, cfg, RunConfig("d", "lares", model.config).eval, progress=False)
    sasrec = build_model("sasrec", split.n_items, small_config("sasrec"))
    with pytest.raises(ValueError, match="sasrec has no CUDA-graph"):
        sasrec.graphed_training_loss(64)
    run = RunConfig("d", "lares", model.config, train=TrainConfig(cuda_graphs=True, bf16=True))
    with pytest.raises(ConfigError, match="cuda_graphs cannot be combined with train.bf16"):
        run.validate()
    ce_only = build_model("lares-ce", split.n_items, small_config("lares-ce"))
    assert ce_only.graphed_training_loss(64) == ce_only.training_loss  # one pass: nothing to graph


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
def test_graph_replay_gives_the_eager_loss_and_gradients(monkeypatch):
    from lares_bench.lares.graphs import GraphedSPTLoss

    model, split = _model("cuda")
    batch = first_batch(model, split, batch_size=32)
    graphed = GraphedSPTLoss(model, batch_size=32, warmup=2)
    results = []
    for use_graph in (False, True, True):  # the second graphed call replays the recorded graph
        _deterministic(model, monkeypatch, [3, 2, 2])
        torch.manual_seed(5)
        model.zero_grad(set_to_none=True)
        if use_graph:
            loss = graphed(batch)
        else:
            inputs = fused_spt_inputs(model, batch, width=model.config.max_len)
            loss = FusedSPTTerms(model, inputs.depth)(*inputs[:4])
        loss.backward()
        results.append((loss.detach().clone(), model.core[0].ff1.weight.grad.clone()))
    assert graphed.failures == {} and graphed.replays == 2
    for loss, grad in results[1:]:
        torch.testing.assert_close(loss, results[0][0], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(grad, results[0][1], rtol=1e-3, atol=1e-6)
