"""Run outputs: the summary (dict / JSON), the overview plot and the atomic writing of an output folder.

All files of a run are written into a temporary folder beside the destination and moved into place only when
every one of them is complete, so a failed run never leaves partial output behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ckdmbd import units
from ckdmbd.csv_text import write_csv
from ckdmbd.scenario import Scenario
from ckdmbd.sessions import session_table
from ckdmbd.simulation import Result
from ckdmbd.variables import clinic, label

# Adult reference intervals used to shade the plots (typical laboratory ranges; the seed case's laboratory uses
# calcium 2.10-2.60 mmol/L, phosphate 0.87-1.45 mmol/L, intact PTH 1.5-6.1 pmol/L).
REFERENCE_RANGES = {
    "calcium_mmol_L": (2.10, 2.60),
    "phosphate_mmol_L": (0.87, 1.45),
    "pth_pmol_L": (1.5, 6.1),
    "calcitriol_pmol_L": (48.0, 190.0),  # assumed: common adult interval 20-79 pg/mL (48-190 pmol/L)
}
HEADLINE = {col: label(col) for col in ("calcium_mmol_L", "phosphate_mmol_L", "pth_pmol_L", "calcitriol_pmol_L")}
"""The four headline variables by column, with their display labels (:mod:`ckdmbd.variables`)."""

DEPOSIT_COLUMNS = ("deposit_diameter_cm", "deposit_mass_g")


def summary_columns(scenario: Scenario, frame: pd.DataFrame) -> list[str]:
    """The variables a summary reports: the headline ones, ionised calcium and GFR, and the deposit wherever the
    scenario has a calcification site (the outcome its what-ifs exist for)."""
    cols = [*HEADLINE, "ionized_calcium_mmol_L", "gfr_mL_min"]
    if scenario.calcification_sites:
        cols += list(DEPOSIT_COLUMNS)
    return [c for c in cols if c in frame]


def run_part(frame: pd.DataFrame, sessions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of the run itself (t >= 0) of a frame and a sessions table that may hold a simulated history."""
    if len(frame) and frame["time_days"].iloc[0] < 0.0:
        attrs = frame.attrs
        frame = frame[frame["time_days"] >= 0.0].reset_index(drop=True)
        frame.attrs = attrs
    if len(sessions) and "start_day" in sessions and sessions["start_day"].iloc[0] < 0.0:
        sessions = sessions[sessions["start_day"] >= 0.0].reset_index(drop=True)
    return frame, sessions


def summarize(scenario: Scenario, result: Result, frame: pd.DataFrame, sessions: pd.DataFrame) -> dict:
    """Headline numbers of a run: start, end, min and max of each clinical variable (keyed by its time-series
    column, with its display label), the deposit where a site exists, mass balance (from the frame's ledger
    columns), solver; on dialysis the pre-dialysis values; the case's reported values beside the model's when the
    scenario has observations. A simulated history in ``frame`` (t < 0) is left out of the numbers."""
    frame, sessions = run_part(frame, sessions)
    variables = {}
    for col in summary_columns(scenario, frame):
        series = frame[col].to_numpy()
        variables[col] = {
            "label": label(col),
            "unit": frame.attrs["units"][col],
            "start": float(series[0]),
            "end": float(series[-1]),
            "min": float(np.min(series)),
            "max": float(np.max(series)),
        }
    balance = {}
    for el in ("calcium", "phosphate"):
        body0 = float(frame[f"{el}_body_mmol"].iloc[0])
        imbalance = float(frame[f"{el}_imbalance_mmol"].iloc[-1])
        balance[el] = {
            "body_start_mmol": body0,
            "body_end_mmol": float(frame[f"{el}_body_mmol"].iloc[-1]),
            "net_input_mmol": float(frame[f"{el}_net_input_mmol"].iloc[-1]),
            "imbalance_mmol": imbalance,
            "relative_imbalance": abs(imbalance) / body0,
        }
    out = {
        "scenario": scenario.name,
        "description": scenario.description,
        "configuration": scenario.configuration,
        "history_days": scenario.history_h / units.HOURS_PER_DAY,
        "duration_days": scenario.duration_h / units.HOURS_PER_DAY,
        "output_interval_hours": scenario.output_interval_h,
        "variables": variables,
        "mass_balance": balance,
        "solver": {"status": result.message, "steps": result.n_steps, "rhs_evaluations": result.n_rhs},
        "citations": result.citations,
    }
    if len(sessions):
        out["dialysis"] = predialysis_summary(sessions)
    comparison = case_comparison(scenario, frame, sessions)
    if comparison:
        out["case_comparison"] = comparison
    return out


