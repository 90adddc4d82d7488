"""LARES ablations: the depth sweeps, the SPT/RPT toggles and the paper's named variants.

Every ablation cell is an ordinary run of suite ``ablation``
(``results/runs/ablation/<dataset>/<model>/<hash>/``), so a rerun skips finished runs and the
tables are pure functions of the run records.

- train-depth sweep: ``lares`` trained with ``mean_recurrence = d`` and scored at ``eval_depth
  = d``, for every d of ``--depth``, crossed with the SPT/RPT toggles;
- test-depth sweep: no extra runs. Every run scores its test set at all depths of the range
  (``test_depths``), so the run trained at the reference depth (4, the published default) *is*
  the test-depth sweep, and the other runs give the full train x test depth matrix;
- named variants (w/o pre-block, TLA, SLA, RPT; no top-100 filter; NDCG reward; concat and
  linear adapters): registry entries trained at the reference depth. "w/o RPT" is the
  ``lares`` run with ``rpt = False`` (the same config as the "SPT only" toggle, so the two
  share one run instead of training the same model twice under two names).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lares_bench import depth_stats
from lares_bench.config import ConfigError, canonical_json
from lares_bench.depth_stats import depth_significance, significance_markdown
from lares_bench.runs import RunRecord, atomic_write_bytes
from lares_bench.tables import MAIN_METRICS, collect_records, mean_pm_std, to_markdown

SUITE = "ablation"
BASE_MODEL = "lares"
REF_DEPTH = 4  # LARESConfig.mean_recurrence: the published default, where variants are trained
MAX_DEPTH = 64  # a depth beyond this is a typo, not an experiment
# short name -> (registry name, or None for the "lares" run with rpt off)
NAMED_VARIANTS: dict[str, str | None] = {
    "nopre": "lares-nopre",
    "notla": "lares-notla",
    "nosla": "lares-nosla",
    "norpt": None,
    "nofilter": "lares-nofilter",
    "ndcg": "lares-ndcg",
    "concat": "lares-concat",
    "linear": "lares-linear",
}
# model-config keys the ablation sets itself; a --set on them would silently break the sweep
SWEPT_KEYS = ("spt", "rpt", "mean_recurrence", "eval_depth", "test_depths", "backbone")
# without SPT, stage 1 is plain CE training of the same recurrent model
STAGE_ORDER = ("SPT+RPT", "SPT only", "CE+RPT", "CE only")
TABLE_METRICS = ("HR@10", "NDCG@10", "HR@20", "NDCG@20", "MRR")


class DepthRangeError(ValueError):
    pass


def parse_depths(text: str) -> tuple[int, ...]:
    """``"1..8"``, ``"1,2,4,8"``, ``"4"`` or a mix (``"1..4,8"``) -> sorted unique depths.

    Ranges are inclusive and must ascend; every depth is an integer in 1..MAX_DEPTH."""
    spec = text.strip()
    if not spec:
        raise DepthRangeError("--depth is empty; expected e.g. 1..8, 1,2,4,8 or 4")
    depths: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            raise DepthRangeError(f"--depth {text!r}: empty item between commas")
        if ".." in part:
            lo_s, _, hi_s = part.partition("..")
            lo, hi = _depth_int(lo_s, text), _depth_int(hi_s, text)
            if hi < lo:
                raise DepthRangeError(f"--depth {text!r}: range {part} runs backwards ({lo} > {hi})")
            depths.update(range(lo, hi + 1))
        else:
            depths.add(_depth_int(part, text))
    return tuple(sorted(depths))


def _depth_int(raw: str, text: str) -> int:
    raw = raw.strip()
    try:
        value = int(raw)
    except ValueError:
        raise DepthRangeError(
            f"--depth {text!r}: {raw!r} is not an integer (expected e.g. 1..8, 1,2,4,8 or 4)"
        ) from None
    if not 1 <= value <= MAX_DEPTH:
        raise DepthRangeError(f"--depth {text!r}: depth {value} outside 1..{MAX_DEPTH}")
    return value


def parse_variants(text: str | None) -> tuple[str, ...]:
    """``all``, ``none`` or comma-separated short names (``nopre,notla``) -> short names."""
    if text is None or text.strip().lower() in ("", "none"):
        return ()
    if text.strip().lower() == "all":
        return tuple(NAMED_VARIANTS)
    names = tuple(v.strip().removeprefix("lares-") for v in text.split(",") if v.strip())
    unknown = [n for n in names if n not in NAMED_VARIANTS]
    if unknown:
        raise ConfigError(
            f"--variants: unknown {', '.join(unknown)}; known: {', '.join(NAMED_VARIANTS)}, all, none"
        )
    return tuple(dict.fromkeys(names))


def stage_label(spt: bool, rpt: bool) -> str:
    if spt and rpt:
        return "SPT+RPT"
    if spt:
        return "SPT only"
    return "CE+RPT" if rpt else "CE only"


# --- planning and running ------------------------------------------------------------------
@dataclass(frozen=True)
class AblationRequest:
    datasets: tuple[str, ...]
    depths: tuple[int, ...]
    results_root: Path
    # depths every run is also tested at (the test-depth sweep); None = ``depths``. The train
    # depths are always added, so a later call that trains a subset of the depths (another seed
    # at 1,2,4,8) can keep the first call's test depths and hence its run configs.
    test_depths: tuple[int, ...] | None = None
    spt_values: tuple[bool, ...] = (True,)
    rpt_values: tuple[bool, ...] = (True,)
    variants: tuple[str, ...] = ()  # short names of NAMED_VARIANTS
    seeds: tuple[int, ...] = (0, 1, 2)
    backbone: str = "transformer"
    ref_depth: int = REF_DEPTH
    data_dir: Path | None = None
    cache_dir: Path | None = None
    device: str = "auto"
    overrides: dict[str, dict] = field(default_factory=dict)  # the user's --set
    progress: bool = True
    force: bool = False
    shard: tuple[int, int] | None = None  # (k, n): run only the k-th of n parts of the plan
    pause_after: float = 0.0  # seconds; runs still training then pause (0 = never)
    state_dir: Path | None = None  # paused runs' states (default: <results_root>/.resume)


@dataclass(frozen=True)
class PlannedRun:
    dataset: str
    model: str
    seed: int
    role: str  # "depth" (train-depth sweep) or "variant" (named ablation at the reference depth)
    overrides: dict[str, dict]

    def key(self) -> str:
        return canonical_json({"d": self.dataset, "m": self.model, "s": self.seed, "o": self.overrides})


def _with_model(user: dict[str, dict], model: dict) -> dict[str, dict]:
    out = {section: dict(values) for section, values in user.items()}
    out.setdefault("model", {}).update(model)
    return out


def plan_runs(req: AblationRequest) -> list[PlannedRun]:
    """The runs of the request, without duplicates, in execution order (dataset-major)."""
    from baselines import MODELS

    clash = sorted(set(req.overrides.get("model", {})) & set(SWEPT_KEYS))
    if clash:
        raise ConfigError(
            f"--set model.{clash[0]}: set by ablate itself (use --depth, --spt/--no-spt, "
            "--rpt/--no-rpt, --backbone)"
        )
    if not req.depths:
        raise DepthRangeError("--depth gives no depths")
    missing = [m for m in [BASE_MODEL, *(NAMED_VARIANTS[v] for v in req.variants)] if m and m not in MODELS]
    if missing:
        raise KeyError(f"model(s) {', '.join(missing)} not registered in this version")
    depths = list(req.depths)
    tested = sorted(set(req.test_depths or ()) | set(depths))

    def at(d: int, **model) -> dict:
        base = {"mean_recurrence": d, "eval_depth": d, "test_depths": tested, "backbone": req.backbone}
        return _with_model(req.overrides, {**base, **model})

    planned: dict[str, PlannedRun] = {}
    for dataset in req.datasets:
        cells: list[tuple[str, str, dict]] = []
        for spt in req.spt_values:
            for rpt in req.rpt_values:
                for d in depths:
                    cells.append((BASE_MODEL, "depth", at(d, spt=spt, rpt=rpt)))
        if req.variants:
            # the full model at the reference depth is every variant's point of comparison
            cells.append((BASE_MODEL, "variant", at(req.ref_depth, spt=True, rpt=True)))
            for short in req.variants:
                name = NAMED_VARIANTS[short]
                if name is None:  # w/o RPT = lares with rpt off
                    cells.append((BASE_MODEL, "variant", at(req.ref_depth, spt=True, rpt=False)))
                else:
                    cells.append((name, "variant", at(req.ref_depth)))
        for model, role, overrides in cells:
            for seed in req.seeds:
                run = PlannedRun(dataset, model, seed, role, overrides)
                planned.setdefault(run.key(), run)  # a depth cell may equal a variant cell
    return list(planned.values())


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` (1 <= K <= N) -> (K, N)."""
    parts = text.split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"--shard must look like K/N (e.g. 2/4), got {text!r}")
    k, n = (int(p) for p in parts)
    if not 1 <= k <= n:
        raise ValueError(f"--shard {text}: need 1 <= K <= N")
    return k, n


