"""The ``ckdmbd`` command: one small function per subcommand.

Bad input (unknown scenario, unreadable or malformed file, negative duration) ends with one line on stderr that
names the problem and exit status 2, and leaves no output files behind.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="ckdmbd: a virtual patient for mineral metabolism in chronic kidney disease.")

EXIT_BAD_INPUT = 2


def _fail(message: str) -> None:
    typer.echo(f"ckdmbd: error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="built-in scenario name (see `ckdmbd scenarios`) or a TOML file")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output folder (default: out/<scenario>)")] = None,
    duration: Annotated[str | None, typer.Option(help='override the duration, e.g. "2 years"')] = None,
    output_interval: Annotated[str | None, typer.Option(help='override the output interval, e.g. "1 h"')] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or summary table")] = False,
) -> None:
    """Simulate a scenario; write timeseries.csv, summary.json and overview.png; print a summary."""
    from dataclasses import replace

    from ckdmbd.protocol import ProtocolError
    from ckdmbd.scenario import ScenarioError, load_scenario, parse_quantity

    try:
        sc = load_scenario(scenario)
        if duration is not None:
            value = parse_quantity(duration, "h", "--duration", allow_negative=True)
            if value <= 0:
                raise ScenarioError(f"--duration: {duration!r} must be positive")
            sc = replace(sc, duration_h=value)
        if output_interval is not None:
            value = parse_quantity(output_interval, "h", "--output-interval", allow_negative=True)
            if value <= 0 or value > sc.duration_h:
                raise ScenarioError(f"--output-interval: {output_interval!r} must be positive and at most the duration")
            sc = replace(sc, output_interval_h=value)
        if any(getattr(e, "time_h", getattr(e, "start_h", 0.0)) >= sc.duration_h for e in sc.events):
            raise ScenarioError("--duration: the run would end before some of the scenario's events")
    except ScenarioError as exc:
        _fail(str(exc))
    out_dir = out if out is not None else Path("out") / sc.name
    if out_dir.exists() and not out_dir.is_dir():
        _fail(f"--out: {str(out_dir)!r} exists and is not a folder")

    from ckdmbd.report import run_writers, write_outputs
    from ckdmbd.simulation import SimulationError, simulate

    try:
        result = _simulate_with_progress(sc, simulate, quiet)
    except (SimulationError, ProtocolError) as exc:
        _fail(str(exc))
    frame = result.to_frame()
    try:
        written = write_outputs(out_dir, run_writers(sc, result, frame))
    except OSError as exc:
        _fail(f"cannot write to {str(out_dir)!r}: {exc.strerror or exc}")
    if not quiet:
        _print_summary(sc, frame, result, written)


def _simulate_with_progress(sc, simulate, quiet: bool):
    kwargs = dict(configuration=sc.configuration, duration_h=sc.duration_h, events=sc.events,
                  output_interval_h=sc.output_interval_h, parameters=sc.parameter_overrides)
    if quiet or sc.duration_h < 2 * 8766:
        return simulate(**kwargs)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[years]}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(f"simulating {sc.name}", total=sc.duration_h, years="")

        def report(done_h: float, total_h: float) -> None:
            bar.update(task, completed=done_h, years=f"{done_h / 8766:.1f} / {total_h / 8766:.1f} years")

        return simulate(**kwargs, progress=report, progress_chunk_h=sc.duration_h / 50)


def _print_summary(sc, frame, result, written) -> None:
    from rich.console import Console
    from rich.table import Table

    from ckdmbd.report import HEADLINE

    console = Console()
    table = Table(title=f"{sc.name} ({sc.configuration} configuration): {sc.description}")
    for col in ("variable", "start", "end", "min", "max"):
        table.add_column(col, justify="left" if col == "variable" else "right")
    for col, label in {**HEADLINE, "gfr_mL_min": "GFR (mL/min)"}.items():
        s = frame[col]
        table.add_row(label, *(f"{v:.4g}" for v in (s.iloc[0], s.iloc[-1], s.min(), s.max())))
    console.print(table)
    mb = result.mass_balance().iloc[-1]
    console.print(f"mass balance: calcium imbalance {mb['calcium_imbalance_mmol']:.2e} mmol, "
                  f"phosphate {mb['phosphate_imbalance_mmol']:.2e} mmol; solver: {result.n_steps} steps")
    console.print("wrote " + ", ".join(str(p) for p in written))


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from ckdmbd.scenario import builtin_names, load_scenario

    for name in builtin_names():
        sc = load_scenario(name)
        typer.echo(f"{name:24s} {sc.description}")


@app.command()
def citations(
    scenario: Annotated[str, typer.Argument(help="scenario name or file")] = "peterson-riggs-2010",
) -> None:
    """List the references a scenario's model and parameters rely on."""
    from ckdmbd.citations import format_citations
    from ckdmbd.model.configurations import parameters, submodels
    from ckdmbd.scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    keys = {k for sm in submodels(sc.configuration) for k in sm.citations}
    keys |= {s for s in parameters(sc.configuration).sources if s != "assumed"}
    for line in format_citations(keys):
        typer.echo(line)


def main() -> None:  # pragma: no cover - console entry point alias
    app(prog_name="ckdmbd")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
