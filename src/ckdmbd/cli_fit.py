"""``ckdmbd fit`` and ``ckdmbd forecast``: a calibrated patient from lab results, and its forecast with uncertainty.

Bad input (unreadable or malformed labs, a scenario error, too few values) ends with one ``ckdmbd: error:`` line and
exit status 2, leaving no output files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer

FITTED_ANALYTES = {"calcium": "calcium_mmol_L", "phosphate": "phosphate_mmol_L", "pth": "pth_pmol_L"}


def _fail(message: str) -> None:
    from ckdmbd.cli import _fail as fail

    fail(message)


def fit_command(
    labs: Annotated[Path, typer.Argument(help="lab series: CSV (long format) or FHIR R4 Bundle (.json)")],
    scenario: Annotated[str, typer.Option("--scenario", "-s", help="the patient's scenario (built-in name or TOML)")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output folder (default: out/<scenario>-fit)")] = None,
    first_sample_day: Annotated[float, typer.Option(
        help="scenario time (days) of the first lab sample's day; the samples keep their clock times")] = 0.0,
    starts: Annotated[int, typer.Option(min=1, max=20, help="optimiser starts (the first at the bounds' middle)")] = 3,
    seed: Annotated[int, typer.Option(help="seed of the random starts")] = 0,
) -> None:
    """Estimate dietary phosphorus and calcium and the parathyroid tissue mass from pre-dialysis calcium,
    phosphate and PTH; write fit.json and a calibrated scenario file; print estimates, 95 % intervals and fit."""
    from ckdmbd.calibration import CalibrationError, Problem, calibrated_scenario_text, fit, start_state
    from ckdmbd.labs import load_labs
    from ckdmbd.labs.checks import check_labs
    from ckdmbd.labs.errors import LabError
    from ckdmbd.scenario import ScenarioError, load_scenario, scenario_text

    try:
        series = load_labs(labs)
        checked = check_labs(series)
        sc = load_scenario(scenario)
        original = scenario_text(scenario)
    except (LabError, ScenarioError, OSError) as exc:
        _fail(str(exc))
    rows, skipped = [], []
    # the first sample's day becomes scenario day `first_sample_day`; every sample keeps its clock time
    shift = first_sample_day - math.floor(float(series["day"].iloc[0])) if len(series) else first_sample_day
    for res in checked.samples:
        if res.analyte not in FITTED_ANALYTES:
            continue
        if not res.plausible:
            skipped.append(f"{res.analyte} {res.reported_value:g} {res.reported_unit} on day {res.day:g}")
            continue
        rows.append({"time_days": shift + res.day,
                     "column": FITTED_ANALYTES[res.analyte], "value": res.value,
                     "predialysis": res.sample in (None, "pre-dialysis")})
    import pandas as pd

    table = pd.DataFrame(rows)
    if table.empty:
        _fail(f"{labs}: no calcium, phosphate or PTH values to fit")
    try:
        problem = Problem(sc, table, start_state(sc))
        result = fit(problem, n_starts=starts, seed=seed)
    except CalibrationError as exc:
        _fail(str(exc))
    out_dir = out if out is not None else Path("out") / f"{sc.name}-fit"
    summary = result.to_dict() | {"labs": str(labs), "scenario": sc.name, "values_fitted": len(table),
                                  "values_skipped_as_implausible": skipped}
    from ckdmbd.report import write_outputs

    calibrated = calibrated_scenario_text(original, sc, result, str(labs))
    try:
        write_outputs(out_dir, {
            "fit.json": lambda p: p.write_text(json.dumps(summary, indent=2) + "\n"),
            f"{sc.name}-calibrated.toml": lambda p: p.write_text(calibrated, encoding="utf-8"),
        })
    except OSError as exc:
        _fail(f"cannot write to {str(out_dir)!r}: {exc.strerror or exc}")
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    view = Table(title=escape(f"{sc.name}: patient parameters from {len(table)} lab values"))
    for col in ("parameter", "estimate", "95 % CI", "unit"):
        view.add_column(col)
    for r in result.table().itertuples():
        view.add_row(r.parameter, f"{r.estimate:.4g}", f"{r.ci95_low:.4g} - {r.ci95_high:.4g}", r.unit)
    console.print(view)
    console.print(f"goodness of fit: chi-square {result.chi_square:.3g} on {result.dof} degrees of freedom "
                  f"(p = {result.p_value:.2g}); RMS log residual "
                  + ", ".join(f"{escape(k)} {v:.3f}" for k, v in result.rms_log_residual.items()))
    for item in skipped:
        console.print(f"skipped as implausible (see `ckdmbd labs check`): {escape(item)}")
    console.print(f"wrote {out_dir / 'fit.json'}, {out_dir / (sc.name + '-calibrated.toml')}", markup=False,
                  soft_wrap=True)


def forecast_command(
    scenario: Annotated[str, typer.Argument(help="scenario with the interventions to forecast (e.g. the calibrated "
                                                 "file from `ckdmbd fit`, edited)")],
    fit_file: Annotated[Path, typer.Option("--fit", help="fit.json written by `ckdmbd fit`")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output folder (default: out/<scenario>-forecast)")]
    = None,
    samples: Annotated[int, typer.Option(min=5, max=500, help="parameter sets drawn from the fit's uncertainty")] = 30,
    seed: Annotated[int, typer.Option(help="seed of the draws")] = 0,
) -> None:
    """Run the calibrated patient forward under the scenario's interventions; the report shows the median run and the
    5-95 % band that comes from the parameter uncertainty (report.html, forecast.csv, samples.csv)."""
    from dataclasses import replace

    from ckdmbd.calibration import CalibrationError, FitResult, forecast, start_state
    from ckdmbd.labs.errors import LabError
    from ckdmbd.labs.io_csv import read_text
    from ckdmbd.protocol import Diet, SetParathyroidTissue, event_start_h
    from ckdmbd.scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(scenario)
        result = FitResult.from_dict(json.loads(read_text(fit_file)))  # a regular file of bounded size, or refused
    except (ScenarioError, CalibrationError) as exc:
        _fail(str(exc))
    except LabError as exc:
        _fail(f"--fit: {exc}")
    except (RecursionError, ValueError, TypeError, KeyError, AttributeError) as exc:  # not a fit.json of ours
        _fail(f"--fit: {str(fit_file)!r} is not a fit.json written by `ckdmbd fit` ({exc.__class__.__name__})")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"--fit: cannot read {str(fit_file)!r} ({exc.__class__.__name__})")
    # the calibration's point estimates at t = 0 are replaced by the sampled parameters
    events = tuple(e for e in sc.events
                   if not (isinstance(e, Diet | SetParathyroidTissue) and event_start_h(e) == 0.0))
    sc = replace(sc, events=events)
    try:
        frame, draws = forecast(sc, start_state(sc), result, n_samples=samples, seed=seed,
                                output_interval_h=sc.output_interval_h)
    except CalibrationError as exc:
        _fail(str(exc))
    from ckdmbd.report import markers, write_outputs
    from ckdmbd.report_html import html_report
    from ckdmbd.sessions import session_table

    sessions = session_table(frame, sc.events)
    notes = [f"Median-parameter run with the 5-95 % band of {len(draws)} runs whose patient parameters are drawn "
             f"from the fit's uncertainty ({', '.join(result.names)}; log-normal, Gauss-Newton covariance).",
             "A model, not a patient: not for clinical decisions."]
    page = html_report(frame, title=f"{sc.name}: forecast", description=sc.description,
                       sessions=sessions if len(sessions) else None, markers=markers(sc), notes=notes)
    out_dir = out if out is not None else Path("out") / f"{sc.name}-forecast"
    try:
        written = write_outputs(out_dir, {
            "report.html": lambda p: p.write_text(page, encoding="utf-8"),
            "forecast.csv": lambda p: frame.to_csv(p, index=False, float_format="%.6g"),
            "samples.csv": lambda p: draws.to_csv(p, index=False, float_format="%.6g"),
        })
    except OSError as exc:
        _fail(f"cannot write to {str(out_dir)!r}: {exc.strerror or exc}")
    end = frame.iloc[-1]
    typer.echo(f"{sc.name}: forecast over {sc.duration_h / 24:.0f} days from {len(draws)} parameter draws")
    for col in ("phosphate_mmol_L", "calcium_mmol_L", "pth_pmol_L", "deposit_diameter_cm"):
        if f"{col}_p05" in frame:
            low, high = end[col + "_p05"], end[col + "_p95"]
            typer.echo(f"  {col} at the end: {end[col]:.3g} (5-95 %: {low:.3g} - {high:.3g})")
    typer.echo("wrote " + ", ".join(str(p) for p in written))
