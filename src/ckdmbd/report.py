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
from ckdmbd.scenario import Scenario
from ckdmbd.sessions import session_table
from ckdmbd.simulation import Result

# Adult reference intervals used to shade the plots (typical laboratory ranges; the seed case's laboratory uses
# calcium 2.10-2.60 mmol/L, phosphate 0.87-1.45 mmol/L, intact PTH 1.5-6.1 pmol/L).
REFERENCE_RANGES = {
    "calcium_mmol_L": (2.10, 2.60),
    "phosphate_mmol_L": (0.87, 1.45),
    "pth_pmol_L": (1.5, 6.1),
    "calcitriol_pmol_L": (48.0, 190.0),  # assumed: common adult interval 20-79 pg/mL (48-190 pmol/L)
}
HEADLINE = {
    "calcium_mmol_L": "Total calcium (mmol/L)",
    "phosphate_mmol_L": "Phosphate (mmol/L)",
    "pth_pmol_L": "Intact PTH (pmol/L)",
    "calcitriol_pmol_L": "Calcitriol (pmol/L)",
}


def summarize(scenario: Scenario, result: Result, frame: pd.DataFrame, sessions: pd.DataFrame) -> dict:
    """Headline numbers of a run: start, end, min and max of each clinical variable, mass balance (from the
    frame's ledger columns), solver; on dialysis the pre-dialysis values; the case's reported values beside the
    model's when the scenario has observations."""
    variables = {}
    for col in [*HEADLINE, "gfr_mL_min"]:
        series = frame[col].to_numpy()
        variables[col] = {
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
    pre = {name: {"last_4_weeks": float(last[col].mean()), "whole_run": float(sessions[col].mean())}
           for col, name in PREDIALYSIS_COLUMNS.items() if col in sessions}
    mean = sessions.mean(numeric_only=True)
    return {
        "sessions": len(sessions),
        "predialysis": pre,
        "mean_session": {k: float(mean[k]) for k in sessions.columns if k != "start_day" and not k.startswith("pre_")},
    }


def overview_plot(frame: pd.DataFrame, title: str, path: Path, sessions: pd.DataFrame | None = None) -> None:
    """Calcium, phosphate, PTH and calcitriol over time, reference ranges shaded. On dialysis the continuous trace
    (which swings with every session) is drawn faintly and the pre-dialysis values, as a clinic sees them, bold."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    years = frame["time_days"].iloc[-1] > 2 * units.DAYS_PER_YEAR
    scale = units.DAYS_PER_YEAR if years else 1.0
    t = frame["time_days"] / scale
    on_dialysis = sessions is not None and len(sessions) > 0
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True, constrained_layout=True)
    for ax, (col, label) in zip(axes.flat, HEADLINE.items(), strict=True):
        low, high = REFERENCE_RANGES[col]
        ax.axhspan(low, high, color="tab:green", alpha=0.12, label="reference range")
        ax.plot(t, frame[col], color="tab:blue", lw=0.6 if on_dialysis else 1.5, alpha=0.35 if on_dialysis else 1,
                label="continuous" if on_dialysis else None)
        pre = f"pre_{col}"
        if on_dialysis and pre in sessions:
            ax.plot(sessions["start_day"] / scale, sessions[pre], ".", color="tab:red", ms=3, label="pre-dialysis")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("time (years)" if years else "time (days)")
    axes[0, 0].legend(loc="best", fontsize=8)
    # a '$' in a scenario's description is text, not mathtext
    fig.suptitle("\n".join(textwrap.wrap(title, 110)), parse_math=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)


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


def markers(scenario: Scenario) -> list[tuple[float, str]]:
    """(day, label) for every event inside the reported run (t >= 0)."""
    from ckdmbd.protocol import event_start_h

    return [(event_start_h(ev) / units.HOURS_PER_DAY, event_label(ev)) for ev in scenario.events
            if event_start_h(ev) >= 0.0]


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
            "model": f"{model:.3g} {obs.unit} ({how})",
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
              "pre-dialysis Ca (mmol/L)": f"{r['pre_calcium_mmol_L']:.2f}",
              "pre-dialysis P (mmol/L)": f"{r['pre_phosphate_mmol_L']:.2f}",
              "pre-dialysis PTH (pmol/L)": f"{r['pre_pth_pmol_L']:.1f}"} for r in rows]
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
    page = html_report(frame, title=f"{scenario.name} ({scenario.configuration} configuration)",
                       description=scenario.description, sessions=sessions if len(sessions) else None,
                       markers=markers(scenario), case_values=comparison or None,
                       notes=MODEL_NOTES if comparison else [MODEL_NOTES[-1]], citations=result.citations,
                       tables=tables)
    return summary, {
        "report.html": lambda p: p.write_text(page, encoding="utf-8"),
        "timeseries.csv": lambda p: frame.to_csv(p, index=False, float_format="%.9g"),
        "summary.json": lambda p: p.write_text(json.dumps(summary, indent=2) + "\n"),
    } | ({"sessions.csv": lambda p: sessions.to_csv(p, index=False, float_format="%.6g")} if len(sessions) else {}) \
      | ({"overview.png": lambda p: overview_plot(frame, f"{scenario.name}: {scenario.description}", p, sessions)}
         if png else {})