PREDIALYSIS_COLUMNS = {
    "pre_phosphate_mmol_L": "phosphate_mmol_L",
    "pre_calcium_mmol_L": "calcium_mmol_L",
    "pre_ionized_calcium_mmol_L": "ionized_calcium_mmol_L",
    "pre_pth_pmol_L": "pth_pmol_L",
}


def predialysis_summary(sessions: pd.DataFrame) -> dict:
    """What a clinic sees: pre-dialysis values (mean of the last 4 weeks' sessions and of all sessions), and the
    average session (post-dialysis values, reduction ratio, phosphate removed, calcium gained)."""
    last = sessions[sessions["start_day"] >= sessions["start_day"].iloc[-1] - 28.0]
    pre = {name: {"label": label(col), "column": col, "last_4_weeks": float(last[col].mean()),
                  "whole_run": float(sessions[col].mean())}
           for col, name in PREDIALYSIS_COLUMNS.items() if col in sessions}
    mean = sessions.mean(numeric_only=True)
    return {
        "sessions": len(sessions),
        "predialysis": pre,
        "mean_session": {k: float(mean[k]) for k in sessions.columns if k != "start_day" and not k.startswith("pre_")},
    }


PNG_PANELS = ("calcium_mmol_L", "ionized_calcium_mmol_L", "phosphate_mmol_L", "pth_pmol_L", "deposit_diameter_cm",
              "calcitriol_pmol_L")
"""The overview PNG's panels, in order (those the run has: ionised calcium and the deposit where present)."""


