"""`lares_bench.paused`: paused runs listed from their state directories alone."""

import json

from lares_bench.paused import list_paused


def test_a_paused_lares_run_is_listed_with_its_current_stage(tmp_path):
    state = tmp_path / ".resume" / "main" / "beauty" / "lares" / "abc123"
    state.mkdir(parents=True)
    for stage in ("spt", "rpt"):
        (state / f"{stage}.pt").write_bytes(b"not read")
    log = [{"stage": "spt", "epoch": e, "valid": {"NDCG@10": v}} for e, v in [(1, 0.02), (2, 0.05)]]
    log += [{"stage": "rpt", "epoch": e, "valid": {"NDCG@10": v}} for e, v in [(1, 0.03), (2, 0.04)]]
    (state / "epochs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    segments = [{"device": "cpu: X", "train_seconds": 1800.0},
                {"device": "NVIDIA H200", "train_seconds": 1800.0,
                 "paused_in": {"stage": "rpt", "epoch": 3, "batch": 57, "of": 129}}]
    (state / "segments.json").write_text(json.dumps(segments))
    run = tmp_path / "runs" / "main" / "beauty" / "lares" / "abc123"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"train": {"seed": 2, "select_metric": "NDCG@10"}}))
    other = tmp_path / ".resume" / "main" / "beauty" / "sasrec" / "def456"  # no config, no log
    other.mkdir(parents=True)
    (other / "train.pt").write_bytes(b"")

    first, second = list_paused(tmp_path / ".resume", tmp_path)
    assert (first.model, first.seed, first.stages, first.last_stage) == ("lares", 2, ("rpt", "spt"), "rpt")
    assert (first.epochs, first.best, first.best_epoch) == (2, 0.04, 2)  # RPT's epochs only
    assert first.segments == 2 and first.train_hours == 1.0
    assert first.devices == ("cpu: X", "NVIDIA H200")
    assert first.paused_in == "rpt epoch 3, batch 57/129"  # where the last call stopped
    assert (second.model, second.seed, second.epochs, second.best, second.segments) == (
        "sasrec", None, 0, None, 0)
    assert second.paused_in == ""
    assert list_paused(tmp_path / "nothing", tmp_path) == []
