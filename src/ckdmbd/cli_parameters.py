"""``ckdmbd parameters``: every parameter of a configuration by readable name, symbol, unit, default and source
(:mod:`ckdmbd.parameter_names`). Mounted on the main command in :mod:`ckdmbd.cli`."""

from __future__ import annotations

import csv
import sys
from typing import Annotated

import typer

FORMATS = ("table", "csv")
CSV_COLUMNS = ("name", "symbol", "default", "unit", "model_default", "model_unit", "kind", "source", "description")


def _fail(message: str):
    from ckdmbd.cli import _fail  # imported late: ckdmbd.cli mounts this module

    _fail(message)


def parameters_command(
    configuration: Annotated[str, typer.Option("--configuration", "-c",
                                               help="default, corrected or reference")] = "default",
    search: Annotated[str | None, typer.Option("--search", "-s", help="only parameters whose name, symbol, unit, "
                                                                      "source or description contains TEXT")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table (rich) or csv (with descriptions)")] = "table",
) -> None:
    """List the parameters of a configuration: readable name (use it in a scenario's [parameters] table), symbol,
    default in its (clinical) unit, kind and source."""
    from ckdmbd.model.configurations import CONFIGURATIONS
    from ckdmbd.parameter_names import search as find

    if configuration not in CONFIGURATIONS:
        _fail(f"--configuration: {configuration!r} must be one of {', '.join(CONFIGURATIONS)}")
    if fmt not in FORMATS:
        _fail(f"--format: {fmt!r} must be one of {', '.join(FORMATS)}")
    rows = find(search, configuration)
    if not rows:
        _fail(f"--search: no parameter of the {configuration!r} configuration matches {search!r}")
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for p in rows:
            writer.writerow([p.name, p.symbol, f"{p.default:.10g}", p.unit, f"{p.default_model:.10g}", p.model_unit,
                             p.kind, p.source, p.description])
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"parameters of the {configuration} configuration ({len(rows)})")
    for col in ("name", "symbol", "default", "unit", "kind", "source"):
        table.add_column(col, justify="right" if col == "default" else "left", overflow="fold",
                         no_wrap=col != "source")
    for p in rows:
        table.add_row(escape(p.name), escape(p.symbol if p.symbol != p.name else ""), f"{p.default:.6g}",
                      escape(p.unit), p.kind, escape(p.source))
    console = Console()
    if not console.is_terminal:  # piped or captured: no terminal width to fit, keep each row on one line
        console = Console(width=160)
    console.print(table)
