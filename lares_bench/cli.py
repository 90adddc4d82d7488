"""The ``lares-bench`` command line: thin commands that parse, validate and call the library."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="lares-bench: LARES and sequential-recommendation baselines under one protocol.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

DATA_DIR_HELP = "Folder with the benchmark files (layout of shared/datasets). Env: LARES_BENCH_DATA."
CACHE_HELP = "Cache for parsed data. Env: LARES_BENCH_CACHE (default ~/.cache/lares-bench)."
PAUSED_EXIT = 3  # --pause-after: stopped with runs left to resume
PAUSE_HELP = ("Seconds after which a run still training saves its state after its current batch "
              "and stops (exit code 3); the same command resumes it. 0 = never.")
STATE_DIR_HELP = "Where paused runs keep their training state (default: RESULTS_DIR/.resume)."


def data_dir_option(value: Path | None) -> Path | None:
    if value is not None:
        return value
    env = os.environ.get("LARES_BENCH_DATA")
    return Path(env) if env else None


def cache_dir_option(value: Path | None) -> Path:
    if value is not None:
        return value
    env = os.environ.get("LARES_BENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "lares-bench"


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(2)


def split_list(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    return items or None


def _mount_subcommands() -> None:
    try:
        from lares_bench.data.cli import data_app
    except ImportError:  # pragma: no cover - the data CLI ships with the package
        return
    app.add_typer(data_app, name="data")


_mount_subcommands()


@app.command()
def run(
    suite: str = typer.Option("quick", help="Named suite: quick (synthetic, seconds) or main."),
    datasets: str = typer.Option(None, help="Comma-separated datasets (default: the suite's)."),
    models: str = typer.Option(None, help="Comma-separated models (default: the suite's)."),
    seeds: int = typer.Option(None, min=1, help="Number of seeds (default: the suite's)."),
    first_seed: int = typer.Option(0, min=0, help="Seeds are first_seed .. first_seed+N-1."),
    device: str = typer.Option("auto", help="auto | cpu | cuda | cuda:N"),
    data_dir: Path = typer.Option(None, help=DATA_DIR_HELP),
    cache_dir: Path = typer.Option(None, help=CACHE_HELP),
    results_dir: Path = typer.Option(Path("results"), help="Where runs and tables are written."),
    history_mask: str = typer.Option(None, help="inf (default) | none | zero"),
    set_: list[str] = typer.Option([], "--set", help="Override, e.g. train.lr=5e-4 model.d=128"),
    force: bool = typer.Option(False, help="Rerun finished runs."),
    progress: bool = typer.Option(True, help="Show progress bars."),
    pause_after: float = typer.Option(0.0, min=0.0, help=PAUSE_HELP),
    state_dir: Path = typer.Option(None, help=STATE_DIR_HELP),
) -> None:
    """Train and evaluate a grid of (dataset, model, seed) runs and write results/<suite>/."""
    from baselines import MODELS
    from lares_bench.config import ConfigError, parse_set_options
    from lares_bench.resume import RunPaused
    from lares_bench.suites import GridRequest, available, get_suite, run_grid

    try:
        s = get_suite(suite)
        wanted = split_list(models) or s.models
        unknown = [m for m in wanted if m not in MODELS]
        if models and unknown:
            fail(f"--models: unknown model(s) {', '.join(unknown)}; known: {', '.join(sorted(MODELS))}")
        chosen = available(wanted)
        if not models and len(chosen) < len(wanted):
            err.print(f"[yellow]not yet available, skipped:[/] {', '.join(unknown)}")
        user = parse_set_options(set_)
        if history_mask:
            user["eval"]["history_mask"] = history_mask
        req = GridRequest(
            suite=suite,
            datasets=split_list(datasets) or s.datasets,
            models=chosen,
            seeds=tuple(range(first_seed, first_seed + (seeds or s.seeds))),
            results_root=results_dir,
            data_dir=data_dir_option(data_dir),
            cache_dir=cache_dir_option(cache_dir),
            device=device,
            overrides=s.overrides,
            per_model=s.per_model,
            user=user,
            progress=progress,
            force=force,
            pause_after=pause_after,
            state_dir=state_dir,
        )
    except (KeyError, ConfigError, ValueError) as e:
        fail(str(e).strip("'\""))
    table = Table(title=f"suite {suite}")
    for col in ("dataset", "model", "seed", "HR@10", "NDCG@10", "epoch", "s/epoch", "run"):
        table.add_column(col)

    def show(rec) -> None:
        r, c = rec.result, rec.result["config"]
        status = " (cached)" if rec.skipped else ""
        console.print(
            f"{c['dataset']}/{c['model']}/seed{c['train']['seed']}: test HR@10 "
            f"{r['test']['HR@10']:.4f} NDCG@10 {r['test']['NDCG@10']:.4f}{status}"
        )
        table.add_row(
            c["dataset"], c["model"], str(c["train"]["seed"]), f"{r['test']['HR@10']:.4f}",
            f"{r['test']['NDCG@10']:.4f}", str(r["selected_epoch"]),
            f"{r['seconds_per_epoch']:.2f}", rec.path.name,
        )

    try:
        run_grid(req, on_run=show)
    except RunPaused as e:
        console.print(table)
        err.print(f"[yellow]{e}[/]")
        raise typer.Exit(PAUSED_EXIT) from None
    except (FileNotFoundError, KeyError, ValueError, RuntimeError, LookupError) as e:
        fail(str(e).strip("'\""))
    console.print(table)
    console.print(f"tables: {results_dir / suite}/summary.md")


@app.command("models")
def list_models() -> None:
    """List the registered models and their table labels."""
    from baselines import MODELS

    table = Table(title="models")
    table.add_column("name")
    table.add_column("label")
    table.add_column("class")
    for name, spec in sorted(MODELS.items()):
        table.add_row(name, spec.label, spec.cls.__name__)
    console.print(table)


@app.command()
def paused(
    results_dir: Path = typer.Option(Path("results"), help="Where runs and tables are written."),
    state_dir: Path = typer.Option(None, help=STATE_DIR_HELP),
) -> None:
    """List the paused runs (--pause-after) and how far each got; the command that started a
    run resumes it."""
    from lares_bench.paused import list_paused
    from lares_bench.resume import state_root

    root = state_root(results_dir, state_dir)
    runs = list_paused(root, results_dir)
    if not runs:
        console.print(f"no paused runs under {root}")
        return
    table = Table(title=f"paused runs ({root})")
    for col in ("suite/dataset/model", "seed", "run", "stage", "epochs", "best valid @epoch",
                "paused inside", "calls", "train h", "devices"):
        table.add_column(col)
    for r in runs:
        best = "-" if r.best is None else f"{r.metric} {r.best:.4f} @{r.best_epoch}"
        table.add_row(
            f"{r.suite}/{r.dataset}/{r.model}", "-" if r.seed is None else str(r.seed),
            r.run_hash, r.last_stage or ",".join(r.stages), str(r.epochs), best,
            r.paused_in or "-", str(r.segments), f"{r.train_hours:.2f}", ", ".join(r.devices),
        )
    console.print(table)


def _toggle(on: bool, off: bool, grid: bool) -> tuple[bool, ...]:
    """--x and --no-x given together (or --grid) mean both values; neither means on only."""
    if grid or (on and off):
        return (True, False)
    return (False,) if off else (True,)


@app.command()
def ablate(
    datasets: str = typer.Option("synthetic", help="Comma-separated datasets."),
    depth: str = typer.Option("1..8", help="Depths: a range 1..8, a list 1,2,4,8 or one value."),
    spt: bool = typer.Option(False, "--spt", help="With SPT (the default; with --no-spt: both)."),
    no_spt: bool = typer.Option(False, "--no-spt", help="Without SPT (CE only in stage 1)."),
    rpt: bool = typer.Option(False, "--rpt", help="With RPT (the default; with --no-rpt: both)."),
    no_rpt: bool = typer.Option(False, "--no-rpt", help="Without the RPT stage."),
    grid: bool = typer.Option(False, "--grid", help="All four SPT x RPT combinations."),
    variants: str = typer.Option(
        "all", help="Named ablations at the reference depth: all, none, or some of "
        "nopre,notla,nosla,norpt,nofilter,ndcg,concat,linear.",
    ),
    ref_depth: int = typer.Option(4, min=1, help="Depth at which the named variants are trained."),
    test_depths: str = typer.Option(
        None, help="Depths every run is also tested at (default: --depth; the --depth values are "
        "always included). Keep the first call's value when a later call trains fewer depths.",
    ),
    seeds: int = typer.Option(3, min=1, help="Number of seeds: first_seed .. first_seed+N-1."),
    first_seed: int = typer.Option(0, min=0, help="First seed (e.g. --seeds 1 --first-seed 1 adds seed 1)."),
    backbone: str = typer.Option("transformer", help="Layers of pre-block and core: transformer | fmlp | bsarec."),
    device: str = typer.Option("auto", help="auto | cpu | cuda | cuda:N"),
    data_dir: Path = typer.Option(None, help=DATA_DIR_HELP),
    cache_dir: Path = typer.Option(None, help=CACHE_HELP),
    results_dir: Path = typer.Option(Path("results"), help="Where runs and tables are written."),
    history_mask: str = typer.Option(None, help="inf (default) | none | zero"),
    set_: list[str] = typer.Option([], "--set", help="Override, e.g. train.epochs=2 model.d=16"),
    dry_run: bool = typer.Option(False, help="List the planned runs and stop."),
    tables_only: bool = typer.Option(
        False, help="Train nothing: write the tables from the finished runs on disk (their latest "
        "settings; e.g. seeds run at different depths by several calls).",
    ),
    force: bool = typer.Option(False, help="Rerun finished runs."),
    progress: bool = typer.Option(True, help="Show progress bars."),
    shard: str = typer.Option(
        None, help="K/N: run only part K of N of the plan (N processes in parallel, e.g. on one "
        "GPU); tables are written by a run without --shard once all parts are done.",
    ),
    pause_after: float = typer.Option(0.0, min=0.0, help=PAUSE_HELP),
    state_dir: Path = typer.Option(None, help=STATE_DIR_HELP),
) -> None:
    """LARES depth sweeps (train depth, test depth) x SPT/RPT, and the named ablations;
    tables in results/ablation/<dataset>/."""
    from lares_bench.ablation import (
        AblationRequest,
        DepthRangeError,
        parse_depths,
        parse_shard,
        parse_variants,
        plan_runs,
        run_ablation,
        shard_plan,
    )
    from lares_bench.config import ConfigError, parse_set_options
    from lares_bench.resume import RunPaused

    try:
        if backbone not in ("transformer", "fmlp", "bsarec"):
            fail(f"--backbone must be transformer, fmlp or bsarec, got {backbone!r}")
        user = parse_set_options(set_)
        if history_mask:
            user["eval"]["history_mask"] = history_mask
        req = AblationRequest(
            datasets=split_list(datasets) or ("synthetic",),
            depths=parse_depths(depth),
            test_depths=parse_depths(test_depths) if test_depths else None,
            results_root=results_dir,
            spt_values=_toggle(spt, no_spt, grid),
            rpt_values=_toggle(rpt, no_rpt, grid),
            variants=parse_variants(variants),
            seeds=tuple(range(first_seed, first_seed + seeds)),
            backbone=backbone,
            ref_depth=ref_depth,
            data_dir=data_dir_option(data_dir),
            cache_dir=cache_dir_option(cache_dir),
            device=device,
            overrides=user,
            progress=progress,
            force=force,
            shard=parse_shard(shard) if shard else None,
            pause_after=pause_after,
            state_dir=state_dir,
        )
        plan = shard_plan(plan_runs(req), req.shard)
    except (DepthRangeError, ConfigError, KeyError, ValueError) as e:
        fail(str(e).strip("'\""))
    if tables_only:
        from lares_bench.ablation import write_ablation_tables

        for ds in req.datasets:
            written = write_ablation_tables(results_dir, ds, ref_depth=req.ref_depth)
            if not written:
                fail(f"no finished ablation runs for {ds} under {results_dir / 'runs' / 'ablation'}")
            console.print(f"tables: {results_dir / 'ablation' / ds}/ ({len(written)} files)")
            missing = results_dir / "ablation" / ds / "missing.txt"
            if missing.exists():
                _print_notes(f"{ds}: missing or partial", missing.read_text().splitlines())
        return
    part = f", part {shard}" if shard else ""
    console.print(
        f"{len(plan)} runs planned ({len(req.datasets)} dataset(s), depths {req.depths}{part})"
    )
    if dry_run:
        for r in plan:
            m = r.overrides["model"]
            console.print(
                f"  {r.dataset}/{r.model}/seed{r.seed} [{r.role}] depth {m['mean_recurrence']} "
                f"spt={m.get('spt', True)} rpt={m.get('rpt', True)} tested at {m['test_depths']}"
            )
        return

    def show(rec) -> None:
        r, c = rec.result, rec.result["config"]
        mc = c["model_config"]
        console.print(
            f"{c['dataset']}/{c['model']}/seed{c['train']['seed']} depth {mc['mean_recurrence']} "
            f"spt={mc['spt']} rpt={mc['rpt']}: test NDCG@10 {r['test']['NDCG@10']:.4f}"
            + (" (cached)" if rec.skipped else "")
        )

    try:
        run_ablation(req, on_run=show)
    except RunPaused as e:
        err.print(f"[yellow]{e}[/]")
        raise typer.Exit(PAUSED_EXIT) from None
    except (FileNotFoundError, KeyError, ValueError, RuntimeError) as e:
        fail(str(e).strip("'\""))
    if req.shard is not None:
        console.print(f"part {shard} done; run without --shard to write the tables")
        return
    for ds in req.datasets:
        console.print(f"tables: {results_dir / 'ablation' / ds}/")


def _print_notes(title: str, notes: list[str]) -> None:
    if notes:
        err.print(f"[yellow]{title}:[/]")
        for n in notes:
            err.print(f"  - {n}", soft_wrap=True)


@app.command()
def plot(
    results_dir: Path = typer.Option(Path("results"), help="Where the run records are."),
    out: Path = typer.Option(None, help="Output folder (default: <results-dir>/plots)."),
    datasets: str = typer.Option(None, help="Comma-separated datasets (default: all with records)."),
    suite: str = typer.Option("main", help="Suite of the main-table bars and curves."),
    history_mask: str = typer.Option("inf", help="Runs of this history mask only."),
    compute_x: str = typer.Option("seconds", help="x-axis of the compute plot: seconds | flops."),
    formats: str = typer.Option("png,pdf", help="Comma-separated file formats."),
) -> None:
    """Figures from run records (no training): depth scaling, train vs test depth, ablation
    and main-table bars, validation curves, accuracy vs compute."""
    from lares_bench.plots import plot_all

    if compute_x not in ("seconds", "flops"):
        fail(f"--compute-x must be seconds or flops, got {compute_x!r}")
    fmts = split_list(formats) or ("png", "pdf")
    figures, notes = plot_all(
        results_dir, out or results_dir / "plots", datasets=split_list(datasets), main_suite=suite,
        history_mask=history_mask, compute_x=compute_x, formats=fmts,
    )
    for f in figures:
        if f.drawn:
            console.print(f"{f.dataset}/{f.name}: {', '.join(str(p) for p in f.paths)}", soft_wrap=True)
        _print_notes(f"{f.dataset}/{f.name}" + ("" if f.drawn else " not drawn"), f.notes)
    _print_notes("notes", notes)
    if not any(f.drawn for f in figures):
        err.print("[bold red]no figure drawn[/] (see above for the missing runs)")
        raise typer.Exit(1)


@app.command()
def report(
    results_dir: Path = typer.Option(Path("results"), help="Where the run records are."),
    out: Path = typer.Option(Path("paper_figures"), help="Output folder."),
    suite: str = typer.Option("main", help="Suite of the main and efficiency tables."),
    history_mask: str = typer.Option("inf", help="Runs of this history mask only."),
    test: str = typer.Option("ttest", help="Paired test over users: ttest | wilcoxon."),
) -> None:
    """paper_figures/: main table (LaTeX, Markdown, significance), ablation table, depth
    figure, efficiency table."""
    from lares_bench.report import write_report

    if test not in ("ttest", "wilcoxon"):
        fail(f"--test must be ttest or wilcoxon, got {test!r}")
    written, notes = write_report(results_dir, out, suite=suite, history_mask=history_mask, test=test)
    for p in written:
        console.print(str(p), soft_wrap=True)
    _print_notes("missing or partial", notes)
    if not written:
        err.print("[bold red]nothing written[/] (see above for the missing runs)")
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
