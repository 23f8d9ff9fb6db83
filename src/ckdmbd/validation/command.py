"""``ckdmbd validate``: run the literature validation suite, print its table, optionally write HTML and JSON.

Exit status: 0 when every check is within its band, 1 when any is outside or could not run (error), 2 for bad
input (an unknown case name, an output folder that cannot be created): one ``ckdmbd: error:`` line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

EXIT_ALL_WITHIN, EXIT_NOT_ALL_WITHIN, EXIT_BAD_INPUT = 0, 1, 2


def _fail(message: str):
    typer.echo(f"ckdmbd: error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def validate_command(
    case: Annotated[list[str] | None, typer.Option("--case", "-c", help="run only this case, by name or as a "
                                                   "case file (repeatable); default: all")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write validation.html and validation.json "
                                             "into this folder")] = None,
    fast: Annotated[bool, typer.Option("--fast", help="only the cases marked fast (a few seconds each)")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Run the literature validation cases (same parameter set for all) and print case, published value, model
    value, acceptance band and verdict. Exit 0 if all are within their band, 1 if any is outside or in error."""
    from ckdmbd.validation.casefile import CaseError, case_names, load_cases

    names = list(case) if case else None
    if names is not None:  # a shipped case by name, or a case file of one's own by path
        unknown = [n for n in names if n not in case_names() and not Path(n).is_file()]
        if unknown:
            _fail(f"--case: no validation case named {unknown[0]!r} (cases: {', '.join(case_names())})")
    if out is not None and out.exists() and not out.is_dir():
        _fail(f"--out: {str(out)!r} exists and is not a folder")
    try:
        cases = load_cases(names)
    except CaseError as exc:
        _fail(str(exc))
    if fast:
        cases = [c for c in cases if c.fast]
    results = _run(cases, quiet)
    _print(results)
    if out is not None:
        from ckdmbd.validation.report import write_outputs

        try:
            written = write_outputs(out, results)
        except OSError as exc:
            _fail(f"cannot write to {str(out)!r}: {exc.strerror or exc}")
        typer.echo("wrote " + ", ".join(str(p) for p in written))
    from ckdmbd.validation.report import all_within

    raise typer.Exit(EXIT_ALL_WITHIN if all_within(results) else EXIT_NOT_ALL_WITHIN)


def _run(cases, quiet: bool):
    from ckdmbd.validation.runner import run_case

    if quiet:
        return [r for c in cases for r in run_case(c)]
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = sum(len(c.arms) for c in cases)
    results = []
    with Progress(TextColumn("[bold]validating"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("", total=total)
        for c in cases:
            def tick(label: str) -> None:
                bar.update(task, description=escape(label))

            results += run_case(c, tick)
            bar.advance(task, len(c.arms))
    return results


def _print(results) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ckdmbd.validation.report import summary_line, table_rows

    console = Console()
    if not console.is_terminal:  # piped or captured: wide enough that each row stays on one or two lines
        console = Console(width=200)
    table = Table(title="literature validation (one parameter set)")
    for col in ("case", "published", "model", "band", "verdict"):
        table.add_column(col, overflow="fold")
    style = {"within": "green", "outside": "red", "error": "yellow"}
    for row in table_rows(results):
        table.add_row(*(escape(c) for c in row[:4]), f"[{style[row[4]]}]{row[4]}[/]")
    console.print(table)
    console.print(summary_line(results), markup=False, highlight=False)
