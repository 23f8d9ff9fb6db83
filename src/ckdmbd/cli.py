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
    show_history: Annotated[bool, typer.Option(
        "--show-history", help="include the simulated history (t < 0) in the report, plots and CSV")] = False,
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
            result = _simulate_with_progress(sc, quiet, show_history)
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


def _simulate_with_progress(sc, quiet: bool, show_history: bool = False):
    """Run the scenario (with its history in the output when asked); a bar shows progress when the simulated span
    (history included) is 2 years or more. The history is kept for the report, and the run continues from it
    (:func:`ckdmbd.app_history.run_on_kept_history`: the full run's numbers; with the bar within the solver
    tolerance)."""
    from ckdmbd.units import HOURS_PER_YEAR

    if show_history:
        from ckdmbd.history import run_with_history as run  # the full run, with the history in the output
    else:
        from ckdmbd.app_history import run_on_kept_history as run

    total = sc.duration_h + sc.history_h
    if quiet or total < 2 * HOURS_PER_YEAR:
        return run(sc)
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[years]}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(f"simulating {escape(sc.name)}", total=total, years="")

        def report(done_h: float, total_h: float) -> None:
            bar.update(task, completed=done_h,
                       years=f"{done_h / HOURS_PER_YEAR:.1f} / {total_h / HOURS_PER_YEAR:.1f} years")

        return run(sc, progress=report)


def _print_summary(sc, summary: dict, written) -> None:
    """The run's summary (``report.summarize``) as tables: headline variables, pre-dialysis values, the case's
    reported values beside the model's, mass balance."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ckdmbd.variables import clinic

    console = Console()
    # the name and description come from the scenario file: text, not rich markup
    table = Table(title=escape(f"{sc.name} ({sc.configuration} configuration): {sc.description}"))
    for col in ("variable", "start", "end", "min", "max"):
        table.add_column(col, justify="left" if col == "variable" else "right")
    for col, v in summary["variables"].items():  # the labels of the report and summary.json (keys: CSV columns)
        table.add_row(escape(v["label"]), *(clinic(col, v[k]) for k in ("start", "end", "min", "max")))
    console.print(table)
    if "dialysis" in summary:
        pre = summary["dialysis"]
        rows = Table(title=f"pre-dialysis values, as a clinic sees them ({pre['sessions']} sessions)")
        for col in ("variable", "last 4 weeks", "whole run"):
            rows.add_column(col, justify="left" if col == "variable" else "right")
        for values in pre["predialysis"].values():
            col = values["column"]
            rows.add_row(escape(values["label"]), clinic(col, values["last_4_weeks"]), clinic(col, values["whole_run"]))
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
    # names and descriptions read from the files' TOML without building the scenarios: no units (pint), model code
    # (numba) or tables (pandas) imported, so the listing starts fast (issue 11); tests/test_cold_start.py checks
    # that the lines equal the loaded scenarios' descriptions
    import tomllib
    from importlib import resources

    files = sorted((f for f in resources.files("ckdmbd.scenarios").iterdir() if f.name.endswith(".toml")),
                   key=lambda f: f.name[:-5])
    for f in files:
        head = tomllib.loads(f.read_text(encoding="utf-8")).get("scenario", {})
        typer.echo(f"{f.name[:-5]:24s} {head.get('description', '')}")


@app.command()
def citations(
    scenario: Annotated[str, typer.Argument(help="scenario name or file")] = "peterson-riggs-2010",
    bibtex: Annotated[bool, typer.Option("--bibtex", help="write them as BibTeX (keys: the citation keys)")] = False,
) -> None:
    """List the references a scenario's model and parameters rely on (--bibtex: as a BibTeX file on stdout)."""
    from ckdmbd.citations import bibtex as bibtex_file
    from ckdmbd.citations import format_citations
    from ckdmbd.model.configurations import parameters, submodels
    from ckdmbd.scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    keys = {k for sm in submodels(sc.configuration) for k in sm.citations}
    keys |= {s for s in parameters(sc.configuration).sources if s != "assumed"}
    if bibtex:
        typer.echo(bibtex_file(keys), nl=False)
        return
    for line in format_citations(keys):
        typer.echo(line)


