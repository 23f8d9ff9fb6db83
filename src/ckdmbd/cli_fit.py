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


def _sample_days(series, checked, first_sample_day: float | None, start_date: str | None) -> tuple[list, str]:
    """Scenario days of the checked samples, and one line that says how the series was placed on the scenario's
    time axis. Dated samples keep their clock times: day 0 of the series is the midnight that starts the first
    sample's date."""
    import pandas as pd

    dated = series.attrs.get("time_kind") == "datetime"
    if start_date is not None:
        if not dated:
            _fail("--start-date needs dated samples (ISO times); this series gives day numbers: use "
                  "--first-sample-day")
        from datetime import datetime

        try:
            origin = pd.Timestamp(datetime.fromisoformat(start_date))  # strict ISO 8601: never a guessed date
        except ValueError:
            _fail(f"--start-date {start_date!r}: not an ISO date (YYYY-MM-DD)")
        origin = origin.tz_convert(None) if origin.tzinfo is not None else origin
        days = [(pd.Timestamp(r.time).tz_convert(None) - origin) / pd.Timedelta(days=1) for r in checked.samples]
        return days, f"labs: scenario day 0 (t = 0) is {origin.isoformat()} UTC (--start-date)"
    first = 0.0 if first_sample_day is None else first_sample_day
    if dated:
        t0 = pd.Timestamp(series["time"].min()).normalize()
        days = [first + (pd.Timestamp(r.time).tz_convert(None) - t0) / pd.Timedelta(days=1) for r in checked.samples]
        what = f"the first sample's date ({t0.date().isoformat()})"
    else:
        origin = math.floor(float(series["day"].min()))
        days = [first + (r.day - origin) for r in checked.samples]
        what = f"the first sample's day ({origin:g})"
    how = ("--first-sample-day" if first_sample_day is not None else
           "by default: give --start-date (the date of the scenario's t = 0) or --first-sample-day to place it")
    return days, f"labs: {what} is scenario day {first:g} ({how})"


