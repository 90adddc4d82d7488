"""Pausing runs (``--pause-after``) and resuming them: the same numbers as a run that never
stopped (paused after every batch, so inside epochs and at their ends), logs without repeated
lines, the segments recorded, the state dropped at the end."""

import dataclasses
import json

import numpy as np
import pytest

from lares_bench.config import RunConfig, TrainConfig
from lares_bench.experiment import executor_for
from lares_bench.resume import RunPaused
from lares_bench.runs import execute_run
from tests.model_checks import make_split, small_config


def _epoch_lines(path):
    """The epoch log without its timings (which differ between any two runs)."""
    lines = [json.loads(x) for x in (path / "epochs.jsonl").read_text().splitlines()]
    return [{k: v for k, v in x.items() if not k.endswith("_seconds")} for x in lines]


def _through(cfg, split, root):
    return _run(cfg, split, root)


def _paused_every_batch(cfg, split, root):
    """Call after call with the pause time already past: each call trains one batch (two
    where a stage's last batch ends it and the next stage begins)."""
    calls = 0
    while True:
        calls += 1
        assert calls < 100
        try:
            return _run(cfg, split, root, pause_at=0.0), calls
        except RunPaused as e:
            assert not (e.run_path / "result.json").exists()  # a paused run has no result
            assert list((root / ".resume").rglob("*.pt"))


def _sasrec(epochs, patience=10):
    return RunConfig(dataset="patterned", model="sasrec", model_config=small_config("sasrec"),
                     train=TrainConfig(epochs=epochs, batch_size=32, patience=patience))


def _run(cfg, split, root, **kw):
    return execute_run(cfg, split, "fp", root, executor_for(cfg.model), progress=False,
                       state_root=root / ".resume", **kw)


def _pause_once(cfg, split, root) -> RunPaused:
    with pytest.raises(RunPaused) as paused:
        _run(cfg, split, root, pause_at=0.0)
    return paused.value


def _assert_same_run(a, b):
    assert a.path.name == b.path.name  # pausing is not part of the run's identity
    for key in ("test", "valid", "selected_epoch", "epochs_run", "stop_reason"):
        assert a.result[key] == b.result[key], key
    np.testing.assert_array_equal(np.load(a.path / "ranks.npy"), np.load(b.path / "ranks.npy"))
    assert _epoch_lines(a.path) == _epoch_lines(b.path)


