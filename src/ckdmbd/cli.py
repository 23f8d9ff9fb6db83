"""The ``ckdmbd`` command: one small function per subcommand.

Bad input (unknown scenario, unreadable or malformed file, negative duration) ends with one line on stderr that
names the problem and exit status 2, and leaves no output files behind.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from typer.core import TyperGroup

from ckdmbd.cli_export import export_app
from ckdmbd.cli_fit import fit_command, forecast_command
from ckdmbd.cli_labs import labs_app
from ckdmbd.cli_parameters import parameters_command
from ckdmbd.cli_population import population_command, sensitivity_command
from ckdmbd.validation.command import validate_command

try:  # recent typer vendors click as typer._click (it has no public UsageError)
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer on click
    from click.exceptions import UsageError

EXIT_BAD_INPUT = 2


def _fail(message: str) -> NoReturn:
    # one line, and no control characters: escape sequences from a file name or a value never reach the terminal
    one_line = re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", " ".join(str(message).split()))
    typer.echo(f"ckdmbd: error: {one_line}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _warn(message: str) -> None:
    """One ``ckdmbd: warning:`` line on stderr, without control characters."""
    one_line = re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", " ".join(str(message).split()))
    typer.echo(f"ckdmbd: warning: {one_line}", err=True)


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


class _OneLineErrors(TyperGroup):
    """Usage errors (unknown option, missing argument, option without its value) end like every other bad input:
    one ``ckdmbd: error:`` line and exit status 2, not click's usage box."""

    def make_context(self, *args, **kwargs):
        with self._one_line():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with self._one_line():
            return super().invoke(ctx)

    @staticmethod
    @contextmanager
    def _one_line():
        try:
            yield
        except UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # plain `ckdmbd`: show the help
                raise
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(f"{exc.format_message()}{hint}")
        except (OSError, RecursionError, OverflowError, MemoryError, UnicodeError) as exc:
            _fail(_describe(exc))  # the last net under every command: input trouble is one line, never a traceback
        except KeyboardInterrupt:
            _interrupted()
        except SystemError as exc:  # Ctrl-C inside a compiled call surfaces as "returned a result with an exception"
            if not isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
                raise
            _interrupted()


def _interrupted() -> NoReturn:
    typer.echo("ckdmbd: interrupted", err=True)
    raise typer.Exit(EXIT_INTERRUPTED)


def _describe(exc: BaseException) -> str:
    """One line for an exception that escaped a command's own checks; never the content of a file."""
    if isinstance(exc, OSError):
        where = f"{str(exc.filename)!r}: " if exc.filename is not None else ""
        return f"cannot access {where}{exc.strerror or exc.__class__.__name__}"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply"
    if isinstance(exc, MemoryError):
        return "the input is too large for the memory"
    return f"the input holds a value out of range ({exc.__class__.__name__})"


app = typer.Typer(add_completion=False, no_args_is_help=True, cls=_OneLineErrors,
                  help="ckdmbd: a virtual patient for mineral metabolism in chronic kidney disease.")
app.add_typer(labs_app, name="labs")
app.add_typer(export_app, name="export")
app.command("fit")(fit_command)
app.command("forecast")(forecast_command)
app.command("validate")(validate_command)
app.command("parameters")(parameters_command)
app.command("population")(population_command)
app.command("sensitivity")(sensitivity_command)


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="built-in scenario name (see `ckdmbd scenarios`) or a TOML file")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output folder (default: out/<scenario>)")] = None,
    duration: Annotated[str | None, typer.Option(help='override the duration, e.g. "2 years"')] = None,
    output_interval: Annotated[str | None, typer.Option(help='override the output interval, e.g. "1 h"')] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or summary table")] = False,
    png: Annotated[bool, typer.Option("--png", help="also write overview.png (matplotlib; ~1 s more)")] = False,
) -> None:
    """Simulate a scenario; write report.html (interactive plots), timeseries.csv, summary.json (and sessions.csv
    on dialysis, overview.png with --png); print a summary."""
    from ckdmbd.protocol import ProtocolError
    from ckdmbd.scenario import ScenarioError, load_scenario, with_overrides

    try:
        sc = with_overrides(load_scenario(scenario), duration, output_interval)
    except ScenarioError as exc:
        _fail(str(exc))
    out_dir = out if out is not None else Path("out") / sc.name
    _check_out_dir(out_dir)
    from ckdmbd.domain import untreated_kidney_failure

    for warning in untreated_kidney_failure(sc):  # the run is made; the reader is told it is no patient's course
        _warn(warning)

    import warnings

    from ckdmbd.parameter_ranges import ParameterRangeWarning, scenario_range_warnings
    from ckdmbd.parameters import ParameterError
    from ckdmbd.report import run_writers, write_outputs
    from ckdmbd.simulation import SimulationError

    try:
        for warning in scenario_range_warnings(sc):  # issue 15: a value outside its physiological range
            _warn(warning)
        with warnings.catch_warnings():  # said once above, as a ckdmbd: warning: line
            warnings.simplefilter("ignore", ParameterRangeWarning)
            result = _simulate_with_progress(sc, quiet)
    except (SimulationError, ProtocolError, ParameterError) as exc:
        _fail(str(exc))
    frame = result.to_frame()
    from ckdmbd.domain import outside_human_range

    for warning in outside_human_range(frame):
        _warn(warning)
    try:
        summary, writers = run_writers(sc, result, frame, png=png)
        written = write_outputs(out_dir, writers)
    except OSError as exc:
        _fail(f"cannot write to {str(out_dir)!r}: {exc.strerror or exc}")
    if not quiet:
        _print_summary(sc, summary, written)


