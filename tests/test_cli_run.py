"""`lares-bench run` end to end on generated data, and its input errors."""

import json
import re

from typer.testing import CliRunner

from lares_bench.cli import app

runner = CliRunner()
TINY = ["--set", "train.epochs=2", "--set", "model.d=16", "--set", "model.inner=32", "--no-progress"]


def test_run_writes_records_and_tables_then_skips_finished_runs(tmp_path):
    args = ["run", "--suite", "quick", "--models", "pop,sasrec", "--results-dir", str(tmp_path)]
    first = runner.invoke(app, args + TINY)
    assert first.exit_code == 0, first.output
    results = sorted(tmp_path.glob("runs/quick/synthetic/*/*/result.json"))
    assert [p.parent.parent.name for p in results] == ["pop", "sasrec"]
    sasrec = json.loads(results[1].read_text())
    assert sasrec["config"]["model_config"]["d"] == 16 and sasrec["epochs_run"] == 2
    summary = (tmp_path / "quick" / "summary.md").read_text()
    assert "sasrec" in summary and "±" not in summary  # one seed: the mean, no std
    mtime = results[1].stat().st_mtime
    second = runner.invoke(app, args + TINY)
    assert second.exit_code == 0 and "(cached)" in second.output
    assert results[1].stat().st_mtime == mtime


def test_bad_inputs_fail_before_anything_runs(tmp_path):
    cases = [
        (["--datasets", "synthetic,nosuch"], "unknown dataset 'nosuch'"),
        (["--models", "nosuch"], "unknown model"),
        (["--set", "model.nokey=1"], "model.nokey"),
        (["--set", "train.lr=abc"], "cannot parse 'abc' as float"),
        (["--history-mask", "bad"], "history_mask"),
        (["--suite", "nope"], "unknown suite"),
    ]
    for extra, message in cases:
        out = runner.invoke(app, ["run", "--results-dir", str(tmp_path), "--no-progress", *extra])
        assert out.exit_code == 2, (extra, out.output)
        assert message in " ".join(out.output.split()), (extra, out.output)
    assert not list(tmp_path.glob("runs/**/result.json"))


def test_pause_after_stops_with_code_3_and_the_same_command_finishes_the_runs(
    tmp_path, monkeypatch
):
    from lares_bench.resume import RunState

    args = ["run", "--suite", "quick", "--models", "sasrec", "--seeds", "2",
            "--results-dir", str(tmp_path), *TINY]
    pause_from = {"batch": 0}  # the pause time comes during the first epoch: after batch 1,
    # then (second call) after the first batch of epoch 2, past the end of epoch 1

    def pause_after_batches(self):
        pause_from["batch"] += 1
        return pause_from["batch"] >= pause_from["at"]

    def pause_call(at):
        pause_from.update(batch=0, at=at)
        with monkeypatch.context() as m:
            m.setattr(RunState, "should_pause", pause_after_batches)
            return runner.invoke(app, [*args, "--pause-after", "3600"])

    paused = pause_call(1)
    assert paused.exit_code == 3, paused.output
    message = " ".join(paused.output.split())
    inside = re.search(r"paused in epoch 1 after batch 1 of (\d+); run the same command", message)
    assert inside and int(inside[1]) > 1, message
    assert not list(tmp_path.glob("runs/**/result.json"))
    assert list((tmp_path / ".resume").rglob("train.pt"))

    def listed_row():
        listed = runner.invoke(app, ["paused", "--results-dir", str(tmp_path)],
                               env={"COLUMNS": "240"})
        assert listed.exit_code == 0, listed.output
        row = next(line for line in listed.output.splitlines() if "quick/synthetic/sasrec" in line)
        return [c.strip() for c in row.strip("│ ").split("│")]

    cells = listed_row()  # no epoch logged yet; where the pause fell; one call so far
    assert cells[1] == "0" and cells[4:7] == ["0", "-", f"train epoch 1, batch 1/{inside[1]}"]
    assert cells[7] == "1"
    per_epoch = int(inside[1])
    again = pause_call(per_epoch)  # the rest of epoch 1, then one batch of epoch 2
    assert again.exit_code == 3, again.output
    assert f"paused in epoch 2 after batch 1 of {per_epoch}" in " ".join(again.output.split())
    cells = listed_row()
    assert cells[4] == "1" and cells[5].startswith("NDCG@10 0.") and cells[5].endswith("@1")
    assert cells[6] == f"train epoch 2, batch 1/{per_epoch}" and cells[7] == "2"
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    results = sorted(tmp_path.glob("runs/quick/synthetic/sasrec/*/result.json"))
    first, second = (json.loads(p.read_text()) for p in results)
    seeds = {r["config"]["train"]["seed"]: r for r in (first, second)}
    segments = seeds[0]["segments"]
    assert [s["epochs"] for s in segments] == [{}, {"train": [1, 1]}, {"train": [2, 2]}]
    assert [s["batches"]["train"] for s in segments] == [1, per_epoch, per_epoch - 1]
    assert "segments" not in seeds[1]  # seed 1 had not started when seed 0 paused
    assert not [p for p in (tmp_path / ".resume").rglob("*") if p.is_file()]
    none = runner.invoke(app, ["paused", "--results-dir", str(tmp_path)])
    assert none.exit_code == 0 and "no paused runs" in none.output


def test_a_pause_time_already_past_starts_no_run(tmp_path):
    args = ["run", "--suite", "quick", "--models", "sasrec", "--results-dir", str(tmp_path), *TINY]
    out = runner.invoke(app, [*args, "--pause-after", "0.000001"])  # passes while data loads
    assert out.exit_code == 3, out.output
    assert "not started (past the pause time)" in " ".join(out.output.split())
    assert not list(tmp_path.glob("runs/**/epochs.jsonl"))