def test_a_run_paused_after_every_batch_equals_one_that_ran_through(tmp_path):
    split = make_split()
    cfg = _sasrec(epochs=4)  # dropout on: the resumed generators must be the ones it stopped with
    per_epoch = -(-int((split.train_lengths() > 0).sum()) // cfg.train.batch_size)
    assert per_epoch > 2  # so that most pauses fall inside an epoch
    through = _through(cfg, split, tmp_path / "a")
    paused, calls = _paused_every_batch(cfg, split, tmp_path / "b")
    assert calls == 4 * per_epoch  # the last batch ends the run instead of pausing it
    _assert_same_run(through, paused)
    assert "segments" not in through.result
    segments = paused.result["segments"]
    assert [s["batches"] for s in segments] == [{"train": 1}] * calls
    assert [s["epochs"]["train"] for s in segments if s["epochs"]] == [[1, 1], [2, 2], [3, 3],
                                                                       [4, 4]]
    inside = [s["paused_in"] for s in segments if "paused_in" in s]
    assert inside == [{"stage": "train", "epoch": e, "batch": b, "of": per_epoch}
                      for e in range(1, 5) for b in range(1, per_epoch)]
    assert all(s["device"] and s["train_seconds"] > 0 for s in segments)
    assert all("git_sha" in s and "git_dirty" in s for s in segments)  # each call's code
    assert not [p for p in (tmp_path / "b" / ".resume").rglob("*") if p.is_file()]  # dropped


def test_a_lares_run_paused_in_spt_and_in_rpt_equals_one_that_ran_through(tmp_path):
    split = make_split(n_users=80)
    mc = small_config("lares", rpt_epochs=2, rpt_batch_size=128, rpt_filter_passes=2,
                      rpt_filter_topk=10, rpt_patience=3, test_depths=(1, 3))
    cfg = RunConfig(dataset="patterned", model="lares", model_config=mc,
                    train=TrainConfig(epochs=2, batch_size=128, lr=3e-3, patience=5,
                                      eval_batch_size=256))
    through = _through(cfg, split, tmp_path / "a")
    paused, calls = _paused_every_batch(cfg, split, tmp_path / "b")
    segments = paused.result["segments"]
    spt_batches = sum(s["batches"].get("spt", 0) for s in segments)
    rpt_batches = sum(s["batches"].get("rpt", 0) for s in segments)
    assert spt_batches > 2 * 2 and rpt_batches > 2  # pauses inside the epochs of both stages
    assert calls == spt_batches + rpt_batches - 1  # SPT's last batch and RPT's first: one call
    _assert_same_run(through, paused)  # the log compares each RPT epoch's mean reward too
    for key in ("spt", "rpt"):  # both stages' selections and the filter's count
        drop = {"seconds", "filter_seconds", "seconds_per_epoch", "train_seconds"}
        assert ({k: v for k, v in through.result[key].items() if k not in drop}
                == {k: v for k, v in paused.result[key].items() if k not in drop})
    assert through.result["test_by_depth"] == paused.result["test_by_depth"] or all(
        {k: v for k, v in m.items() if k != "seconds"}
        == {k: v for k, v in paused.result["test_by_depth"][d].items() if k != "seconds"}
        for d, m in through.result["test_by_depth"].items()
    )
    assert [s["epochs"] for s in segments if s["epochs"]] == [
        {"spt": [1, 1]}, {"spt": [2, 2]}, {"rpt": [1, 1]}, {"rpt": [2, 2]},
    ]
    twins = [next((root / "runs/adhoc/patterned/lares-norpt").iterdir()) for root in
             (tmp_path / "a", tmp_path / "b")]
    a, b = (json.loads((t / "result.json").read_text()) for t in twins)
    assert a["test"] == b["test"] and a["valid"] == b["valid"]
    assert "segments" not in a  # the twin of the paused run: SPT trained in calls 1 and 2
    assert [s["epochs"] for s in b["segments"] if s["epochs"]] == [{"spt": [1, 1]},
                                                                     {"spt": [2, 2]}]


def test_a_log_line_written_after_the_saved_state_is_dropped_on_resume(tmp_path):
    """A call killed after the state was saved may have logged more epochs: the resumed run
    must not repeat them."""
    split = make_split()
    cfg = _sasrec(epochs=2)
    root = tmp_path / "b"
    log = _pause_once(cfg, split, root).run_path / "epochs.jsonl"
    log.write_text(log.read_text() + '{"epoch": 2, "note": "killed call"}\n')
    rec = _run(cfg, split, root)
    assert [x["epoch"] for x in _epoch_lines(rec.path)] == [1, 2]
    _assert_same_run(_through(cfg, split, tmp_path / "a"), rec)


def test_force_starts_a_paused_run_afresh(tmp_path):
    split = make_split()
    cfg = _sasrec(epochs=3)
    root = tmp_path / "b"
    _pause_once(cfg, split, root)
    rec = _run(cfg, split, root, force=True)
    assert "segments" not in rec.result and rec.result["epochs_run"] == 3
    assert [x["epoch"] for x in _epoch_lines(rec.path)] == [1, 2, 3]


def test_without_a_pause_time_no_state_is_written(tmp_path, monkeypatch):
    import lares_bench.resume as resume

    saved = []
    monkeypatch.setattr(resume.RunState, "save", lambda self, *a, **k: saved.append(a))
    _through(_sasrec(epochs=2), make_split(), tmp_path)
    assert saved == []


def test_the_paused_state_is_tied_to_the_run_hash(tmp_path):
    """Another config (here another lr) never picks up a paused run's state."""
    split = make_split()
    cfg = _sasrec(epochs=3)
    root = tmp_path / "b"
    _pause_once(cfg, split, root)
    other = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, lr=2e-3))
    rec = _run(other, split, root)
    assert "segments" not in rec.result and rec.result["epochs_run"] == 3


def test_a_run_whose_best_epoch_lies_before_the_pause_keeps_those_weights(tmp_path, monkeypatch):
    """Validation made to peak at epoch 1: every later pause must carry epoch 1's weights
    (saved apart from the current ones), and the resumed run selects them as the through run."""
    import lares_bench.training as training

    real = training.metrics_from_ranks

    def peak_at_first_epoch(ranks, ks):
        metrics = real(ranks, ks)
        calls.append(1)
        return {**metrics, "NDCG@10": 1.0 if len(calls) == 1 else 0.5 / len(calls)}

    split = make_split()
    cfg = _sasrec(epochs=4)
    monkeypatch.setattr(training, "metrics_from_ranks", peak_at_first_epoch)
    calls = []
    through = _through(cfg, split, tmp_path / "a")
    calls = []
    saved_best = []
    real_save = training.StageState.save
    monkeypatch.setattr(training.StageState, "save", lambda self, payload, pausing: (
        pausing and saved_best.append(payload["best"][4]), real_save(self, payload, pausing=pausing)))
    paused, _ = _paused_every_batch(cfg, split, tmp_path / "b")
    assert through.result["selected_epoch"] == paused.result["selected_epoch"] == 1
    np.testing.assert_array_equal(np.load(through.path / "ranks.npy"), np.load(paused.path / "ranks.npy"))
    # inside epoch 1 there is no best yet; at its end the current weights are the best (not
    # saved twice); every later pause, inside an epoch or at its end, carries epoch 1's weights
    first_end = saved_best.index("current")
    assert first_end > 0 and all(b is None for b in saved_best[:first_end])
    assert len(saved_best) > first_end + 3
    assert all(isinstance(b, dict) for b in saved_best[first_end + 1:])