def overview_plot(frame: pd.DataFrame, title: str, path: Path, sessions: pd.DataFrame | None = None,
                  markers: list[tuple[float, str]] | None = None, observations: list | None = None) -> None:
    """Total and ionised calcium, phosphate, PTH (log axis), the deposit (where a site grew one) and calcitriol
    over time, reference ranges shaded; every event a numbered dashed line (listed under the plots), the case's
    reported values as orange diamonds. On dialysis the continuous trace (which swings with every session) is
    drawn faintly and the pre-dialysis values, as a clinic sees them, bold."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ckdmbd.report_html import PANELS, PTH_LOG_FLOOR, _marker_rows, group_markers, is_empty

    t_days = frame["time_days"].to_numpy(float)
    years = t_days[-1] - min(t_days[0], 0.0) > 2 * units.DAYS_PER_YEAR
    scale = units.DAYS_PER_YEAR if years else 1.0
    t = t_days / scale
    on_dialysis = sessions is not None and len(sessions) > 0
    groups = group_markers(list(markers or []))
    observations = list(observations or [])
    bands = {p.column: p.bands for p in PANELS}
    x_lo = min([float(t[0]), *(m.day / scale for m in groups)])
    x_hi = max([float(t[-1]), *(m.day / scale for m in groups)])
    # numbers that would touch go up a row (a plot is ~520 px wide here, so the HTML's ~1100 px rule halves)
    rows = _marker_rows([(m.day / scale - x_lo) / ((x_hi - x_lo) or 1.0) / 2 for m in groups],
                        [str(m.number) for m in groups])
    cols = [c for c in PNG_PANELS if c in frame and not (is_empty(frame[c].to_numpy(float))
                                                          and not any(o.column == c for o in observations))]
    ncols = 2
    nrows = (len(cols) + 1) // 2
    legend_lines = [f"{m.number}: {_format_day(m.day, scale)} {m.text}" for m in groups]
    fig, axes = plt.subplots(nrows, ncols, figsize=(12, 2.9 * nrows + 0.6 + 0.15 * len(legend_lines)),
                             sharex=True, squeeze=False)
    for ax, col in zip(axes.flat, cols, strict=False):
        for band in bands.get(col, ()):
            if band.dialysis_only and not on_dialysis:
                continue
            ax.axhspan(band.low, band.high, color="tab:blue" if band.dialysis_only else "tab:green",
                       alpha=0.07 if band.dialysis_only else 0.12, label=band.name, lw=0)
        y = frame[col].to_numpy(float)
        if col == "pth_pmol_L":
            y = np.where(y > PTH_LOG_FLOOR, y, np.nan)  # an assay's "< 0.1" lies under the log axis
        swings = on_dialysis and col != "deposit_diameter_cm"  # the deposit does not swing with the sessions
        ax.plot(t, y, color="tab:blue", lw=0.6 if swings else 1.5, alpha=0.35 if swings else 1,
                label="model (continuous)" if swings else "model")
        pre = f"pre_{col}"
        if on_dialysis and pre in sessions:
            values = sessions[pre].to_numpy(float)
            if col == "pth_pmol_L":
                values = np.where(values > PTH_LOG_FLOOR, values, np.nan)
            ax.plot(sessions["start_day"] / scale, values, ".", color="tab:red", ms=3, label="pre-dialysis")
        obs = [o for o in observations if o.column == col]
        if obs:
            ax.plot([o.day / scale for o in obs], [o.value for o in obs], "D", color="tab:orange", mec="black",
                    ms=8, label="reported for the patient", zorder=5)
        if col == "pth_pmol_L":
            ax.set_yscale("log")
            ax.set_ylim(bottom=PTH_LOG_FLOOR)
        elif col == "deposit_diameter_cm":
            ax.set_ylim(bottom=0)
        for m, row in zip(groups, rows, strict=True):
            key = m.text.startswith("presentation")
            ax.axvline(m.day / scale, color="tab:red" if key else "0.3", ls="--", lw=0.9)
            ax.annotate(str(m.number), (m.day / scale, 1.0), xycoords=("data", "axes fraction"), ha="center",
                        va="bottom", fontsize=8, color="tab:red" if key else "0.2", xytext=(0, 1 + 9 * row),
                        textcoords="offset points")
        ax.set_ylabel(label(col), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=7)
    for ax in axes.flat[len(cols):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("time (years)" if years else "time (days)")
        ax.xaxis.set_tick_params(labelbottom=True)
    # a '$' in a scenario's description is text, not mathtext
    fig.suptitle("\n".join(textwrap.wrap(title, 110)), parse_math=False)
    bottom = (0.15 + 0.15 * len(legend_lines)) / fig.get_figheight()
    if legend_lines:
        fig.text(0.01, 0.005, "\n".join(textwrap.shorten(line, 170) for line in legend_lines), fontsize=8,
                 va="bottom", ha="left", parse_math=False)
    fig.tight_layout(rect=(0, bottom, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _format_day(day: float, scale: float) -> str:
    return f"year {day / scale:.2f}:" if scale != 1.0 else f"day {day:g}:"


def write_outputs(out_dir: Path, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Run every writer into a temporary folder, then put the finished folder in place of ``out_dir``: no partial
    output, and no stale file of an earlier run beside the new ones (:func:`ckdmbd.output_folder.write_folder`)."""
    from ckdmbd.output_folder import write_folder

    return write_folder(out_dir, writers)


