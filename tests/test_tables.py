"""Rows of the summary tables: which runs are averaged together."""

import pandas as pd

from lares_bench.tables import device_group, summarize


def _run(seed: int, device: str, name: str, ndcg: float) -> dict:
    env = {"device": device, "device_name": name}
    return {"dataset": "beauty", "history_mask": "inf", "model": "sasrec", "settings": "abc",
            "budget_s": 0.0, "seed": seed, "device": name, "device_group": device_group(env),
            "selected_epoch": 10, "seconds_per_epoch": 1.0, "test_NDCG@10": ndcg}


def test_cpu_seeds_on_different_machines_are_one_row_and_gpus_stay_apart():
    df = pd.DataFrame([
        _run(0, "cpu", "cpu: AMD EPYC", 0.05),
        _run(1, "cpu", "cpu: AMD EPYC", 0.06),
        _run(2, "cpu", "cpu: Intel(R) Xeon(R) Processor", 0.07),  # resumed on another machine
        _run(0, "cuda:0", "NVIDIA H200", 0.01),
        _run(1, "cuda", "NVIDIA H100 80GB HBM3", 0.02),
    ])
    out = summarize(df, metrics=("NDCG@10",)).set_index("device_group")
    assert sorted(out.index) == ["NVIDIA H100 80GB HBM3", "NVIDIA H200", "cpu"]
    cpu = out.loc["cpu"]
    assert cpu["seeds"] == 3
    assert abs(cpu["test_NDCG@10_mean"] - 0.06) < 1e-12
    assert cpu["device"] == "cpu: AMD EPYC / cpu: Intel(R) Xeon(R) Processor"
    assert out.loc["NVIDIA H200", "seeds"] == 1