@app.command()
def compare(
    scenarios: Annotated[list[str], typer.Argument(help="two or more built-in scenario names or TOML files")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output folder (default: out/compare)")] = None,
    at: Annotated[list[str] | None, typer.Option(
        "--at", help='an outcome time, e.g. "18 months" (repeatable; default: the reported values\' times and the '
                     "end)")] = None,
    duration: Annotated[str | None, typer.Option(help='override every duration, e.g. "2 years"')] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress or table")] = False,
) -> None:
    """Overlay scenarios (the seed case against its what-ifs) in one report.html, with a table of outcomes
    (pre-dialysis phosphate, calcium, PTH, the deposit) at chosen times, also written as outcomes.csv."""
    from ckdmbd.compare import compare_html, default_times, outcomes, simulate_runs
    from ckdmbd.protocol import ProtocolError
    from ckdmbd.scenario import ScenarioError, load_scenario, parse_quantity, with_overrides

    if len(scenarios) < 2:
        _fail("compare: give at least two scenarios")
    try:
        loaded = [with_overrides(load_scenario(name), duration, None) for name in scenarios]
        times = [parse_quantity(text, "h", "--at") / 24.0 for text in at or []]
    except ScenarioError as exc:
        _fail(str(exc))
    if any(t < 0 for t in times):
        _fail("--at: an outcome time must be at or after t = 0")
    out_dir = out if out is not None else Path("out") / "compare"
    _check_out_dir(out_dir)
    from ckdmbd.parameters import ParameterError
    from ckdmbd.report import write_outputs
    from ckdmbd.simulation import SimulationError

    try:
        runs = simulate_runs(loaded, None if quiet else (lambda name: typer.echo(f"simulating {name} ...")))
    except (SimulationError, ProtocolError, ParameterError) as exc:
        _fail(str(exc))
    table = outcomes(runs, times or default_times(runs))
    page = compare_html(runs, table, "Comparison: " + ", ".join(sc.name for sc in loaded))
    try:
        written = write_outputs(out_dir, {
            "report.html": lambda p: p.write_text(page, encoding="utf-8"),
            "outcomes.csv": lambda p: table.to_csv(p, index=False, float_format="%.6g"),
        })
    except OSError as exc:
        _fail(f"cannot write to {str(out_dir)!r}: {exc.strerror or exc}")
    if not quiet:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        from ckdmbd.variables import clinic, label

        shown = Table(title="outcomes")
        for col in table.columns:
            shown.add_column(escape(label(col)) if col not in ("scenario", "day") else col)
        for _, row in table.iterrows():
            shown.add_row(escape(str(row["scenario"])), f"{row['day']:.0f}",
                          *(clinic(c.replace("max_", ""), row[c]) for c in table.columns[2:]))
        Console().print(shown)
        typer.echo("wrote " + ", ".join(str(p) for p in written))


def main() -> None:  # pragma: no cover - console entry point alias
    app(prog_name="ckdmbd")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


@app.command("app")
def app_command(
    port: Annotated[int, typer.Option("--port", help="port on this machine (0: any free port)")] = 8765,
    host: Annotated[str, typer.Option("--host", help="address to listen on (127.0.0.1: this machine only)")]
    = "127.0.0.1",
) -> None:
    """Serve the interactive what-if page for dialysis patients (ckdmbd.app): open the printed address in a browser;
    Ctrl-C stops it."""
    from ckdmbd.app import make_server

    if not 0 <= port <= 65535:
        _fail(f"--port: {port} must be 0-65535")
    try:
        server = make_server(host, port)
    except OSError as exc:
        _fail(f"--port: cannot listen on {host}:{port} ({exc.strerror or exc})")
    address = f"http://{server.server_address[0]}:{server.server_address[1]}/"
    typer.echo(f"ckdmbd what-if page at {address} (Ctrl-C stops it)")
    import threading

    from ckdmbd.app import warm_histories

    threading.Thread(target=warm_histories, name="ckdmbd-app-warm", daemon=True).start()  # histories kept early
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
