"""``ckdmbd export``: the model and a scenario in the field's exchange formats. Mounted on the main command in
:mod:`ckdmbd.cli` (``app.add_typer(export_app, name="export")``).

``ckdmbd export sbml NAME_OR_FILE -o model.xml [--format antimony]`` writes SBML Level 3 Version 2 (or Antimony
text) that reproduces the scenario's run (:mod:`ckdmbd.export.sbml`). Bad input ends with one ``ckdmbd: error:``
line and exit status 2, and writes no file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

export_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="Export a scenario's model: SBML Level 3 (libRoadRunner, COPASI, Tellurium) or Antimony.")


def _fail(message: str):
    from ckdmbd.cli import _fail  # imported late: ckdmbd.cli mounts this module

    _fail(message)


@export_app.command("sbml")
def sbml_command(
    scenario: Annotated[str, typer.Argument(help="built-in scenario name (see `ckdmbd scenarios`) or a TOML file")],
    out: Annotated[Path, typer.Option("--out", "-o", help="file to write (model.xml, or model.ant for antimony)")],
    fmt: Annotated[str, typer.Option("--format", help="sbml (SBML Level 3 Version 2) or antimony")] = "sbml",
    duration: Annotated[str | None, typer.Option(help='override the duration, e.g. "2 weeks"')] = None,
) -> None:
    """Write the scenario as SBML: states with rate rules (sums of named processes), outputs as assignment rules,
    parameters with units and sources, the scenario's events at their exact times, citations. It passes libsbml's
    consistency checks; libRoadRunner simulating it reproduces ckdmbd's run (see the README)."""
    from ckdmbd.export.sbml import ExportError, export_scenario
    from ckdmbd.parameters import ParameterError
    from ckdmbd.protocol import ProtocolError
    from ckdmbd.scenario import ScenarioError, load_scenario, with_overrides
    from ckdmbd.simulation import SimulationError

    if fmt not in ("sbml", "antimony"):
        _fail(f"--format: {fmt!r} is not a format; choose sbml or antimony")
    if out.exists() and out.is_dir():
        _fail(f"--out: {str(out)!r} is a folder; give a file name such as model.xml")
    if not out.parent.exists():
        _fail(f"--out: the folder {str(out.parent)!r} does not exist")
    try:
        sc = with_overrides(load_scenario(scenario), duration)
        text = export_scenario(sc, fmt)
    except (ScenarioError, ProtocolError, ParameterError, SimulationError, ExportError, KeyError) as exc:
        _fail(str(exc))
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {str(out)!r}: {exc.strerror or exc}")
    typer.echo(f"wrote {out} ({fmt}, {len(text) // 1000} kB)")