def shard_plan(plan: list[PlannedRun], shard: tuple[int, int] | None) -> list[PlannedRun]:
    """The runs of part k of n. A run and its no-RPT twin (same cell with ``rpt`` off, which
    the run with RPT writes itself) go to the same part, in plan order (RPT first), so parallel
    parts never train the same SPT model twice or write the same run directory.

    Balance: the groups of each seed are dealt out separately (so a second seed added later is
    split over all parts, not all given to one), in snake order 1..n, n..1 (so the plan's
    cheap-to-costly depth order does not give one part every costliest cell). The partition
    depends on the plan alone, never on which runs are finished, so parts started at different
    times still agree."""
    if shard is None:
        return plan
    k, n = shard
    group_of: list[str] = []
    seed_of: dict[str, int] = {}
    for run in plan:
        model = {key: v for key, v in run.overrides.get("model", {}).items() if key != "rpt"}
        key = canonical_json(
            {"d": run.dataset, "m": run.model, "s": run.seed, "o": {**run.overrides, "model": model}}
        )
        group_of.append(key)
        seed_of.setdefault(key, run.seed)
    part_of: dict[str, int] = {}
    for seed in dict.fromkeys(seed_of.values()):
        for i, key in enumerate(g for g in seed_of if seed_of[g] == seed):
            lap, pos = divmod(i, n)
            part_of[key] = pos if lap % 2 == 0 else n - 1 - pos
    return [run for run, key in zip(plan, group_of, strict=True) if part_of[key] == k - 1]


