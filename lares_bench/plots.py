"""Figures as pure functions of run records (no training): PNG and PDF with seaborn.

Per dataset, under ``<out>/<dataset>/``:
  depth             NDCG@10 and HR@10 against depth (trained with mean depth d, tested at d),
                    one line per SPT/RPT variant, mean ± std band over seeds
  depth_train_test  the same curves next to the test-depth sweep (one model trained at the
                    reference depth, tested at every depth), and the train x test NDCG@10 map
  ablation          bars of the named ablations at the reference depth
  main              bars of every model of the main suite
  valid_<suite>     validation NDCG@10 per epoch (LARES: SPT epochs, then RPT epochs)
  compute           NDCG@10 against training seconds (or FLOPs per example), one point per
                    model and, for LARES, per training depth
A figure that lacks its runs is not drawn; its notes say which runs are missing.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib import ticker  # noqa: E402

from lares_bench import ablation  # noqa: E402
from lares_bench.tables import collect_records, device_names, one_setting_per_model  # noqa: E402

FORMATS = ("png", "pdf")
STAGE_PALETTE = dict(zip(ablation.STAGE_ORDER, sns.color_palette("colorblind", 4), strict=True))


@dataclass
class FigureOutput:
    name: str
    dataset: str
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # missing or partial runs

    @property
    def drawn(self) -> bool:
        return bool(self.paths)


def _theme() -> None:
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.15)


def _save(fig: plt.Figure, out: Path, name: str, formats=FORMATS) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def model_label(model: str) -> str:
    from baselines import MODELS

    return MODELS[model].label if model in MODELS else model


# --- data ----------------------------------------------------------------------------------
@dataclass
class Records:
    """What the figures read: the ablation runs (latest settings), their test-depth rows and
    the main-suite runs of one history mask."""

    root: Path
    ablation: pd.DataFrame
    depth: pd.DataFrame
    main: pd.DataFrame
    main_suite: str
    notes: list[str]


def load_records(root: Path, main_suite: str = "main", history_mask: str = "inf") -> Records:
    runs = ablation.load_runs(root)
    runs, notes = ablation.latest_settings(runs, root)
    if len(runs):
        runs = runs[runs["history_mask"] == history_mask]
    long = ablation.depth_long(root, runs[runs["model"] == ablation.BASE_MODEL]) if len(runs) else pd.DataFrame()
    main = collect_records(root, main_suite)
    if len(main):
        main = main[main["history_mask"] == history_mask]
        # one row per model, as in the report's main table: never a mean over the runs of
        # several versions or settings (a time-budgeted GPU run and a converged CPU run)
        main, left_out = one_setting_per_model(main)
        notes += left_out
        main = main.copy()
        main["label"] = main["model"].map(model_label)
    return Records(root, runs, long, main, main_suite, notes)


def datasets_in(rec: Records) -> list[str]:
    found = [*rec.ablation.get("dataset", []), *rec.main.get("dataset", [])]
    return list(dict.fromkeys(found))


def _no_ablation(dataset: str) -> str:
    return (f"no finished LARES ablation runs for {dataset} "
            f"(results/runs/ablation/{dataset}); run `lares-bench ablate --datasets {dataset}`")


def _scale_caption(fig: plt.Figure, rec: Records, runs: pd.DataFrame, y: float = -0.01) -> None:
    """Under the figure: how long the runs trained (a reduced-scale sweep must say so)."""
    text = ablation.training_scale(rec.root, runs)
    if text:
        fig.text(0.5, y, textwrap.fill(text, 150), ha="center", va="top", fontsize=7.5, color="0.25")


def _seeds_note(df: pd.DataFrame, by: list[str]) -> str:
    n = df.groupby(by).size()
    return f"seeds per point: {n.min()}" + (f"-{n.max()}" if n.max() != n.min() else "")


# --- depth ---------------------------------------------------------------------------------
def depth_figure(rec: Records, dataset: str, out: Path, formats=FORMATS, stem: str = "depth") -> FigureOutput:
    res = FigureOutput(stem, dataset)
    runs = rec.ablation
    lares = runs[(runs["dataset"] == dataset) & (runs["model"] == ablation.BASE_MODEL)] if len(runs) else runs
    res.notes += [f"unfinished run (no result.json): {p}" for p in ablation.unfinished_runs(rec.root, dataset)]
    if lares.empty:
        res.notes.append(_no_ablation(dataset))
        return res
    res.notes += ablation.missing_cells(lares)
    if lares["train_depth"].nunique() < 2:
        res.notes.append(f"{dataset}: LARES runs at one depth only ({lares['train_depth'].iloc[0]}); "
                         "a depth curve needs two, e.g. `lares-bench ablate --depth 1..8`")
        return res
    _theme()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), sharex=True)
    for ax, metric in zip(axes, ("NDCG@10", "HR@10"), strict=True):
        sns.lineplot(data=lares, x="train_depth", y=f"test_{metric}", hue="stage", marker="o",
                     errorbar="sd", palette=STAGE_PALETTE, hue_order=_present(lares["stage"]), ax=ax)
        ax.set_xlabel("depth d (trained with mean d, tested at d)")
        ax.set_ylabel(f"test {metric}")
        ax.set_xticks(sorted(lares["train_depth"].unique()))
        _legend(ax, "training stages", show=ax is axes[-1])
    fig.suptitle(f"{dataset}: depth scaling (mean ± std, {_seeds_note(lares, ['stage', 'train_depth'])})")
    fig.tight_layout()
    _scale_caption(fig, rec, lares)
    res.paths = _save(fig, out, stem, formats)
    return res


def train_test_figure(rec: Records, dataset: str, out: Path, formats=FORMATS, ref_depth: int = ablation.REF_DEPTH) -> FigureOutput:
    res = FigureOutput("depth_train_test", dataset)
    runs = rec.ablation
    lares = runs[(runs["dataset"] == dataset) & (runs["model"] == ablation.BASE_MODEL)] if len(runs) else runs
    long = rec.depth[rec.depth["dataset"] == dataset] if len(rec.depth) else rec.depth
    if lares.empty or long.empty:
        res.notes.append(_no_ablation(dataset) if lares.empty else
                         f"{dataset}: LARES runs have no test_by_depth (per-depth test scores)")
        return res
    ref = ablation.pick_ref_depth(runs[runs["dataset"] == dataset], ref_depth)
    test = long[long["train_depth"] == ref]
    if test["test_depth"].nunique() < 2:
        res.notes.append(f"{dataset}: the model trained at depth {ref} was tested at one depth only")
        return res
    both = pd.concat([
        lares.assign(depth=lares["train_depth"], sweep="train depth = test depth"),
        test.assign(depth=test["test_depth"], sweep=f"trained at {ref}, tested at d"),
    ], ignore_index=True)
    _theme()
    fig, axes = plt.subplots(1, 3, figsize=(15.5, 4.0), gridspec_kw={"width_ratios": [1, 1, 1.3]})
    for ax, metric in zip(axes[:2], ("NDCG@10", "HR@10"), strict=True):
        sns.lineplot(data=both, x="depth", y=f"test_{metric}", hue="stage", style="sweep",
                     marker="o", errorbar="sd", palette=STAGE_PALETTE,
                     hue_order=_present(both["stage"]), ax=ax)
        ax.set_xlabel("depth d (recurrent steps)")
        ax.set_ylabel(f"test {metric}")
        ax.set_xticks(sorted(both["depth"].unique()))
        handles, names = ax.get_legend_handles_labels()
        ax.get_legend().remove()
    full = long[long["stage"] == "SPT+RPT"]
    if len(full):
        m = full.pivot_table(index="train_depth", columns="test_depth", values="test_NDCG@10", aggfunc="mean")
        # four decimals: under-trained models differ in the fourth (0.0062 vs 0.0070)
        sns.heatmap(m, annot=m.shape[1] <= 8, fmt=".4f", cmap="viridis", ax=axes[2],
                    cbar_kws={"label": "test NDCG@10"}, annot_kws={"size": 6.5})
        axes[2].set_xlabel("test depth")
        axes[2].set_ylabel("train depth")
        axes[2].set_title("SPT+RPT: test NDCG@10 (mean over seeds)", fontsize=10)
    else:
        axes[2].set_axis_off()
    fig.suptitle(f"{dataset}: train depth vs test depth (mean ± std over seeds)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    keep = [(h, n) for h, n in zip(handles, names, strict=True) if n not in ("stage", "sweep")]
    fig.legend([h for h, _ in keep], [n for _, n in keep], loc="lower center", ncol=len(keep),
               frameon=False, fontsize=9, bbox_to_anchor=(0.5, 0.0))
    _scale_caption(fig, rec, lares, y=-0.03)
    res.paths = _save(fig, out, "depth_train_test", formats)
    return res


# --- bars ----------------------------------------------------------------------------------
def ablation_bars(rec: Records, dataset: str, out: Path, formats=FORMATS, ref_depth: int = ablation.REF_DEPTH) -> FigureOutput:
    res = FigureOutput("ablation", dataset)
    runs = rec.ablation[rec.ablation["dataset"] == dataset] if len(rec.ablation) else rec.ablation
    if runs.empty:
        res.notes.append(_no_ablation(dataset))
        return res
    ref = ablation.pick_ref_depth(runs, ref_depth)
    at_ref = runs[runs["train_depth"] == ref]
    variants = _variant_order(at_ref["variant"])
    if "LARES (full)" not in variants or len(variants) < 2:
        lacking = ["the full model (lares, SPT+RPT)"] if "LARES (full)" not in variants else []
        lacking += [] if len(variants) >= 2 else ["any named variant"]
        res.notes.append(f"{dataset}: ablation bars need {' and '.join(lacking)} at depth {ref}; "
                         f"run `lares-bench ablate --datasets {dataset} --variants all`")
        return res
    _theme()
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(variants) + 1.6), sharey=True)
    colors = {v: ("#cc4125" if v == "LARES (full)" else "#6d9eeb") for v in variants}
    zoomed = False
    for ax, metric in zip(axes, ("NDCG@10", "HR@10"), strict=True):
        sns.barplot(data=at_ref, y="variant", x=f"test_{metric}", order=variants, hue="variant",
                    palette=colors, errorbar="sd", ax=ax, legend=False)
        full = at_ref.loc[at_ref["variant"] == "LARES (full)", f"test_{metric}"].mean()
        ax.axvline(full, ls="--", lw=1, color="#cc4125")
        ax.set_xlabel(f"test {metric}")
        ax.set_ylabel("")
        g = at_ref.groupby("variant")[f"test_{metric}"]
        means, low = g.mean(), (g.mean() - g.std().fillna(0.0)).min()
        if means.min() > 0.67 * means.max():  # bars within a few %: zoom in and say so
            ax.set_xlim(max(0.0, 0.95 * low), None)
            zoomed = True
        ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=4))  # 4-decimal labels must not touch
    fig.suptitle(f"{dataset}: ablations at depth {ref} (mean ± std over seeds"
                 + (", x-axis not from 0)" if zoomed else ")"))
    fig.tight_layout()
    _scale_caption(fig, rec, at_ref)
    res.paths = _save(fig, out, "ablation", formats)
    return res


def main_bars(rec: Records, dataset: str, out: Path, formats=FORMATS) -> FigureOutput:
    res = FigureOutput("main", dataset)
    main = rec.main[rec.main["dataset"] == dataset] if len(rec.main) else rec.main
    if main.empty:
        res.notes.append(f"no finished runs of suite {rec.main_suite!r} for {dataset}; run "
                         f"`lares-bench run --suite {rec.main_suite} --datasets {dataset}`")
        return res
    # a run that its time budget stopped is not converged: its bar must say so
    budgeted = main.get("budget_stop", pd.Series(False, index=main.index)).fillna(False).astype(bool)
    if budgeted.any():
        main = main.assign(label=main["label"].where(~budgeted, main["label"] + " †"))
    order = main.groupby("label")["test_NDCG@10"].mean().sort_values(ascending=False).index.tolist()
    colors = {lab: ("#cc4125" if lab.startswith("LARES") else "#6d9eeb") for lab in order}
    _theme()
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.4 * len(order) + 1.6), sharey=True)
    for ax, metric in zip(axes, ("NDCG@10", "HR@10"), strict=True):
        sns.barplot(data=main, y="label", x=f"test_{metric}", order=order, hue="label",
                    palette=colors, errorbar="sd", ax=ax, legend=False)
        ax.set_xlabel(f"test {metric}")
        ax.set_ylabel("")
    n = main.groupby("label").size()
    fig.suptitle(f"{dataset}: suite {rec.main_suite} (mean ± std over {n.min()}"
                 + (f"-{n.max()}" if n.max() != n.min() else "") + " seeds)")
    fig.tight_layout()
    if budgeted.any():
        fig.text(0.5, -0.01, "† stopped by its time budget (train.max_train_seconds) before early "
                 "stopping: not converged", ha="center", va="top", fontsize=8, color="0.25")
    res.paths = _save(fig, out, "main", formats)
    return res


# --- validation curves ---------------------------------------------------------------------
TRAIN_STAGE, RPT_STAGE = "training (LARES: SPT)", "LARES RPT"


def epoch_curves(root: Path, runs: pd.DataFrame, metric: str = "NDCG@10") -> pd.DataFrame:
    """One row per (run, epoch) from epochs.jsonl; RPT epochs continue after the SPT ones."""
    rows = []
    for _, r in runs.iterrows():
        path = root / r["run"] / "epochs.jsonl"
        if not path.exists():
            continue
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        n_spt = sum(1 for e in lines if e.get("stage", "spt") == "spt")
        base = {"label": r["label"], "seed": r["seed"]}
        for e in lines:
            rpt = e.get("stage") == "rpt"
            if metric not in e.get("valid", {}):
                continue
            if "note" in e or (rpt and e.get("epoch") == 0):  # SPT checkpoint: RPT line's start
                rows.append({**base, "stage": RPT_STAGE, "epoch": n_spt, metric: e["valid"][metric]})
                continue
            rows.append({**base, "stage": RPT_STAGE if rpt else TRAIN_STAGE,
                         "epoch": e["epoch"] + (n_spt if rpt else 0), metric: e["valid"][metric]})
    return pd.DataFrame(rows)


def validation_figure(rec: Records, dataset: str, out: Path, formats=FORMATS, suite: str | None = None) -> FigureOutput:
    """Validation curves of the main suite, or of the ablation runs at the reference depth."""
    suite = suite or rec.main_suite
    res = FigureOutput(f"valid_{suite}", dataset)
    if suite == ablation.SUITE:
        runs = rec.ablation[rec.ablation["dataset"] == dataset] if len(rec.ablation) else rec.ablation
        if len(runs):
            runs = runs[runs["train_depth"] == ablation.pick_ref_depth(runs)].assign(label=lambda d: d["variant"])
    else:
        runs = rec.main[rec.main["dataset"] == dataset] if len(rec.main) else rec.main
    curves = epoch_curves(rec.root, runs) if len(runs) else pd.DataFrame()
    if curves.empty:
        res.notes.append(f"no epochs.jsonl with validation metrics for suite {suite!r} on {dataset}")
        return res
    _theme()
    labels = sorted(curves["label"].unique())
    stages = [s for s in (TRAIN_STAGE, RPT_STAGE) if s in set(curves["stage"])]
    xlabel = "epoch (LARES: SPT epochs, then RPT epochs from the SPT checkpoint)"
    title = f"{dataset}: validation curves, suite {suite} (mean ± std over seeds)"
    if len(labels) > SINGLE_PANEL_MAX:
        fig = _validation_panels(curves, labels, stages, xlabel, title)
    else:
        fig, ax = plt.subplots(figsize=(8.5, 4.2))
        sns.lineplot(data=curves, x="epoch", y="NDCG@10", hue="label", hue_order=labels,
                     style="stage", style_order=stages, errorbar="sd", ax=ax,
                     palette=_palette(len(labels)), marker="o", markersize=5, dashes=True,
                     err_kws={"alpha": 0.12})
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("validation NDCG@10")
        handles, names = ax.get_legend_handles_labels()
        names = [{"label": "model", "stage": "stage"}.get(n, n) for n in names]
        ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
        ax.set_title(title)
        fig.tight_layout()
    if suite == ablation.SUITE:
        # a run with RPT and its no-RPT twin share stage 1: one curve hides the other there
        fig.text(0.5, -0.01, "Stage 1 of a variant with RPT is the same training as its variant "
                 "without RPT (its curve lies under the other's up to the last stage-1 epoch).",
                 ha="center", va="top", fontsize=7.5, color="0.25")
        _scale_caption(fig, rec, runs, y=-0.05)
    res.paths = _save(fig, out, f"valid_{suite}", formats)
    return res


SINGLE_PANEL_MAX = 6  # more curves than this in one axes cannot be told apart by colour


def _validation_panels(curves: pd.DataFrame, labels: list[str], stages: list[str], xlabel: str, title: str) -> plt.Figure:
    """One small panel per model (shared y axis), for suites with many models."""
    cols = 4
    rows = -(-len(labels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.4 * rows), sharey=True, squeeze=False)
    styles = {TRAIN_STAGE: "-", RPT_STAGE: "--"}
    colors = {TRAIN_STAGE: "#3c78d8", RPT_STAGE: "#cc4125"}
    for ax, label in zip(axes.flat, labels, strict=False):
        for stage in stages:
            part = curves[(curves["label"] == label) & (curves["stage"] == stage)]
            if part.empty:
                continue
            g = part.groupby("epoch")["NDCG@10"]
            mean, std = g.mean(), g.std().fillna(0.0)
            ax.plot(mean.index, mean.values, styles[stage], marker="o", markersize=2.5, lw=1.2,
                    color=colors[stage], label=stage)
            ax.fill_between(mean.index, mean - std, mean + std, alpha=0.2, color="0.5", lw=0)
        n_seeds = curves.loc[curves["label"] == label, "seed"].nunique()
        ax.set_title(f"{label} ({n_seeds} seed{'s' if n_seeds > 1 else ''})", fontsize=9)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, nbins=5))
        ax.tick_params(labelsize=8)
    for ax in axes.flat[len(labels):]:
        ax.set_axis_off()
    for ax in axes[:, 0]:
        ax.set_ylabel("valid NDCG@10", fontsize=9)
    fig.supxlabel(xlabel, fontsize=10)
    fig.suptitle(title)
    if len(stages) > 1:
        handles = [plt.Line2D([], [], ls=styles[s], color=colors[s]) for s in stages]
        fig.legend(handles, stages, loc="upper right", frameon=False, fontsize=8, ncol=len(stages))
    fig.tight_layout()
    return fig


# --- compute -------------------------------------------------------------------------------
def compute_figure(rec: Records, dataset: str, out: Path, formats=FORMATS, x: str = "seconds") -> FigureOutput:
    """NDCG@10 against training seconds (``x="seconds"``) or forward FLOPs per example
    (``x="flops"``): main-suite models and LARES at each training depth."""
    res = FigureOutput("compute", dataset)
    main = rec.main[rec.main["dataset"] == dataset] if len(rec.main) else rec.main
    runs = rec.ablation[rec.ablation["dataset"] == dataset] if len(rec.ablation) else rec.ablation
    lares = runs[(runs["model"] == ablation.BASE_MODEL) & (runs["stage"] == "SPT+RPT")] if len(runs) else runs
    if main.empty and lares.empty:
        res.notes.append(f"no finished runs of suite {rec.main_suite!r} or ablation for {dataset}")
        return res
    points = []
    # seconds measured on different machines are not one axis: with x="seconds" every device
    # gets its own panel (FLOPs are the same on any machine)
    # (any CPU is one panel, like one row of the tables: a paused CPU run may resume elsewhere)
    by_device = x == "seconds"
    seen = pd.concat([d[["device_group", "device"]] for d in (main, lares) if len(d)])
    titles = seen.groupby("device_group")["device"].agg(device_names).to_dict()
    for (label, device), grp in (main.groupby(["label", "device_group"]) if len(main) else []):
        points.append({"label": label, "kind": "model", "depth": np.nan, "device": device,
                       **_cost(rec.root, grp, x)})
    for (depth, device), grp in (lares.groupby(["train_depth", "device_group"]) if len(lares) else []):
        points.append({"label": "LARES by depth", "kind": "lares", "depth": depth, "device": device,
                       **_cost(rec.root, grp, x, depth)})
    pts = pd.DataFrame(points)
    uncounted = sorted(pts.loc[pts["x"].isna(), "label"].unique())
    if uncounted:
        res.notes.append(f"{dataset}: no {x} for {', '.join(uncounted)} (left out)")
    pts = pts.dropna(subset=["x"])
    if pts.empty:
        res.notes.append(f"{dataset}: no {x} recorded for any run")
        return res
    if x == "seconds" and (pts["x"] <= 0).any():
        res.notes.append(f"{dataset}: runs with 0 training seconds (fit-only models) left out")
        pts = pts[pts["x"] > 0]
    if not by_device:
        pts = pts.assign(device="")
    _theme()
    devices = sorted(pts["device"].unique())
    fig, axes = plt.subplots(1, len(devices), figsize=(5.2 * len(devices) + 2.8, 4.6), sharey=True,
                             squeeze=False)
    labels = sorted(pts.loc[pts["kind"] == "model", "label"].unique())
    palette = dict(zip(labels, _palette(len(labels)), strict=True))
    # one colour and one marker per model across panels (seaborn would restart them per panel)
    marks = "oXsPD^v<>p*hH8d"
    markers = {lab: marks[i % len(marks)] for i, lab in enumerate(labels)}
    for ax, device in zip(axes[0], devices, strict=True):
        _draw_compute(ax, pts[pts["device"] == device], labels, palette, markers, x)
        ax.set_title(titles.get(device, device) or "", fontsize=10)
    axes[0][0].set_ylabel("test NDCG@10")
    handles, names = {}, []
    for ax in axes[0]:
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n not in handles:
                handles[n] = h
                names.append(n)
        if ax.get_legend():
            ax.get_legend().remove()
    order = [n for n in labels if n in handles] + [n for n in names if n not in labels]
    axes[0][-1].legend([handles[n] for n in order], order, loc="upper left",
                       bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    fig.suptitle(f"{dataset}: accuracy vs compute" + (" (one panel per device)" if by_device else ""))
    fig.tight_layout()
    if len(lares):
        _scale_caption(fig, rec, lares)  # how long the LARES depth points trained
    res.paths = _save(fig, out, "compute", formats)
    return res


def _draw_compute(ax: plt.Axes, pts: pd.DataFrame, labels: list[str], palette: dict, markers: dict, x: str) -> None:
    models = pts[pts["kind"] == "model"]
    order = [n for n in labels if n in set(models["label"])]
    if len(models):
        sns.scatterplot(data=models, x="x", y="y", hue="label", hue_order=order, s=60, ax=ax,
                        palette=[palette[n] for n in order], style="label", style_order=order,
                        markers={n: markers[n] for n in order})
    depth_pts = pts[pts["kind"] == "lares"].sort_values("depth")
    if len(depth_pts):
        ax.plot(depth_pts["x"], depth_pts["y"], "-o", color="#222222", label="LARES, trained at depth d")
        for i, (_, p) in enumerate(depth_pts.iterrows()):
            # alternate below / above the line: neighbouring depths sit close together
            ax.annotate(f"d={int(p['depth'])}", (p["x"], p["y"]), textcoords="offset points",
                        xytext=(-6, -12) if i % 2 == 0 else (-6, 7), fontsize=7, color="#222222")
    ax.set_xscale("log")
    plain = ticker.FuncFormatter(lambda v, _: f"{v:g}") if x == "seconds" else ticker.EngFormatter()
    ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))  # a narrow range gets ticks too
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel("training seconds (both stages, mean over seeds)" if x == "seconds"
                  else "forward FLOPs per example (one sequence of max length, full ranking)")
    ax.margins(x=0.1, y=0.08)  # room for the depth labels at the ends


def _cost(root: Path, grp: pd.DataFrame, x: str, depth: int | None = None) -> dict:
    y = float(grp["test_NDCG@10"].mean())
    if x == "seconds":
        return {"x": float(grp["train_seconds"].mean()), "y": y}
    from lares_bench.report import run_flops  # rebuilds a model from the stored config

    flops = run_flops(root / grp["run"].iloc[0], depth)
    return {"x": flops or np.nan, "y": y}  # 0 = no matmul (popularity): nothing to place on a log axis


# --- helpers and the entry point ------------------------------------------------------------
def _palette(n: int) -> list:
    # distinct hues; tab20 pairs light and dark shades that read as one colour
    return sns.color_palette("tab10" if n <= 10 else "husl", n)


def _present(stages: pd.Series) -> list[str]:
    return [s for s in ablation.STAGE_ORDER if s in set(stages)]


def _variant_order(variants: pd.Series) -> list[str]:
    first = ["LARES (full)", "LARES w/o RPT", "LARES w/o SPT", "LARES w/o SPT, RPT"]
    present = list(dict.fromkeys(variants))
    return [v for v in first if v in present] + sorted(v for v in present if v not in first)


def _legend(ax: plt.Axes, title: str, show: bool) -> None:
    if ax.get_legend() is None:
        return
    if show:
        ax.legend(title=title or None, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    else:
        ax.get_legend().remove()


FIGURES = ("depth", "depth_train_test", "ablation", "main", "valid", "compute")


def plot_all(
    root: Path,
    out: Path,
    *,
    datasets: tuple[str, ...] | None = None,
    main_suite: str = "main",
    history_mask: str = "inf",
    compute_x: str = "seconds",
    formats: tuple[str, ...] = FORMATS,
) -> tuple[list[FigureOutput], list[str]]:
    """Every figure for every dataset with records; returns (figures, general notes)."""
    rec = load_records(root, main_suite, history_mask)
    found = datasets_in(rec)
    chosen = list(datasets) if datasets else found
    notes = list(rec.notes)
    if not chosen:
        notes.append(f"no finished runs under {root / 'runs'}; run `lares-bench ablate` and/or "
                     f"`lares-bench run --suite {main_suite}` first")
    figures = []
    for ds in chosen:
        d_out = out / ds
        figures += [
            depth_figure(rec, ds, d_out, formats),
            train_test_figure(rec, ds, d_out, formats),
            ablation_bars(rec, ds, d_out, formats),
            main_bars(rec, ds, d_out, formats),
            validation_figure(rec, ds, d_out, formats),
            validation_figure(rec, ds, d_out, formats, suite=ablation.SUITE),
            compute_figure(rec, ds, d_out, formats, x=compute_x),
        ]
    return figures, notes
