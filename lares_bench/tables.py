"""Tables as pure functions of run records: collect, aggregate over seeds, write CSV/Markdown."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pandas as pd

from lares_bench.runs import atomic_write_bytes, drop_execution_fields

MAIN_METRICS = ("HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20", "MRR")


def settings_id(config: dict) -> str:
    """Short id of a run's settings: its config without the seed and the device. Runs of one
    model with different settings (a budget, a changed default, a --set) are different rows."""
    c = copy.deepcopy(config)
    # a field added to a config later is absent from older records, which ran with what is now
    # its default: fill defaults so that such a field does not split one setting in two
    c["train"] = {**_defaults("train"), **c["train"]}
    c["eval"] = {**_defaults("eval"), **c["eval"]}
    c["model_config"] = {**_defaults("model", c.get("model", "")), **c.get("model_config", {})}
    c["train"].pop("seed", None)
    drop_execution_fields(c)
    return hashlib.sha256(json.dumps(c, sort_keys=True, default=list).encode()).hexdigest()[:8]


def _defaults(section: str, model: str = "") -> dict:
    """Current defaults of a config section as JSON-like values (tuples as lists)."""
    import dataclasses

    from lares_bench.config import EvalConfig, TrainConfig

    if section == "train":
        obj = TrainConfig()
    elif section == "eval":
        obj = EvalConfig()
    else:
        from baselines import MODELS

        if model not in MODELS:
            return {}
        obj = MODELS[model].default_config()
    return json.loads(json.dumps(dataclasses.asdict(obj), default=list))


def collect_records(root: Path, suite: str | None = None) -> pd.DataFrame:
    """One row per finished run under ``root/runs[/suite]`` (runs without result.json are
    unfinished and left out)."""
    base = root / "runs" / suite if suite else root / "runs"
    rows = []
    for result_path in sorted(base.glob("**/result.json")):
        res = json.loads(result_path.read_text())
        env_path = result_path.parent / "env.json"
        env = json.loads(env_path.read_text()) if env_path.exists() else {}
        cfg = res["config"]
        row = {
            "suite": cfg["suite"],
            "dataset": cfg["dataset"],
            "model": cfg["model"],
            "seed": cfg["train"]["seed"],
            "history_mask": cfg["eval"]["history_mask"],
            "run": str(result_path.parent.relative_to(root)),
            "selected_epoch": res.get("selected_epoch"),
            "epochs_run": res.get("epochs_run"),
            "seconds_per_epoch": res.get("seconds_per_epoch"),
            "train_seconds": res.get("train_seconds"),
            "n_params": res.get("n_params"),
            "device": env.get("device_name", env.get("device", "")),
            "device_group": device_group(env),
            "settings": settings_id(cfg),
            # a training-time budget makes a different experiment: tables keep it apart
            "budget_s": float(cfg["train"].get("max_train_seconds", 0.0)),
            "budget_stop": "time budget" in str(res.get("stop_reason", "")),  # either stage
            "version": env.get("lares_bench", ""),
        }
        row.update({f"test_{k}": v for k, v in res["test"].items()})
        row.update({f"valid_{k}": v for k, v in res.get("valid", {}).items()})
        rows.append(row)
    return pd.DataFrame(rows)


def device_group(env: dict) -> str:
    """The device a run's row is grouped by: its GPU's name, or "cpu" for any processor. Seeds
    of one CPU run can land on different machines across sessions (paused and resumed), and
    their results are one experiment; GPUs stay apart, as their timings are the point of those
    rows."""
    device = str(env.get("device", ""))
    return "cpu" if device.startswith("cpu") else env.get("device_name", device)


def device_names(names: pd.Series) -> str:
    """Every machine of a group, in order of first appearance ("a / b")."""
    return " / ".join(dict.fromkeys(str(n) for n in names))


def latest_version(df: pd.DataFrame) -> pd.DataFrame:
    """Keep, per (dataset, model), the runs of the newest package version: a version bump
    changes results, and old runs stay on disk (their hashes differ) but must not be averaged
    with new ones."""
    if df.empty or "version" not in df:
        return df

    def key(v: str) -> tuple:
        return tuple(int(p) if p.isdigit() else 0 for p in str(v).split("."))

    newest = df.groupby(["dataset", "model"])["version"].transform(lambda v: max(v, key=key))
    return df[df["version"] == newest]


def one_setting_per_model(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Per (dataset, history mask, model), the newest version's runs of ONE setting
    (``settings_id``), for tables that show one row per model (the report): runs trained to early
    stopping are preferred over time-budgeted ones, then the setting with the most seeds.
    Returns the kept runs and a note for every setting left out."""
    if df.empty:
        return df, []
    df = latest_version(df)
    keep, notes = [], []

    def what(budget: float) -> str:
        return f"{budget:.0f} s budget" if budget else "no budget"

    for (dataset, _, model), grp in df.groupby(["dataset", "history_mask", "model"], sort=False):
        settings = sorted(
            grp.groupby("settings", sort=False),
            key=lambda kv: (kv[1]["budget_s"].iloc[0] > 0, -len(kv[1])),
        )
        sid, chosen = settings[0]
        keep.append(chosen)
        for other_id, other in settings[1:]:
            notes.append(
                f"{dataset}/{model}: {len(other)} run(s) of settings {other_id} "
                f"({what(other['budget_s'].iloc[0])}) left out; the table uses {len(chosen)} run(s) "
                f"of settings {sid} ({what(chosen['budget_s'].iloc[0])})"
            )
    return pd.concat(keep), notes