Loader = Callable[[str, Path | None, Path | None, object], tuple[object, object]]


def run_ablation(
    req: AblationRequest,
    on_run: Callable[[RunRecord], None] | None = None,
    load: Loader | None = None,
) -> dict[str, list[RunRecord]]:
    """Run (or skip, when finished) every planned run; write results/ablation/<dataset>/.

    ``load(name, data_dir, cache_dir, device) -> (data, split)`` defaults to
    ``suites.load_split``. Returns the records per dataset. With ``req.shard`` only that part
    of the plan runs and no tables are written (a run without a shard writes them, skipping
    the finished runs)."""
    from lares_bench.experiment import build_run_config, executor_for
    from lares_bench.resume import pause_deadline, refuse_start_after, state_root
    from lares_bench.runs import execute_run, run_dir
    from lares_bench.suites import load_split
    from lares_bench.training import resolve_device

    plan = shard_plan(plan_runs(req), req.shard)  # validate everything before loading data
    load = load or load_split
    device = resolve_device(req.device)
    pause_at = pause_deadline(req.pause_after)
    out: dict[str, list[RunRecord]] = {}
    for dataset in req.datasets:
        data, split = load(dataset, req.data_dir, req.cache_dir, device)
        records = []
        for run in (r for r in plan if r.dataset == dataset):
            cfg = build_run_config(
                dataset, run.model, seed=run.seed, max_len=split.max_len, suite=SUITE,
                overrides=run.overrides, device=req.device,
            )
            refuse_start_after(pause_at, run_dir(req.results_root, cfg, data.fingerprint()), req.force)
            rec = execute_run(
                cfg, split, data.fingerprint(), req.results_root, executor_for(run.model),
                progress=req.progress, force=req.force,
                state_root=state_root(req.results_root, req.state_dir), pause_at=pause_at,
            )
            records.append(rec)
            if on_run:
                on_run(rec)
        out[dataset] = records
        if req.shard is not None:
            continue
        write_ablation_tables(
            req.results_root, dataset, [r.path for r in records], ref_depth=req.ref_depth
        )
    return out


