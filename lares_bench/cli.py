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
    seeds: int = typer.Option(None, min=1, help="Number of seeds 0..N-1 (default: the suite's)."),
    device: str = typer.Option("auto", help="auto | cpu | cuda | cuda:N"),
    data_dir: Path = typer.Option(None, help=DATA_DIR_HELP),
    cache_dir: Path = typer.Option(None, help=CACHE_HELP),
    results_dir: Path = typer.Option(Path("results"), help="Where runs and tables are written."),
    history_mask: str = typer.Option(None, help="inf (default) | none | zero"),
    set_: list[str] = typer.Option([], "--set", help="Override, e.g. train.lr=5e-4 model.d=128"),
    force: bool = typer.Option(False, help="Rerun finished runs."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Train and evaluate a grid of (dataset, model, seed) runs and write results/<suite>/."""
    from baselines import MODELS
    from lares_bench.config import ConfigError, parse_set_options
    from lares_bench.suites import GridRequest, available, get_suite, merge_overrides, run_grid

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
            seeds=tuple(range(seeds or s.seeds)),
            results_root=results_dir,
            data_dir=data_dir_option(data_dir),
            cache_dir=cache_dir_option(cache_dir),
            device=device,
            overrides=merge_overrides(s.overrides, user),
            progress=progress,
            force=force,
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
    except (FileNotFoundError, KeyError, ValueError, RuntimeError) as e:
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


if __name__ == "__main__":  # pragma: no cover
    app()