def summarize(
    df: pd.DataFrame,
    metrics=MAIN_METRICS,
    by=("dataset", "history_mask", "model", "settings", "budget_s", "device_group"),
):
    """Mean and sample std over seeds for each metric; also seeds, epochs and s/epoch. Runs of
    one model with other settings (``settings_id``) or on another GPU are separate rows; CPU
    runs are one group (``device_group``), and ``device`` names every machine in it."""
    by = [b for b in by if b in df]
    cols = [f"test_{m}" for m in metrics if f"test_{m}" in df]
    g = df.groupby(by, sort=False)
    out = g[cols].mean().add_suffix("_mean").join(g[cols].std(ddof=1).fillna(0.0).add_suffix("_std"))
    out["seeds"] = g.size()
    out["epochs"] = g["selected_epoch"].mean()
    out["s_per_epoch"] = g["seconds_per_epoch"].mean()
    if "device" not in by:
        out["device"] = g["device"].agg(device_names)
    if "budget_stop" in df:
        out["budget_stops"] = g["budget_stop"].sum().astype(int)
    return out.reset_index()


def mean_pm_std(mean: float, std: float, seeds: int) -> str:
    """``mean ± std`` over seeds; the mean alone for one seed (whose std is undefined, not 0)."""
    return f"{mean:.4f} ± {std:.4f}" if seeds > 1 else f"{mean:.4f}"


def format_table(summary: pd.DataFrame, metrics=MAIN_METRICS) -> pd.DataFrame:
    """``mean ± std`` strings, one row per (dataset, mask, model)."""
    rows = []
    for _, r in summary.iterrows():
        row = {"dataset": r["dataset"], "mask": r["history_mask"], "model": r["model"]}
        if "settings" in r:
            row["settings"] = r["settings"]
        for m in metrics:
            if f"test_{m}_mean" in r:
                row[m] = mean_pm_std(r[f"test_{m}_mean"], r[f"test_{m}_std"], int(r["seeds"]))
        row["seeds"] = int(r["seeds"])
        row["epochs"] = f"{r['epochs']:.0f}"
        row["s/epoch"] = f"{r['s_per_epoch']:.2f}"
        if "budget_s" in r:  # "-" = trained to early stopping; else budget and runs it stopped
            row["budget"] = (
                f"{r['budget_s']:.0f} s ({int(r['budget_stops'])} stopped)" if r["budget_s"] else "-"
            )
        row["device"] = r["device"]
        rows.append(row)
    return pd.DataFrame(rows)


def to_markdown(df: pd.DataFrame) -> str:
    """GitHub Markdown without the optional ``tabulate`` dependency."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def write_suite_tables(root: Path, suite: str, caption: str = "") -> list[Path]:
    """results/<suite>/runs.csv (every run), summary.csv and summary.md (mean ± std)."""
    df = latest_version(collect_records(root, suite))
    if df.empty:
        return []
    out_dir = root / suite
    summary = summarize(df)
    table = format_table(summary)
    written = []
    for name, payload in (
        ("runs.csv", df.to_csv(index=False)),
        ("summary.csv", summary.to_csv(index=False)),
        ("summary.md", (f"{caption}\n\n" if caption else "") + to_markdown(table)),
    ):
        atomic_write_bytes(out_dir / name, payload.encode())
        written.append(out_dir / name)
    return written