# --- reading records -----------------------------------------------------------------------
def _variant_keys() -> tuple[str, ...]:
    """Model-config keys that the named variants change (excluded from the settings key)."""
    from baselines import MODELS

    keys = {k for name in NAMED_VARIANTS.values() if name and name in MODELS for k in MODELS[name].model_overrides}
    return tuple(sorted(keys | set(SWEPT_KEYS)))


def settings_key(config: dict) -> str:
    """Short hash of everything but the ablated factors and the seed: runs that share it were
    trained under the same settings and belong in one table."""
    skip = set(_variant_keys())
    payload = {
        "train": {k: v for k, v in config["train"].items() if k not in ("seed", "device")},
        "eval": config["eval"],
        "model": {k: v for k, v in config["model_config"].items() if k not in skip},
        "family": config["model"].split("-")[0],
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:8]


def variant_label(model: str, spt: bool, rpt: bool) -> str:
    """Row name of the ablation table: registry label for named variants, else by stage. A
    named variant's no-RPT twin (written by its run with RPT) gets its own row, never the
    variant's: it is the same seed's SPT checkpoint, not a second seed."""
    from baselines import MODELS

    if model != BASE_MODEL:
        label = MODELS[model].label if model in MODELS else model
        return label if rpt else f"{label}, w/o RPT"
    return {
        "SPT+RPT": "LARES (full)",
        "SPT only": "LARES w/o RPT",
        "CE+RPT": "LARES w/o SPT",
        "CE only": "LARES w/o SPT, RPT",
    }[stage_label(spt, rpt)]


def load_runs(root: Path, dataset: str | None = None, run_dirs: list[Path] | None = None) -> pd.DataFrame:
    """One row per finished ablation run (tables.collect_records columns plus the LARES
    fields: backbone, spt, rpt, stage, train_depth, eval_depth, variant, settings)."""
    df = collect_records(root, SUITE)
    if df.empty:
        return df
    if dataset is not None:
        df = df[df["dataset"] == dataset]
    if run_dirs is not None:
        wanted = {str(Path(p).resolve()) for p in run_dirs}
        df = df[[str((root / r).resolve()) in wanted for r in df["run"]]]
    extra = []
    for run in df["run"]:
        res = json.loads((root / run / "result.json").read_text())
        mc = res["config"]["model_config"]
        spt, rpt = bool(mc.get("spt", True)), bool(mc.get("rpt", True))
        train_depth = int(mc.get("mean_recurrence", 0))
        extra.append({
            "backbone": mc.get("backbone", ""),
            "spt": spt,
            "rpt": rpt,
            "stage": stage_label(spt, rpt),
            "train_depth": train_depth,
            "eval_depth": int(mc.get("eval_depth") or train_depth),
            "variant": variant_label(res["config"]["model"], spt, rpt),
            "settings": settings_key(res["config"]),
            "test_eval_seconds": res.get("test_eval_seconds"),
            "n_users": res.get("n_users"),
        })
    # the ablation's own settings key (without the swept keys) replaces the per-run one
    base = df.reset_index(drop=True).drop(columns=["settings"], errors="ignore")
    return pd.concat([base, pd.DataFrame(extra)], axis=1)


