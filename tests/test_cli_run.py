"""`lares-bench run` end to end on generated data, and its input errors."""

import json

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