def fit_command(
    labs: Annotated[Path, typer.Argument(help="lab series: CSV (long format) or FHIR R4 Bundle (.json)")],
    scenario: Annotated[str, typer.Option("--scenario", "-s", help="the patient's scenario (built-in name or TOML)")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output folder (default: out/<scenario>-fit)")] = None,
    first_sample_day: Annotated[float | None, typer.Option(
        help="scenario day (>= 0) of the first sample's date (default 0); the samples keep their clock times")] = None,
    start_date: Annotated[str | None, typer.Option(
        help="calendar date (YYYY-MM-DD, UTC) of the scenario's t = 0, instead of --first-sample-day")] = None,
    skip_before_start: Annotated[bool, typer.Option(
        "--skip-before-start", help="leave out (and list) samples before the scenario's t = 0 instead of refusing")]
    = False,
    starts: Annotated[int, typer.Option(min=1, max=20, help="optimiser starts (the first at the bounds' middle)")] = 3,
    seed: Annotated[int, typer.Option(help="seed of the random starts")] = 0,
    force: Annotated[bool, typer.Option(
        "--force", help="write the calibrated scenario (marked as such) and exit 0 even when the fit failed")] = False,
    petab_out: Annotated[Path | None, typer.Option(
        "--petab-out", help="also write the estimation problem as PEtab (SBML model and tables) into this folder")]
    = None,
    run_fit: Annotated[bool, typer.Option("--fit/--no-fit", help="--no-fit: only write the PEtab problem")] = True,
    profile: Annotated[bool, typer.Option(
        "--profile", help="also compute profile-likelihood 95 % intervals (each parameter fixed in turn, the others "
                          "re-fitted; tens of simulations per parameter)")] = False,
) -> None:
    """Estimate dietary phosphorus and calcium and the parathyroid tissue mass from pre-dialysis calcium,
    phosphate and PTH; write fit.json and a calibrated scenario file; print estimates, 95 % intervals and fit.

    The fit FAILS (one line per reason on stderr, exit 1, fit.json written, no calibrated scenario unless --force)
    when an estimate sits at a bound, the information matrix is singular or ill-conditioned (the parameters that
    are not identifiable are named) or the goodness of fit rejects the model (p < 0.001). PTH at or below the
    assay's limit (0.13 pmol/L) is censored."""
    from ckdmbd.calibration import CalibrationError, Problem, calibrated_scenario_text, fit, profile_fit, start_state
    from ckdmbd.labs import load_labs
    from ckdmbd.labs.checks import check_labs
    from ckdmbd.labs.errors import LabError
    from ckdmbd.scenario import ScenarioError, load_scenario, scenario_text

    if first_sample_day is not None and start_date is not None:
        _fail("give --first-sample-day or --start-date, not both")
    if first_sample_day is not None and not (math.isfinite(first_sample_day) and first_sample_day >= 0):
        _fail(f"--first-sample-day {first_sample_day:g}: before the model's start (day 0 = the scenario's t = 0; "
              f"the fit simulates from there, its history is the scenario's own)")
    if petab_out is None and not run_fit:
        _fail("--no-fit writes only the PEtab problem: give --petab-out DIR")
    try:
        series = load_labs(labs)
        checked = check_labs(series)
        sc = load_scenario(scenario)
        original = scenario_text(scenario)
    except (LabError, ScenarioError, OSError) as exc:
        _fail(str(exc))
    days, placement = _sample_days(series, checked, first_sample_day, start_date)
    rows, skipped, early = [], [], []
    for res, day in zip(checked.samples, days, strict=True):
        if res.analyte not in FITTED_ANALYTES:
            continue
        what = f"{res.analyte} {res.reported_value:g} {res.reported_unit} on {res.time or f'day {res.day:g}'}"
        if not res.plausible:
            skipped.append(what)
            continue
        if day < 0 and skip_before_start:
            early.append(what)
            continue
        rows.append({"time_days": float(day), "column": FITTED_ANALYTES[res.analyte], "value": res.value,
                     "predialysis": res.sample in (None, "pre-dialysis")})
    import pandas as pd

    table = pd.DataFrame(rows, columns=["time_days", "column", "value", "predialysis"])
    if table.empty:
        _fail(f"{labs}: no calcium, phosphate or PTH values to fit"
              + (f" ({len(early)} before the scenario's t = 0 left out)" if early else ""))
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    try:
        problem = Problem(sc, table, None)  # the lab series is checked before the (slow) history is simulated
    except CalibrationError as exc:
        _fail(str(exc))
    out_dir = out if out is not None else Path("out") / f"{sc.name}-fit"
    console.print(escape(placement), soft_wrap=True)
    if petab_out is not None:
        from ckdmbd.export.petab import write_petab
        from ckdmbd.export.sbml import ExportError

        try:
            written = write_petab(problem, petab_out)
        except ExportError as exc:
            _fail(f"--petab-out: {exc}")
        except OSError as exc:
            _fail(f"cannot write to {str(petab_out)!r}: {exc.strerror or exc}")
        console.print("wrote PEtab problem " + ", ".join(str(p) for p in written), markup=False, soft_wrap=True)
        if not run_fit:
            return
    problem.start_state = start_state(sc)
    try:
        result = fit(problem, n_starts=starts, seed=seed)
    except CalibrationError as exc:
        _fail(str(exc))
    profiles = []
    if profile:
        try:
            profiles = profile_fit(problem, result)
        except CalibrationError as exc:
            _fail(str(exc))
    summary = result.to_dict() | {"labs": str(labs), "scenario": sc.name, "values_fitted": len(table),
                                  "values_censored": int(problem.censored.sum()), "time_axis": placement,
                                  "values_skipped_as_implausible": skipped, "values_before_start_left_out": early}
    if profiles:
        summary["profile_likelihood"] = [p.to_dict() for p in profiles]
    from ckdmbd.report import write_outputs

    files = {"fit.json": lambda p: p.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")}
    calibrated_name = f"{sc.name}-calibrated.toml"
    if result.ok or force:
        calibrated = calibrated_scenario_text(original, sc, result, str(labs))
        files[calibrated_name] = lambda p: p.write_text(calibrated, encoding="utf-8")
    try:
        write_outputs(out_dir, files)
    except OSError as exc:
        _fail(f"cannot write to {str(out_dir)!r}: {exc.strerror or exc}")
    view = Table(title=escape(f"{sc.name}: patient parameters from {len(table)} lab values"
                              + (" -- FIT FAILED" if not result.ok else "")))
    for col in ("parameter", "estimate", "95 % CI", *(("profile 95 % CI",) if profiles else ()), "unit"):
        view.add_column(col)
    for k, r in enumerate(result.table().itertuples()):
        ci = f"{r.ci95_low:.4g} - {r.ci95_high:.4g}" if math.isfinite(r.ci95_low) else "none"
        extra = ()
        if profiles:
            pr = profiles[k]
            low = f"{pr.low:.4g}" + (" (bound)" if pr.open_low else "")  # bound: the labs do not limit that side
            high = f"{pr.high:.4g}" + (" (bound)" if pr.open_high else "")
            extra = (f"{low} - {high}",)
        view.add_row(r.parameter, f"{r.estimate:.4g}", ci, *extra, r.unit)
    console.print(view)
    console.print(f"goodness of fit: chi-square {result.chi_square:.4g} on {result.dof} degrees of freedom "
                  f"(p = {result.p_value:.2g}); RMS log residual "
                  + ", ".join(f"{escape(k)} {v:.3f}" for k, v in result.rms_log_residual.items()), soft_wrap=True)
    if problem.censored.any():
        console.print(f"{int(problem.censored.sum())} PTH values at or below the assay's limit: censored",
                      soft_wrap=True)
    for item in skipped:
        console.print(f"skipped as implausible (see `ckdmbd labs check`): {escape(item)}", soft_wrap=True)
    for item in early:
        console.print(f"left out, before the scenario's t = 0 (--skip-before-start): {escape(item)}", soft_wrap=True)
    console.print("wrote " + ", ".join(str(out_dir / name) for name in files), markup=False, soft_wrap=True)
    if not result.ok:
        from ckdmbd.cli import _warn

        for reason in result.failures:
            _warn(f"fit failed: {reason}")
        if not force:
            typer.echo("ckdmbd: no calibrated scenario written (the fit failed; --force writes it anyway)", err=True)
            raise typer.Exit(1)


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
        labs = fit_observations(result)
    except (ScenarioError, CalibrationError) as exc:
        _fail(str(exc))
    except LabError as exc:
        _fail(f"--fit: {exc}")
    except (RecursionError, ValueError, TypeError, KeyError, AttributeError) as exc:  # not a fit.json of ours
        _fail(f"--fit: {str(fit_file)!r} is not a fit.json written by `ckdmbd fit` ({exc.__class__.__name__})")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"--fit: cannot read {str(fit_file)!r} ({exc.__class__.__name__})")
    if result.failures:
        from ckdmbd.cli import _warn

        for reason in result.failures:
            _warn(f"the fit in {fit_file} failed: {reason}")
    # the calibration's point estimates at t = 0 are replaced by the sampled parameters
    events = tuple(e for e in sc.events
                   if not (isinstance(e, Diet | SetParathyroidTissue) and event_start_h(e) == 0.0))
    sc = replace(sc, events=events)
    try:
        frame, draws = forecast(sc, start_state(sc), result, n_samples=samples, seed=seed,
                                output_interval_h=sc.output_interval_h)
    except CalibrationError as exc:
        _fail(str(exc))
    from ckdmbd.csv_text import write_csv
    from ckdmbd.report import markers, observations, write_outputs
    from ckdmbd.report_html import html_report
    from ckdmbd.sessions import session_table

    sessions = session_table(frame, sc.events)
    notes = [f"Median-parameter run with the 5-95 % band of {len(draws)} runs whose patient parameters are drawn "
             f"from the fit's uncertainty ({', '.join(result.names)}; log-normal, Gauss-Newton covariance).",
             "A model, not a patient: not for clinical decisions."]
    page = html_report(frame, title=f"{sc.name}: forecast", description=sc.description,
                       sessions=sessions if len(sessions) else None, markers=markers(sc), notes=notes,
                       observations=[*labs, *observations(sc)], intro_tables=[fit_verdict_html(result, len(labs))])
    out_dir = out if out is not None else Path("out") / f"{sc.name}-forecast"
    try:
        written = write_outputs(out_dir, {
            "report.html": lambda p: p.write_text(page, encoding="utf-8"),
            "forecast.csv": lambda p: write_csv(frame, p, "%.6g"),
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


def fit_observations(result) -> list:
    """The fitted lab values of a fit (its residual rows: scenario day, column, observed value in the column's
    unit) as :class:`ckdmbd.report_html.Observation`, drawn on the forecast's curves at their times; a row that is
    not a well-formed residual of ours is a bad fit file."""
    from ckdmbd.calibration import CalibrationError
    from ckdmbd.report_html import Observation
    from ckdmbd.variables import clinic

    out = []
    for k, row in enumerate(result.residuals):
        try:
            day, column, value = float(row["time_days"]), str(row["column"]), float(row["observed"])
            model = row.get("model")
            model = float(model) if model is not None else math.nan
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CalibrationError(f"fit file: residuals[{k}] is not a fitted lab value "
                                   f"({exc.__class__.__name__})") from None
        if column not in FITTED_ANALYTES.values() or not (math.isfinite(day) and math.isfinite(value)):
            raise CalibrationError(f"fit file: residuals[{k}]: {column!r} on day {day:g} is not a fitted lab value")
        text = (f"lab value {clinic(column, value, with_unit=True)} on day {day:.1f}, fitted"
                + (" (at or below the assay's limit: censored)" if row.get("censored") else "")
                + (f"; fitted model {clinic(column, model, with_unit=True)}" if math.isfinite(model) else ""))
        out.append(Observation(day, column, value, text))
    return out


def fit_verdict_html(result, n_labs: int) -> str:
    """The fit's verdict, for the top of the forecast report: ok or FAILED with the reasons, and the goodness of fit
    it rests on (the honest-fit checks of :func:`ckdmbd.calibration.fit`)."""
    import html

    gof = (f"chi-square {result.chi_square:.4g} on {result.dof} degrees of freedom (p = {result.p_value:.2g}; the "
           f"model is rejected below p = 0.001); RMS log residual "
           + ", ".join(f"{k} {v:.3f}" for k, v in result.rms_log_residual.items()))
    if result.failures:
        head = "Fit quality: THE FIT FAILED, do not trust this forecast: " + "; ".join(result.failures)
    else:
        head = "Fit quality: the fit passed its checks (no estimate at a bound, identifiable, not rejected)"
    labs = (f" The {n_labs} fitted lab values are drawn as orange diamonds at their times." if n_labs else
            " The fit file lists no lab values.")
    return (f'<p class="fit-verdict{" failed" if result.failures else ""}" id="fit-verdict"><strong>'
            f"{html.escape(head)}</strong>. {html.escape(gof[0].upper() + gof[1:])}.{html.escape(labs)}</p>")