def depth_long(root: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, test depth) from ``test_by_depth``: the test-depth sweep."""
    rows = []
    for _, r in runs.iterrows():
        res = json.loads((root / r["run"] / "result.json").read_text())
        for depth, metrics in (res.get("test_by_depth") or {}).items():
            row = {c: r[c] for c in ("dataset", "model", "seed", "backbone", "stage", "variant",
                                     "train_depth", "settings", "run")}
            row["test_depth"] = int(depth)
            row.update({f"test_{k}": v for k, v in metrics.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def latest_settings(runs: pd.DataFrame, root: Path) -> tuple[pd.DataFrame, list[str]]:
    """Keep, per dataset, the settings group of the most recently finished run; runs made
    under other settings (an earlier smoke run, another history mask) would mix otherwise."""
    if runs.empty or runs["settings"].nunique() <= 1:
        return runs, []
    mtime = runs["run"].map(lambda r: (root / r / "result.json").stat().st_mtime)
    keep, notes = [], []
    for dataset, grp in runs.groupby("dataset", sort=False):
        latest = grp.loc[mtime[grp.index].idxmax(), "settings"]
        keep.append(grp[grp["settings"] == latest])
        dropped = grp[grp["settings"] != latest]
        if len(dropped):
            notes.append(
                f"{dataset}: {len(dropped)} run(s) under other settings "
                f"({', '.join(sorted(dropped['settings'].unique()))}) left out; using {latest}"
            )
    return pd.concat(keep), notes


def unfinished_runs(root: Path, dataset: str | None = None) -> list[str]:
    """Run directories with a config but no result.json (killed or still running)."""
    base = root / "runs" / SUITE / (dataset or "")
    return sorted(
        str(p.parent.relative_to(root))
        for p in base.glob("**/config.json")
        if not (p.parent / "result.json").exists()
    )


def pick_ref_depth(runs: pd.DataFrame, preferred: int = REF_DEPTH) -> int | None:
    """The reference depth of a set of runs: where the named variants were trained (the
    records say it, whatever ``--ref-depth`` was), else ``preferred`` or the nearest depth
    of a ``lares`` run."""
    depths = sorted(runs.loc[runs["model"] == BASE_MODEL, "train_depth"].unique())
    if not depths:
        return None
    named = runs.loc[runs["model"] != BASE_MODEL, "train_depth"]
    if len(named) and int(named.mode().iloc[0]) in depths:
        return int(named.mode().iloc[0])
    return int(min(depths, key=lambda d: (abs(d - preferred), d)))


def missing_cells(runs: pd.DataFrame) -> list[str]:
    """What the train-depth grid lacks: depths a stage has not reached that another stage
    has (stages swept over several depths only), and cells with fewer seeds than the
    best-covered cell."""
    lares = runs[runs["model"] == BASE_MODEL]
    if lares.empty:
        return []
    notes = []
    all_depths = set(lares["train_depth"])
    counts = lares.groupby(["dataset", "stage", "train_depth"]).size()
    full = counts.max()
    for (dataset, stage), grp in lares.groupby(["dataset", "stage"]):
        lacking = sorted(all_depths - set(grp["train_depth"]))
        # a stage at one depth only is an ablation point (w/o RPT at the reference depth),
        # not a sweep that stopped early
        if lacking and grp["train_depth"].nunique() > 1:
            notes.append(f"{dataset} {stage}: no finished run at depth {', '.join(map(str, lacking))}")
    for (dataset, stage, depth), n in counts.items():
        if n < full:
            notes.append(f"{dataset} {stage} depth {depth}: {n} of {full} seeds finished")
    return notes


def training_scale(root: Path, runs: pd.DataFrame) -> str:
    """How long the runs of one settings group trained, from their records, for captions:
    e.g. "reduced scale (not trained to convergence): SPT 6 epochs x 40 batches x 256
    examples (0.47 of the 131,413 training examples) ...". Empty for no runs."""
    if runs.empty:
        return ""
    results = [json.loads((root / r / "result.json").read_text()) for r in runs["run"]]
    train, mc = results[0]["config"]["train"], results[0]["config"]["model_config"]
    examples = next((r["rpt"]["examples"] for r in results if r.get("rpt")), None)
    cut = int(train.get("epoch_batches", 0) or 0)
    budget = float(train.get("max_train_seconds", 0) or 0)
    if cut:
        seen = train["epochs"] * cut * train["batch_size"]
        of_all = f", {seen / examples:.2f} of the {examples:,} training examples" if examples else ""
        share = f" ({seen:,} examples{of_all})"
        spt = f"SPT {train['epochs']} epochs x {cut} batches x {train['batch_size']}{share}"
    else:
        spt = f"SPT up to {train['epochs']} epochs of batch {train['batch_size']} (patience {train['patience']})"
    parts = [spt]
    if any(r.get("rpt") for r in results):
        rpt_epochs = mc.get("rpt_epochs") or train["epochs"]
        rpt_cut = int(mc.get("rpt_epoch_batches") or cut)
        per = f" x {rpt_cut} batches" if rpt_cut else ""
        parts.append(f"RPT {rpt_epochs} epochs{per} x {mc.get('rpt_batch_size')} examples (kept by the filter)")
    if budget:
        parts.append(f"at most {budget:.0f} s of training per stage")
    if train.get("length_bucketing"):
        parts.append("length-bucketed batches")
    reduced = cut or budget
    prefix = "Reduced scale (not trained to convergence): " if reduced else "Training: "
    return prefix + "; ".join(parts) + "."


