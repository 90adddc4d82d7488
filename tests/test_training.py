import json

import pytest
import torch

from baselines import build_model
from lares_bench.config import EvalConfig, RunConfig, TrainConfig
from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.experiment import standard_executor
from lares_bench.runs import execute_run
from lares_bench.training import TrainingDiverged, train_model
from tests.helpers import random_data
from tests.model_checks import make_split, small_config


def train_once(seed=0, epochs=3, **train_kw):
    split = make_split()
    torch.manual_seed(seed)
    model = build_model("sasrec", split.n_items, small_config("sasrec"))
    cfg = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, seed=seed, patience=50, **train_kw)
    out = train_model(model, split, cfg, EvalConfig(), progress=False)
    return model, out


def test_cpu_training_is_bit_reproducible():
    _, a = train_once(seed=1)
    _, b = train_once(seed=1)
    assert [r.loss for r in a.epochs] == [r.loss for r in b.epochs]
    assert [r.valid for r in a.epochs] == [r.valid for r in b.epochs]
    _, c = train_once(seed=2)
    assert [r.loss for r in a.epochs] != [r.loss for r in c.epochs]


def test_training_learns_and_selects_the_best_validation_epoch():
    model, out = train_once(epochs=12)
    values = [r.valid["NDCG@10"] for r in out.epochs]
    assert out.best_valid["NDCG@10"] == max(values)
    assert out.best_epoch == 1 + values.index(max(values))
    assert max(values) > 0.3  # the patterned data is easy: random would be ~0.1


def test_early_stopping_respects_patience():
    split = make_split()
    model = build_model("sasrec", split.n_items, small_config("sasrec"))
    cfg = TrainConfig(epochs=50, batch_size=32, lr=0.0, patience=2)
    out = train_model(model, split, cfg, EvalConfig(), progress=False)
    assert len(out.epochs) == 3 and out.best_epoch == 1  # lr 0: never improves
    assert "early stop" in out.stop_reason


def test_no_early_stop_before_min_steps():
    split = make_split()  # 200 users: 7 batches of 32 an epoch
    model = build_model("sasrec", split.n_items, small_config("sasrec"))
    cfg = TrainConfig(epochs=50, batch_size=32, lr=0.0, patience=2, min_steps=40)
    out = train_model(model, split, cfg, EvalConfig(), progress=False)
    assert len(out.epochs) == 6  # 5 epochs = 35 steps < 40; the 6th reaches 42 and stops
    assert out.best_epoch == 1 and "early stop" in out.stop_reason


def test_epoch_batches_cuts_each_epoch_to_that_many_steps():
    split = make_split()  # 200 users: 7 batches of 32 an epoch
    model = build_model("sasrec", split.n_items, small_config("sasrec"))
    calls = {"n": 0}
    real = model.training_loss

    def counting_loss(batch):
        calls["n"] += 1
        return real(batch)

    cfg = TrainConfig(epochs=3, batch_size=32, lr=1e-3, patience=50, epoch_batches=2)
    out = train_model(model, split, cfg, EvalConfig(), loss_fn=counting_loss, progress=False)
    assert calls["n"] == 6 and len(out.epochs) == 3  # 2 batches x 3 epochs, each validated
    assert all(r.valid for r in out.epochs)
    calls["n"] = 0
    train_model(model, split, TrainConfig(epochs=1, batch_size=32), EvalConfig(),
                loss_fn=counting_loss, progress=False)
    assert calls["n"] == 7  # 0 = every batch


def test_fields_added_during_a_version_keep_old_run_hashes_at_their_default():
    import hashlib

    import lares_bench
    from lares_bench.config import canonical_json
    from lares_bench.experiment import build_run_config
    from lares_bench.runs import run_hash

    cfg = build_run_config("beauty", "lares", seed=0)
    d = cfg.to_dict()
    older = json.loads(json.dumps(d))
    for key in ("tf32", "min_steps", "epoch_batches", "cuda_graphs"):
        del older["train"][key]
    for key in ("rpt_epoch_batches", "pass_fusion", "row_groups"):
        del older["model_config"][key]
    older["train"].pop("device")
    payload = canonical_json({"config": older, "data": "fp", "version": lares_bench.__version__})
    assert run_hash(cfg, "fp") == hashlib.sha256(payload.encode()).hexdigest()[:12]
    reduced = build_run_config("beauty", "lares", seed=0, overrides={"train": {"epoch_batches": "5"}})
    assert run_hash(reduced, "fp") != run_hash(cfg, "fp")