def event_label(ev) -> str:
    """A short clinical label for an event, for the time axis of the report."""
    from ckdmbd import protocol as p

    if isinstance(ev, p.Parathyroidectomy):
        what = "total" if ev.fraction_removed >= 1 else f"{ev.fraction_removed:.0%}"
        return f"parathyroidectomy ({what})" + (" with forearm autograft" if ev.autograft_mass > 0 else "")
    labels = {
        p.GraftExcision: lambda e: "excision of the forearm graft",
        p.DepositExcision: lambda e: f"surgical removal of {e.fraction:.0%} of the calcified mass",
        p.CalcificationSiteOnset: lambda e: f"calcification site: {e.site}",
        p.Adherence: lambda e: f"binders taken: {e.fraction:.0%} of doses",
        p.PhosphateBinder: lambda e: f"binder {e.binder} {e.dose_g_per_day:g} g/day",
        p.Diet: lambda e: "diet: " + ", ".join(
            f"{k} {v:g} mg/day" for k, v in (("calcium", e.calcium_mg_per_day), ("phosphorus", e.phosphorus_mg_per_day))
            if v is not None),
        p.Hemodialysis: lambda e: f"dialysis {len(e.weekdays)}x/week, {e.session_h:g} h",
        p.ActiveVitaminD: lambda e: f"{e.drug} {e.dose_ug_per_day:g} ug/day",
        p.Cinacalcet: lambda e: f"cinacalcet {e.dose_mg_per_day:g} mg/day",
        p.IntravenousVitaminD: lambda e: f"{e.drug} {e.dose_ug:g} ug i.v. after each session",
        p.NutritionalVitaminD: lambda e: f"{e.drug} {e.dose_iu_per_day:g} IU/day",
        p.Etelcalcetide: lambda e: f"etelcalcetide {e.dose_mg:g} mg i.v. after each session",
        p.TeriparatideDoses: lambda e: f"teriparatide {e.dose_ug:g} ug x {e.count}",
        p.SetGFR: lambda e: f"GFR {e.gfr_ml_min:g} mL/min",
        p.GFRDecline: lambda e: f"GFR decline {e.from_ml_min:g} -> {e.to_ml_min:g} mL/min",
    }
    return labels.get(type(ev), lambda e: type(e).__name__)(ev)


def markers(scenario: Scenario, history: bool = False) -> list[tuple[float, str]]:
    """(day, label) for every event inside the reported run (t >= 0; with ``history`` also those before), and
    the presentation: the time of the case's reported values ("presentation: reported calcium, phosphate ...")."""
    from ckdmbd.protocol import event_start_h

    out = [(event_start_h(ev) / units.HOURS_PER_DAY, event_label(ev)) for ev in scenario.events
           if history or event_start_h(ev) >= 0.0]
    times: dict[float, list[str]] = {}
    for obs in scenario.observations:
        times.setdefault(obs.time_h, []).append(obs.quantity.replace("_", " "))
    for time_h, what in sorted(times.items()):
        out.append((time_h / units.HOURS_PER_DAY, "presentation: reported " + ", ".join(dict.fromkeys(what))))
    return out


def observations(scenario: Scenario) -> list:
    """The scenario's reported values as :class:`ckdmbd.report_html.Observation` (drawn on the curves)."""
    from ckdmbd.report_html import Observation

    return [Observation(o.time_h / units.HOURS_PER_DAY, o.column, o.value,
                        f"{o.reported or f'{o.value:g} {o.unit}'} (read as {o.value:.3g} {o.unit})")
            for o in scenario.observations]


