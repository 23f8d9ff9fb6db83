"""``ckdmbd labs``: lab series from CSV or FHIR R4 files, checked against reference ranges, plausibility limits and
the KDIGO 2017 targets on dialysis. Mounted on the main command in :mod:`ckdmbd.cli`
(``app.add_typer(labs_app, name="labs")``).

Bad input (unreadable file, malformed CSV or FHIR, unknown analyte or unit, duplicate or out-of-order samples) ends
with one ``ckdmbd: error:`` line on stderr and exit status 2. Flags are findings, not errors: ``check`` exits 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

labs_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="Lab series (CSV, FHIR R4): import, unit conversion and checks.")


# flags spelled out under the table (low/high are in the table beside their reference range)
FINDINGS = ("implausible", "kdigo_phosphate", "kdigo_hypercalcaemia", "kdigo_pth_low", "kdigo_pth_high")


def _fail(message: str):
    from ckdmbd.cli import _fail  # imported late: ckdmbd.cli mounts this module

    _fail(message)


@labs_app.command()
def check(
    file: Annotated[Path, typer.Argument(help="a CSV file (long format) or a FHIR R4 Bundle (.json)")],
    json_out: Annotated[bool, typer.Option("--json", help="print the results as JSON")] = False,
    dialysis: Annotated[bool, typer.Option("--dialysis/--no-dialysis",
                                           help="judge against the KDIGO 2017 targets for patients on dialysis")]
    = True,
    sort: Annotated[bool, typer.Option("--sort", help="sort samples by time instead of rejecting out-of-order "
                                                      "ones")] = False,
    skip_unknown: Annotated[bool, typer.Option("--skip-unknown", help="skip results of analytes outside the "
                                                                      "table instead of rejecting the file")] = False,
) -> None:
    """Check a lab series: reference ranges, likely unit errors, KDIGO 2017 targets, corrected calcium, Ca x P."""
    from ckdmbd.labs import LabError, check_labs, load_labs

    try:
        series = load_labs(file, sort=sort, skip_unknown=skip_unknown)
    except LabError as exc:
        _fail(str(exc))
    result = check_labs(series, dialysis=dialysis)
    if json_out:
        typer.echo(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    else:
        _print_check(result)


def _when(item) -> str:
    if item.time is None:
        return f"day {item.day:g}"
    return item.time.removesuffix("Z").replace("T", " ").removesuffix(":00")


def _console():
    """Rich console; output that is not a terminal (a pipe, a file) is not wrapped at 80 columns."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=160)


def _print_check(result) -> None:
    from rich.markup import escape
    from rich.table import Table

    from ckdmbd.labs.checks import fmt
    from ckdmbd.scenario import clean_text

    console = _console()
    table = Table(title=escape(clean_text(f"lab results: {result.source}")))
    reported_differs = any(s.reported_unit != s.unit for s in result.samples)
    notes = {note: chr(ord("a") + i) for i, note in enumerate(dict.fromkeys(s.note for s in result.samples if s.note))}
    columns = ["time", "sample", "analyte", "value", *(["reported as"] if reported_differs else []), "reference",
               "flags", *(["note"] if notes else [])]
    for col in columns:
        table.add_column(col, justify="right" if col in ("value", "reported as") else "left")
    for s in result.samples:
        reported = f"{s.reported_value:g} {s.reported_unit}"
        value = f"{fmt(s.value)} {s.unit}"
        ref = f"{fmt(s.ref_low)}-{fmt(s.ref_high)}" + ("" if s.ref_source == "reported" else " *")
        table.add_row(escape(_when(s)), (s.sample or "").removesuffix("-dialysis"), s.analyte, value,
                      *([escape(reported) if reported != value else ""] if reported_differs else []), ref,
                      escape(", ".join(f.label for f in s.flags if f.code != "post_dialysis")),
                      *([notes.get(s.note, "")] if notes else []))
    console.print(table)
    def say(text: str) -> None:  # notes come from the file: no escape sequences reach the terminal (issue 16)
        console.print(clean_text(text), markup=False, highlight=False, soft_wrap=True)

    for note, letter in notes.items():
        say(f"{letter}: {note}")
    say("* default reference range (none came with the result); sample: pre-/post-dialysis as stated in the file; "
        "post-dialysis values are not judged against KDIGO targets")
    if result.derived:
        derived = Table(title="derived (from samples taken at the same time)")
        for col in ("time", "quantity", "value", "flags"):
            derived.add_column(col, justify="right" if col == "value" else "left")
        for d in result.derived:
            derived.add_row(escape(_when(d)), d.name, "not computed" if d.value is None else f"{fmt(d.value)} {d.unit}",
                            escape(", ".join(f.label for f in d.flags)))
        console.print(derived)
    lines = [(s.day, f"{_when(s)} {s.analyte}: {f.message}") for s in result.samples for f in s.flags
             if f.code in FINDINGS]
    lines += [(d.day, f"{_when(d)} {d.name}: {f.message}") for d in result.derived for f in d.flags]
    lines += [(d.day, f"{_when(d)} {d.name}: {d.inputs}") for d in result.derived
              if "read as" in d.inputs or d.value is None]
    if lines:
        say("findings:")
        for _, line in sorted(lines, key=lambda item: item[0]):
            say(f"  {line}")
    for note in result.notes:
        say(note)


@labs_app.command()
def analytes() -> None:
    """List the analytes: LOINC codes, units, default reference ranges and plausibility limits, with sources."""
    from ckdmbd.labs.analytes import ANALYTES, KIND_NAMES
    from ckdmbd.labs.checks import fmt

    for a in ANALYTES.values():
        codes = ", ".join(f"{code} ({KIND_NAMES[p]})" if p else f"{code} (property not checked)"
                          for code, p in a.loinc.items())
        mass = f"; molar mass {a.molar_mass:g} g/mol" if a.molar_mass else ""
        typer.echo(f"{a.key}: {a.name} [{a.unit}]; LOINC {codes}{mass}")
        typer.echo(f"  units: {', '.join(a.units)}" + (f"; aliases: {', '.join(a.aliases)}" if a.aliases else ""))
        typer.echo(f"  reference {fmt(a.reference.low)}-{fmt(a.reference.high)} {a.unit}: {a.reference.source}")
        typer.echo(f"  plausible {fmt(a.plausible.low)}-{fmt(a.plausible.high)} {a.unit}: {a.plausible.source}")
        if a.molar_mass:
            typer.echo(f"  molar mass: {a.molar_mass_source}")
        if a.note:
            typer.echo(f"  note: {a.note}")