def test_nan_loss_stops_the_run_and_writes_no_result(tmp_path):
    split = make_split()
    cfg = RunConfig(
        dataset="patterned", model="sasrec", model_config=small_config("sasrec"),
        train=TrainConfig(epochs=2, batch_size=32),
    )

    def exploding(cfg_, split_, path, progress, state=None):
        model = build_model("sasrec", split_.n_items, cfg_.model_config)
        return train_model(
            model, split_, cfg_.train, cfg_.eval, progress=False,
            loss_fn=lambda batch: model.training_loss(batch) * float("nan"),
        )

    with pytest.raises(TrainingDiverged, match="loss is nan"):
        execute_run(cfg, split, "fp", tmp_path, exploding, progress=False)
    assert not list(tmp_path.glob("**/result.json"))


def test_finished_runs_are_skipped_and_records_complete(tmp_path):
    split = make_split()
    cfg = RunConfig(
        dataset="patterned", model="sasrec", model_config=small_config("sasrec"),
        train=TrainConfig(epochs=2, batch_size=32),
    )
    first = execute_run(cfg, split, "fp", tmp_path, standard_executor, progress=False)
    assert not first.skipped
    files = {p.name for p in first.path.iterdir()}
    assert {"config.json", "env.json", "epochs.jsonl", "result.json", "ranks.npy"} <= files
    assert len((first.path / "epochs.jsonl").read_text().splitlines()) == 2
    result = json.loads((first.path / "result.json").read_text())
    assert set(result["test"]) >= {"HR@10", "NDCG@10", "MRR"}
    second = execute_run(cfg, split, "fp", tmp_path, standard_executor, progress=False)
    assert second.skipped and second.path == first.path
    other = execute_run(cfg, split, "other-data", tmp_path, standard_executor, progress=False)
    assert other.path != first.path


def test_bucketed_batches_weigh_every_position_equally():
    """Scaled by positions / mean positions, the epoch's summed batch weights equal the
    number of batches and each batch's weight is proportional to its positions."""
    from lares_bench.data.split import LeaveOneOutSplit
    from lares_bench.training import training_batches
    from tests.helpers import random_data

    split = LeaveOneOutSplit.from_data(random_data(n_users=100, max_len=20), max_len=10)
    model = build_model("sasrec", split.n_items, small_config("sasrec"))
    cfg = TrainConfig(batch_size=16)
    batches = list(training_batches(model, split, cfg, torch.Generator().manual_seed(0)))
    weights = torch.stack([b.weight for b in batches])
    positions = torch.tensor([float((b.targets > 0).sum()) for b in batches])
    torch.testing.assert_close(weights.sum(), torch.tensor(float(len(batches))))
    torch.testing.assert_close(weights / weights.sum(), positions / positions.sum())
    assert positions.max() > 2 * positions.min()  # bucketing made batches of unequal size


def test_tables_average_only_the_newest_version(tmp_path):
    import pandas as pd

    from lares_bench.tables import latest_version

    df = pd.DataFrame({
        "dataset": ["b"] * 3 + ["c"], "model": ["m"] * 4,
        "version": ["0.1.0", "0.10.0", "0.2.0", "0.1.0"], "x": [1, 2, 3, 4],
    })
    kept = latest_version(df)
    assert kept["x"].tolist() == [2, 4]  # 0.10.0 > 0.2.0 (numeric, not string, order)


def test_a_run_does_not_depend_on_what_ran_before_it_in_the_process(tmp_path):
    from lares_bench.experiment import build_run_config

    split = LeaveOneOutSplit.from_data(random_data(n_users=30, seed=4), max_len=8)
    cfg = build_run_config(
        "random", "sasrec", seed=1, overrides={"train": {"epochs": "1", "batch_size": "16"}}
    )
    first = execute_run(cfg, split, "fp", tmp_path / "a", standard_executor, progress=False)
    torch.rand(1000)  # anything else drawing from the global generator in between
    second = execute_run(cfg, split, "fp", tmp_path / "b", standard_executor, progress=False)
    assert first.result["test"] == second.result["test"]
    assert first.result["valid"] == second.result["valid"]


def test_compile_switch_compiles_the_training_loss_and_trains_alike():
    split = make_split()
    cfg = small_config("sasrec", hidden_dropout=0.0, attn_dropout=0.0)
    from torch._dynamo.utils import counters

    counters.clear()
    losses = {}
    for compiled in (False, True):
        torch.manual_seed(0)
        model = build_model("sasrec", split.n_items, cfg)
        train = TrainConfig(epochs=2, batch_size=64, patience=5, compile=compiled)
        out = train_model(model, split, train, EvalConfig(), progress=False)
        losses[compiled] = [r.loss for r in out.epochs]
    assert counters["stats"]["unique_graphs"] > 0  # something was really compiled
    assert losses[True] == pytest.approx(losses[False], rel=1e-4)