def case_comparison(scenario: Scenario, frame: pd.DataFrame, sessions: pd.DataFrame) -> list[dict]:
    """The scenario's reported values beside the model's at the same time: on dialysis the mean pre-dialysis value
    of the sessions within two weeks (a clinic samples before a session), else the value at that time."""
    rows = []
    for obs in scenario.observations:
        day = obs.time_h / units.HOURS_PER_DAY
        pre = f"pre_{obs.column}"
        near = sessions[(sessions["start_day"] - day).abs() <= 14.0] if len(sessions) else sessions
        if len(near) and pre in near:
            model, how = float(near[pre].mean()), "pre-dialysis, mean of sessions within 2 weeks"
        else:
            i = int(np.argmin(np.abs(frame["time_days"].to_numpy() - day)))
            model, how = float(frame[obs.column].iloc[i]), "at that time"
        rows.append({
            "quantity": obs.quantity.replace("_", " "),
            "time": f"day {day:.0f}",
            "reported": obs.reported,
            "read as": f"{obs.value:.3g} {obs.unit}",
            "model": f"{clinic(obs.column, model, with_unit=True)} ({how})",
            "note": obs.note,
        })
    return rows


def calcification_site_summary(scenario: Scenario) -> dict | None:
    """For a scenario with a calcification site and a reported deposit size: which numbers are fitted, and the
    mass at presentation (the time of the reported size) for +-20 % in each fitted and each main assumed site
    parameter (``ckdmbd.calcification_fit``; about a dozen runs from the site's onset to presentation)."""
    from ckdmbd.calcification_fit import DIAMETER_CM, FITTED, TARGETS, SiteProblem, robustness

    reported = [o for o in scenario.observations if o.quantity == "deposit_diameter"]
    if not scenario.calcification_sites or not reported:
        return None
    problem = SiteProblem(scenario, reported[0].time_h)
    rows = robustness(problem)
    fitted = {name: problem.base[name] for name in FITTED}
    labels = {"pre_calcium_mmol_L": "pre-dialysis calcium {:g} mmol/L",
              "pre_phosphate_mmol_L": "pre-dialysis phosphate {:g} mmol/L (read from 6.6 mg/dL)"}
    targets = ", ".join(labels.get(k, k + " {:g}").format(v) for k, (v, _sd) in TARGETS.items())
    targets += f", diameter {DIAMETER_CM:g} cm"
    statement = (f"Site '{scenario.calcification_sites[0].name}'. Fitted (ckdmbd.calcification_fit): "
                 + ", ".join(f"{k} = {v:.4g}" for k, v in fitted.items())
                 + f" to the values at presentation ({targets}): the growth rate by weighted least squares to the "
                 f"serum values, the mineral fraction to the diameter. Not fitted: PTH "
                 f"(the graft sets it) and the other site values (assumptions; the threshold deposit_ksp_mM2 is "
                 f"the steep one). Each row scales one parameter by the factor shown, all else as fitted.")
    table = [{"parameter": r["parameter"], "factor": f"{r['factor']:.1f}",
              "value": "" if r["value"] is None else f"{r['value']:.4g}",
              "diameter (cm)": f"{r['diameter_cm']:.1f}", "mineral (g)": f"{r['mass_g']:.0f}",
              **{label(col): clinic(col, r[col])
                 for col in ("pre_calcium_mmol_L", "pre_phosphate_mmol_L", "pre_pth_pmol_L")}} for r in rows]
    return {"site": scenario.calcification_sites[0].name, "fitted": fitted, "statement": statement,
            "robustness": rows, "table": table}


MODEL_NOTES = [
    "Ionised calcium is modelled as a fixed half of total calcium (no albumin or pH); the calcium-sensing of the "
    "parathyroid tissue uses it.",
    "Times the case report does not give (the two operations after presentation), the graft size, adherence "
    "before surgery and the non-adherent diet are assumptions, written in the scenario file.",
    "A model, not a patient: not for clinical decisions.",
]