# --- tables --------------------------------------------------------------------------------
def mean_std(df: pd.DataFrame, by: list[str], metrics=MAIN_METRICS) -> pd.DataFrame:
    """Mean and sample std over seeds of ``test_<metric>``, plus the seed count."""
    cols = [f"test_{m}" for m in metrics if f"test_{m}" in df]
    g = df.groupby(by, sort=True)
    out = g[cols].mean().add_suffix("_mean").join(g[cols].std(ddof=1).fillna(0.0).add_suffix("_std"))
    out["seeds"] = g.size()
    return out.reset_index()


def pretty(summary: pd.DataFrame, keys: list[str], metrics=TABLE_METRICS) -> pd.DataFrame:
    """``mean ± std`` strings for the Markdown tables."""
    rows = []
    for _, r in summary.iterrows():
        row = {k: r[k] for k in keys}
        for m in metrics:
            if f"test_{m}_mean" in r:
                row[m] = mean_pm_std(r[f"test_{m}_mean"], r[f"test_{m}_std"], int(r["seeds"]))
        row["seeds"] = int(r["seeds"])
        rows.append(row)
    return pd.DataFrame(rows)


def _stage_sort(df: pd.DataFrame) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(STAGE_ORDER)}
    return df.sort_values(["stage", *[c for c in ("train_depth", "test_depth") if c in df]],
                          key=lambda s: s.map(order) if s.name == "stage" else s)


@dataclass
class AblationTables:
    train_depth: pd.DataFrame  # stage x train depth (evaluated at the training depth)
    test_depth: pd.DataFrame  # stage x test depth (one model trained at the reference depth)
    depth_matrix: pd.DataFrame  # NDCG@10 mean, train depth (rows) x test depth (columns), SPT+RPT
    variants: pd.DataFrame  # full model and named variants at the reference depth
    ref_depth: int | None
    notes: list[str]


def ablation_tables(root: Path, runs: pd.DataFrame, ref_depth: int = REF_DEPTH) -> AblationTables:
    """The four tables of one dataset from its run rows (``load_runs``)."""
    lares = runs[runs["model"] == BASE_MODEL]
    ref = pick_ref_depth(runs, ref_depth)
    notes = missing_cells(runs)
    if ref is not None and ref != ref_depth and (runs["model"] == BASE_MODEL).all():
        notes.append(f"no run at reference depth {ref_depth}; using depth {ref}")
    by = ["backbone", "stage", "train_depth"]
    train = _stage_sort(mean_std(lares, by)) if len(lares) else pd.DataFrame()
    long = depth_long(root, lares) if len(lares) else pd.DataFrame()
    test = matrix = pd.DataFrame()
    if len(long):
        at_ref = long[long["train_depth"] == ref]
        test = _stage_sort(mean_std(at_ref, ["backbone", "stage", "test_depth"]))
        full = long[long["stage"] == "SPT+RPT"]
        if len(full):
            matrix = full.pivot_table(index="train_depth", columns="test_depth",
                                      values="test_NDCG@10", aggfunc="mean")
    var = pd.DataFrame()
    at_ref_runs = runs[runs["train_depth"] == ref]
    if len(at_ref_runs):
        var = mean_std(at_ref_runs, ["backbone", "variant"])
        # the full model first, then the stage toggles, then the named variants
        order = {v: i for i, v in enumerate(["LARES (full)", "LARES w/o RPT", "LARES w/o SPT"])}
        var = var.sort_values("variant", key=lambda s: s.map(lambda v: order.get(v, 10))).reset_index(drop=True)
        full_rows = var[var["variant"] == "LARES (full)"]
        if len(full_rows):
            base = float(full_rows["test_NDCG@10_mean"].iloc[0])
            var["NDCG@10_vs_full_pct"] = (var["test_NDCG@10_mean"] / base - 1.0) * 100 if base else np.nan
    return AblationTables(train, test, matrix, var, ref, notes)