def test_settings_id_ignores_seed_device_and_fields_added_later_at_their_default():
    from lares_bench.experiment import build_run_config
    from lares_bench.tables import settings_id

    base = build_run_config("beauty", "sasrec", seed=0).to_dict()
    other_seed = build_run_config("beauty", "sasrec", seed=2, device="cpu").to_dict()
    assert settings_id(base) == settings_id(other_seed)
    older = json.loads(json.dumps(base))
    del older["train"]["tf32"]  # a record written before the field existed
    assert settings_id(older) == settings_id(base)
    budget = build_run_config("beauty", "sasrec", overrides={"train": {"max_train_seconds": "60"}})
    assert settings_id(budget.to_dict()) != settings_id(base)


def test_execution_layouts_change_neither_the_run_hash_nor_the_settings():
    """Execution details like the device: a run paused with CUDA graphs or one fused pass
    resumes without them, or with its rows in length groups."""
    from lares_bench.experiment import build_run_config
    from lares_bench.runs import run_hash
    from lares_bench.tables import settings_id

    eager = build_run_config("beauty", "lares", seed=0, device="cuda")
    graphed = build_run_config("beauty", "lares", seed=0, device="cuda",
                               overrides={"train": {"cuda_graphs": "true"}})
    assert graphed.train.cuda_graphs and graphed.to_dict()["train"]["cuda_graphs"] is True
    assert run_hash(graphed, "fp") == run_hash(eager, "fp")
    assert settings_id(graphed.to_dict()) == settings_id(eager.to_dict())
    for layout in ({"pass_fusion": "off"}, {"pass_fusion": "on"}, {"row_groups": "on"},
                   {"pass_fusion": "off", "row_groups": "off"}):
        other = build_run_config("beauty", "lares", seed=0, overrides={"model": layout})
        assert other.to_dict()["model_config"][next(iter(layout))] == next(iter(layout.values()))
        assert run_hash(other, "fp") == run_hash(eager, "fp")
        assert settings_id(other.to_dict()) == settings_id(eager.to_dict())
    duorec = build_run_config("beauty", "duorec", seed=0)
    assert run_hash(build_run_config("beauty", "duorec", seed=0, overrides={
        "model": {"row_groups": "off"}}), "fp") == run_hash(duorec, "fp")
    tla = build_run_config("beauty", "lares", seed=0, overrides={"model": {"tla_batching": "joint"}})
    assert run_hash(tla, "fp") != run_hash(eager, "fp")  # hashed since 0.2.0: records keep theirs


def test_one_setting_per_model_prefers_runs_without_budget_then_more_seeds():
    import pandas as pd

    from lares_bench.tables import one_setting_per_model

    rows = []
    for seed in range(3):  # 3 seeds under a budget
        rows.append({"dataset": "d", "history_mask": "inf", "model": "m", "settings": "aaa",
                     "budget_s": 60.0, "seed": seed, "version": "0.3.0"})
    for seed in range(2):  # 2 seeds trained to early stopping
        rows.append({"dataset": "d", "history_mask": "inf", "model": "m", "settings": "bbb",
                     "budget_s": 0.0, "seed": seed, "version": "0.3.0"})
    rows.append({"dataset": "d", "history_mask": "inf", "model": "m", "settings": "ccc",
                 "budget_s": 0.0, "seed": 0, "version": "0.3.0"})
    kept, notes = one_setting_per_model(pd.DataFrame(rows))
    assert set(kept["settings"]) == {"bbb"} and len(kept) == 2
    assert len(notes) == 2 and all("left out" in n for n in notes)


def test_a_model_max_len_that_differs_from_the_split_is_refused_by_name():
    from lares_bench.config import ConfigError
    from lares_bench.experiment import build_run_config

    same = build_run_config("beauty", "sasrec", max_len=50, overrides={"model": {"max_len": "50"}})
    assert same.model_config.max_len == 50
    with pytest.raises(ConfigError, match="model.max_len=20 differs from beauty's max_len 50"):
        build_run_config("beauty", "sasrec", max_len=50, overrides={"model": {"max_len": "20"}})


def test_ranks_are_stored_in_two_bytes_where_they_fit_and_read_back_as_int64(tmp_path):
    import numpy as np

    from lares_bench.runs import load_ranks, save_ranks

    ranks = np.array([1, 7, 40_000, 65_535])
    save_ranks(tmp_path / "small.npy", ranks, n_items=65_535)
    assert np.load(tmp_path / "small.npy").dtype == np.uint16
    back = load_ranks(tmp_path / "small.npy")
    assert back.dtype == np.int64 and np.array_equal(back, ranks)
    assert (back[:1] - back[1:2])[0] == -6  # no unsigned wrap-around after loading
    save_ranks(tmp_path / "large.npy", np.array([1, 70_000]), n_items=70_000)
    assert np.load(tmp_path / "large.npy").dtype == np.int32
    with pytest.raises(ValueError, match="bad.npy: ranks outside 1..10"):
        save_ranks(tmp_path / "bad.npy", np.array([0, 3]), n_items=10)
    assert not (tmp_path / "bad.npy").exists()