def run_writers(scenario: Scenario, result: Result, frame: pd.DataFrame,
                png: bool = False) -> tuple[dict, dict[str, Callable[[Path], None]]]:
    """The run's summary and the writers of its output files (the CLI prints from the same summary)."""
    from ckdmbd.report_html import html_report

    sessions = session_table(frame, scenario.events)
    summary = summarize(scenario, result, frame, sessions)
    comparison = summary.get("case_comparison", [])
    site = calcification_site_summary(scenario)
    tables = []
    if site is not None:
        summary["calcification_site"] = site
        tables.append(("Calcification site: robustness of the mass at presentation", site["statement"],
                       site["table"]))
    history = len(frame) > 0 and float(frame["time_days"].iloc[0]) < 0.0  # ckdmbd run --show-history
    events, reported = markers(scenario, history=history), observations(scenario)
    citations = run_citations(result)
    summary["citations"] = citations
    page = html_report(frame, title=f"{scenario.name} ({scenario.configuration} configuration)",
                       description=scenario.description, sessions=sessions if len(sessions) else None,
                       markers=events, observations=reported, case_values=comparison or None,
                       notes=MODEL_NOTES if comparison else [MODEL_NOTES[-1]], citations=citations,
                       tables=tables, intro_tables=[outcome_table(summary)])
    png_title = f"{scenario.name}: {scenario.description}"
    return summary, {
        "report.html": lambda p: p.write_text(page, encoding="utf-8"),
        "timeseries.csv": lambda p: write_csv(frame, p, "%.9g"),
        "summary.json": lambda p: p.write_text(json.dumps(summary, indent=2) + "\n"),
    } | ({"sessions.csv": lambda p: write_csv(sessions, p, "%.6g")} if len(sessions) else {}) \
      | ({"overview.png": lambda p: overview_plot(frame, png_title, p, sessions, events, reported)} if png else {})


def run_citations(result: Result) -> list[str]:
    """The references of what this run used (:func:`ckdmbd.citations.run_citation_keys`)."""
    from ckdmbd.citations import format_citations, run_citation_keys

    return format_citations(run_citation_keys(result))


def outcome_table(summary: dict) -> str:
    """The run's outcomes at a glance, as an HTML table shown above the plots: each summary variable at the
    start and end of the run, its range, the pre-dialysis means of the last 4 weeks on dialysis; values as a
    clinic writes them, in SI units with the conventional unit beside them (the page's unit switch)."""
    import html

    from ckdmbd.variables import variable

    def cell(col: str, value: float) -> str:
        v, si = variable(col), clinic(col, value)
        if v is None or v.conventional_unit is None:
            return f"<td>{html.escape(si)}</td>"
        conv = clinic(col, value, conventional=True)
        return f'<td data-si="{html.escape(si)}" data-conventional="{html.escape(conv)}">{html.escape(si)}</td>'

    def unit_cell(col: str, unit: str) -> str:
        v = variable(col)
        if v is None or v.conventional_unit is None:
            return f"<td>{html.escape(unit)}</td>"
        return (f'<td data-si="{html.escape(unit)}" data-conventional="{html.escape(v.conventional_unit)}">'
                f"{html.escape(unit)}</td>")

    rows = []
    for col, v in summary["variables"].items():
        name = v["label"].rsplit(" (", 1)[0]
        rows.append(f"<tr><td>{html.escape(name)}</td><td><code>{html.escape(col)}</code></td>"
                    f"{unit_cell(col, v['unit'])}{cell(col, v['start'])}{cell(col, v['end'])}"
                    f"{cell(col, v['min'])}{cell(col, v['max'])}</tr>")
    for pre in summary.get("dialysis", {}).get("predialysis", {}).values():
        col = pre["column"]
        name = pre["label"].rsplit(" (", 1)[0] + ", mean of the last 4 weeks"
        unit = variable(col).unit if variable(col) else ""
        rows.append(f"<tr><td>{html.escape(name)}</td><td><code>{html.escape(col)}</code></td>"
                    f"{unit_cell(col, unit)}<td></td>{cell(col, pre['last_4_weeks'])}<td></td><td></td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("Variable", "Column (CSV, JSON)", "Unit", "Start", "End", "Min", "Max"))
    return (f'<h2>Outcomes</h2>\n<table class="case" id="outcomes"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")