def _check_out_dir(out_dir: Path) -> None:
    """Fail before the simulation when the output folder can obviously not be created."""
    try:
        if out_dir.exists() and not out_dir.is_dir():
            _fail(f"--out: {str(out_dir)!r} exists and is not a folder")
        for parent in out_dir.absolute().parents:
            if parent.exists():
                if not parent.is_dir():
                    _fail(f"--out: {str(out_dir)!r} cannot be created: {str(parent)!r} is not a folder")
                break
    except OSError as exc:  # a name too long, a parent without search permission
        _fail(f"--out: {str(out_dir)!r} cannot be used: {exc.strerror or exc.__class__.__name__}")


def _simulate_with_progress(sc, quiet: bool):
    """Run the scenario; a bar shows progress when the simulated span (history included) is 2 years or more."""
    from ckdmbd.scenario import run_scenario
    from ckdmbd.units import HOURS_PER_YEAR

    total = sc.duration_h + sc.history_h
    if quiet or total < 2 * HOURS_PER_YEAR:
        return run_scenario(sc)
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[years]}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(f"simulating {escape(sc.name)}", total=total, years="")

        def report(done_h: float, total_h: float) -> None:
            bar.update(task, completed=done_h,
                       years=f"{done_h / HOURS_PER_YEAR:.1f} / {total_h / HOURS_PER_YEAR:.1f} years")

        return run_scenario(sc, progress=report)


def _print_summary(sc, summary: dict, written) -> None:
    """The run's summary (``report.summarize``) as tables: headline variables, pre-dialysis values, the case's
    reported values beside the model's, mass balance."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ckdmbd.report import HEADLINE

    console = Console()
    # the name and description come from the scenario file: text, not rich markup
    table = Table(title=escape(f"{sc.name} ({sc.configuration} configuration): {sc.description}"))
    for col in ("variable", "start", "end", "min", "max"):
        table.add_column(col, justify="left" if col == "variable" else "right")
    for col, label in {**HEADLINE, "gfr_mL_min": "GFR (mL/min)"}.items():
        v = summary["variables"][col]
        table.add_row(label, *(f"{v[k]:.4g}" for k in ("start", "end", "min", "max")))
    console.print(table)
    if "dialysis" in summary:
        pre = summary["dialysis"]
        rows = Table(title=f"pre-dialysis values, as a clinic sees them ({pre['sessions']} sessions)")
        for col in ("variable", "last 4 weeks", "whole run"):
            rows.add_column(col, justify="left" if col == "variable" else "right")
        for name, values in pre["predialysis"].items():
            rows.add_row(name, f"{values['last_4_weeks']:.4g}", f"{values['whole_run']:.4g}")
        console.print(rows)
        m = pre["mean_session"]
        console.print(f"mean session: phosphate reduction {m['phosphate_reduction']:.0%}, "
                      f"{m.get('phosphate_removed_mmol', float('nan')):.1f} mmol phosphate removed, "
                      f"{m.get('calcium_gained_mmol', float('nan')):+.1f} mmol calcium from the dialysate")
    comparison = summary.get("case_comparison", [])
    if comparison:
        case = Table(title="reported for the patient vs model")
        for col in ("quantity", "time", "reported", "read as", "model"):
            case.add_column(col)
        for row in comparison:
            case.add_row(*(escape(row[c]) for c in ("quantity", "time", "reported", "read as", "model")))
        console.print(case)
        for row in comparison:
            if row["note"]:
                console.print(f"note ({escape(row['quantity'])}): {escape(row['note'])}")
    mb = summary["mass_balance"]
    console.print(f"mass balance: calcium imbalance {mb['calcium']['imbalance_mmol']:.2e} mmol, "
                  f"phosphate {mb['phosphate']['imbalance_mmol']:.2e} mmol; "
                  f"solver: {summary['solver']['steps']} steps")
    # paths whole (no wrapping inside a path) and verbatim (a "[1]" in a path is no markup)
    console.print("wrote " + ", ".join(str(p) for p in written), markup=False, highlight=False, soft_wrap=True)


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