def write_ablation_tables(
    root: Path, dataset: str, run_dirs: list[Path] | None = None, ref_depth: int = REF_DEPTH
) -> list[Path]:
    """results/ablation/<dataset>/: runs.csv and, as CSV and Markdown, depth_train,
    depth_test, depth_matrix and variants. With ``run_dirs`` only those runs count (what
    ``ablate`` just ran or found finished); otherwise the latest settings group on disk."""
    runs = load_runs(root, dataset, run_dirs)
    if runs.empty:
        return []
    notes: list[str] = []
    if run_dirs is None:
        runs, notes = latest_settings(runs, root)
    t = ablation_tables(root, runs, ref_depth)
    out = root / SUITE / dataset
    settings = runs.iloc[0]
    header = (
        f"Dataset {dataset}; history mask {settings['history_mask']}; backbone "
        f"{', '.join(sorted(runs['backbone'].unique()))}; seeds per cell up to {runs.groupby(['model', 'stage', 'train_depth']).size().max()}; "
        f"settings {', '.join(sorted(runs['settings'].unique()))}; mean ± std over seeds.\n"
        f"{training_scale(root, runs)}"
    )
    written = [_write(out / "runs.csv", runs.to_csv(index=False))]
    sections = {
        "depth_train": (t.train_depth, ["backbone", "stage", "train_depth"],
                        "Train-depth sweep: trained with mean depth d, tested at d."),
        "depth_test": (t.test_depth, ["backbone", "stage", "test_depth"],
                       f"Test-depth sweep: trained at depth {t.ref_depth}, tested at each depth."),
        "variants": (t.variants, ["backbone", "variant"],
                     f"Ablations at depth {t.ref_depth} (change of NDCG@10 against the full model)."),
    }
    for name, (df, keys, caption) in sections.items():
        if df.empty:
            continue
        written.append(_write(out / f"{name}.csv", df.to_csv(index=False)))
        table = pretty(df, keys)
        if "NDCG@10_vs_full_pct" in df:
            table["ΔNDCG@10"] = [f"{v:+.1f}%" for v in df["NDCG@10_vs_full_pct"]]
        written.append(_write(out / f"{name}.md", f"{caption}\n{header}\n\n{to_markdown(table)}"))
    if not t.depth_matrix.empty:
        m = t.depth_matrix.copy()
        written.append(_write(out / "depth_matrix.csv", m.to_csv()))
        md = m.map(lambda v: f"{v:.4f}").reset_index().rename(columns={"train_depth": "train \\ test"})
        md.columns = [str(c) for c in md.columns]
        written.append(_write(
            out / "depth_matrix.md",
            f"NDCG@10 (SPT+RPT, mean over seeds): trained at depth (row), tested at depth (column).\n"
            f"{header}\n\n{to_markdown(md)}",
        ))
    lares = runs[runs["model"] == BASE_MODEL]
    sig = depth_significance(root, lares, t.ref_depth) if t.ref_depth is not None else pd.DataFrame()
    if not sig.empty:
        written.append(_write(out / "depth_significance.csv", sig.to_csv(index=False)))
        written.append(_write(
            out / "depth_significance.md",
            f"Each depth against depth {t.ref_depth}, paired over users ({depth_stats.METRIC}; seeds "
            "averaged per user; two-sided t-test; Holm over the depths of one sweep and stage). "
            "Test depth: the model trained at the reference depth, scored at each depth. Train "
            "depth: the model trained at each depth against the one trained at the reference depth "
            "(a test over users: it does not see seed-to-seed variation of training).\n"
            f"{header}\n\n{significance_markdown(sig)}",
        ))
    if t.notes or notes:
        written.append(_write(out / "missing.txt", "\n".join(notes + t.notes) + "\n"))
    else:
        (out / "missing.txt").unlink(missing_ok=True)
    return written


def _write(path: Path, text: str) -> Path:
    atomic_write_bytes(path, text.encode())
    return path
