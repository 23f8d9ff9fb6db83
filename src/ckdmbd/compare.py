"""Scenario comparison (``ckdmbd compare A B [C ...] --out DIR``, issue 14): the runs overlaid in one page.

The seed case against its what-ifs (adherent, 4x weekly, early graft excision) answers "what would have happened"
on one chart instead of three reports. On dialysis each scenario is drawn as its pre-dialysis values (what a
clinic measures; three runs' session swings overlaid would hide each other), otherwise as its continuous course;
the deposit always as its continuous diameter. A table gives the outcomes at chosen times (by default the times
of the first scenario's reported values, for the seed case presentation at 18 months, and the end of the runs):
pre-dialysis phosphate, calcium and PTH (the mean of the sessions of the 4 weeks up to that time) and the deposit.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ckdmbd import __version__, units
from ckdmbd.report_html import (
    _CSP,
    _CSS,
    _SYNC_JS,
    _UNITS_JS,
    PANELS,
    Panel,
    _hover,
    _marker_rows,
    _unit_views,
    downsample,
    group_markers,
    is_empty,
    plotly_js,
)
from ckdmbd.scenario import Scenario
from ckdmbd.variables import clinic, label, variable

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
OUTCOME_COLUMNS = ("phosphate_mmol_L", "calcium_mmol_L", "pth_pmol_L")
WINDOW_DAYS = 28.0  # pre-dialysis values: the mean of the sessions of the 4 weeks up to the time


@dataclass
class Run:
    """One scenario's run: its scenario, time series and sessions table (empty off dialysis)."""

    scenario: Scenario
    frame: pd.DataFrame
    sessions: pd.DataFrame


def simulate_runs(scenarios: list[Scenario], progress=None) -> list[Run]:
    """Run every scenario (``progress(name)`` before each)."""
    from ckdmbd.scenario import run_scenario
    from ckdmbd.sessions import session_table

    runs = []
    for sc in scenarios:
        if progress is not None:
            progress(sc.name)
        frame = run_scenario(sc).to_frame()
        runs.append(Run(sc, frame, session_table(frame, sc.events)))
    return runs


def default_times(runs: list[Run]) -> list[float]:
    """Outcome times in days: those of the first scenario's reported values, and the end of the shortest run."""
    observed = sorted({o.time_h / units.HOURS_PER_DAY for o in runs[0].scenario.observations})
    end = min(float(r.frame["time_days"].iloc[-1]) for r in runs)
    return [t for t in observed if t <= end] + [end]


def _value_at(run: Run, column: str, day: float) -> tuple[float, str]:
    """The value a clinic would have at ``day``: on dialysis the mean pre-dialysis value of the sessions in the 4
    weeks up to it, else the model's value at that time."""
    s = run.sessions
    pre = f"pre_{column}"
    if len(s) and pre in s:
        near = s[(s["start_day"] <= day + 1e-9) & (s["start_day"] > day - WINDOW_DAYS)]
        if len(near):
            return float(near[pre].mean()), pre
    t = run.frame["time_days"].to_numpy()
    i = int(np.argmin(np.abs(t - day)))
    return float(run.frame[column].iloc[i]), column


def outcomes(runs: list[Run], times_days: list[float]) -> pd.DataFrame:
    """One row per scenario and time: pre-dialysis (or plain) phosphate, calcium and PTH, the deposit diameter and
    its largest size so far, in the time series' units (columns named like the CSV's, ``pre_`` on dialysis)."""
    rows = []
    for run in runs:
        for day in times_days:
            row: dict[str, object] = {"scenario": run.scenario.name, "day": day}
            for col in OUTCOME_COLUMNS:
                value, name = _value_at(run, col, day)
                row[name] = value
            if "deposit_diameter_cm" in run.frame:
                t = run.frame["time_days"].to_numpy()
                i = int(np.argmin(np.abs(t - day)))
                deposit = run.frame["deposit_diameter_cm"].to_numpy()
                row["deposit_diameter_cm"] = float(deposit[i])
                row["max_deposit_diameter_cm"] = float(np.max(deposit[: i + 1]))
            rows.append(row)
    return pd.DataFrame(rows)


def _time_text(day: float) -> str:
    months = day / units.DAYS_PER_MONTH
    return f"day {day:.0f} ({months:.1f} months)"


def outcome_table_html(table: pd.DataFrame) -> str:
    """The outcomes as an HTML table; values as a clinic writes them, switching with the page's unit switch."""
    value_columns = [c for c in table.columns if c not in ("scenario", "day")]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ("Scenario", "Time"))
    for col in value_columns:
        name = "Largest deposit so far (cm)" if col == "max_deposit_diameter_cm" else label(col)
        head += f"<th>{html.escape(name)}</th>"
    body = []
    for _, row in table.iterrows():
        cells = [f"<td>{html.escape(str(row['scenario']))}</td>", f"<td>{html.escape(_time_text(row['day']))}</td>"]
        for col in value_columns:
            value = row[col]
            key = "deposit_diameter_cm" if col == "max_deposit_diameter_cm" else col
            if value is None or (isinstance(value, float) and math.isnan(value)):
                cells.append("<td></td>")
                continue
            si = clinic(key, float(value))
            v = variable(key)
            if v is not None and v.conventional_unit is not None:
                conv = clinic(key, float(value), with_unit=True, conventional=True)
                cells.append(f'<td data-si="{html.escape(si)}" data-conventional="{html.escape(conv)}">'
                             f"{html.escape(si)}</td>")
            else:
                cells.append(f"<td>{html.escape(si)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<h2>Outcomes</h2>\n<p class="caption">On dialysis: the mean pre-dialysis value of the sessions in the '
            f'{WINDOW_DAYS:.0f} days up to each time; the deposit at that time and its largest size so far. '
            f'SI units in the headings; the unit switch shows conventional units in the cells.</p>\n'
            f'<table class="case" id="outcomes"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def _series(run: Run, panel: Panel) -> tuple[np.ndarray, np.ndarray, str] | None:
    """What a panel draws for one run: pre-dialysis values on dialysis (``markers+lines``), else the course."""
    from ckdmbd.report_html import _pre_dialysis
    from ckdmbd.report_html import _series as frame_series

    if len(run.sessions) and panel.key != "deposit":
        pre = _pre_dialysis(run.sessions, panel.column)
        if pre is not None:
            return run.sessions["start_day"].to_numpy(float), pre, "pre-dialysis"
    y = frame_series(run.frame, panel.column)
    if y is None:
        return None
    return run.frame["time_days"].to_numpy(float), y, "course"


def compare_html(runs: list[Run], table: pd.DataFrame, title: str) -> str:
    """One self-contained page: each panel with every run overlaid, the events, the outcome table."""
    import plotly.io as pio

    days = np.concatenate([r.frame["time_days"].to_numpy(float) for r in runs])
    years = days.max() - min(days.min(), 0.0) > 2 * units.DAYS_PER_YEAR
    scale = units.DAYS_PER_YEAR if years else 1.0
    x_title = "time (years)" if years else "time (days)"
    x_hover = "year %{x:.2f}" if years else "day %{x:.2f}"
    from ckdmbd.report import markers as scenario_markers

    labelled: dict[tuple[float, str], list[str]] = {}
    for run in runs:
        for day, text in scenario_markers(run.scenario):
            labelled.setdefault((round(day, 6), text), []).append(run.scenario.name)
    marks = [(day, text if len(names) == len(runs) else f"{text} ({', '.join(names)})")
             for (day, text), names in labelled.items()]
    groups = group_markers(marks)
    x0, x1 = float(days.min()) / scale, float(days.max()) / scale
    span = (x1 - x0) or 1.0
    rows = _marker_rows([(m.day / scale - x0) / span for m in groups], [str(m.number) for m in groups])
    dialysis = any(len(r.sessions) for r in runs)
    sections, ids = [], []
    for panel in PANELS:
        traces = []
        for k, run in enumerate(runs):
            got = _series(run, panel)
            if got is None or is_empty(got[1]):
                continue
            x, y, kind = got
            xs, ys = downsample(x / scale, y)
            colour = COLOURS[k % len(COLOURS)]
            traces.append({"type": "scatter", "x": np.asarray(xs, np.float32), "y": np.asarray(ys, np.float32),
                           "mode": "lines+markers" if kind == "pre-dialysis" else "lines",
                           "name": html.escape(run.scenario.name + (" (pre-dialysis)" if kind == "pre-dialysis"
                                                                   else "")),
                           "line": {"color": colour, "width": 1.6}, "marker": {"size": 3, "color": colour},
                           "hovertemplate": _hover(x_hover, panel.unit)})
        if not traces:
            continue
        bands = [b for b in panel.bands if dialysis or not b.dialysis_only]
        shapes = [{"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": b.low, "y1": b.high,
                   "fillcolor": b.color, "line": {"width": 0}, "layer": "below", "showlegend": True,
                   "name": html.escape(b.name)} for b in bands]
        annotations = []
        for m, row in zip(groups, rows, strict=True):
            shapes.append({"type": "line", "xref": "x", "x0": m.day / scale, "x1": m.day / scale, "yref": "paper",
                           "y0": 0, "y1": 1, "line": {"color": "#444", "width": 1.0, "dash": "dash"}})
            annotations.append({"x": m.day / scale, "xref": "x", "y": 1, "yref": "paper", "yanchor": "bottom",
                                "yshift": 2 + 17 * row, "text": f"<b>{m.number}</b>", "showarrow": False,
                                "hovertext": html.escape(f"{m.number}: {m.text}"), "font": {"size": 11},
                                "bordercolor": "#999", "borderwidth": 1, "bgcolor": "rgba(255,255,255,0.9)"})
        top = 18 + 17 * (max(rows) + 1 if rows else 0)
        yaxis: dict = {"title": {"text": f"{html.escape(panel.title)} ({html.escape(panel.unit)})"}}
        if panel.log:
            from ckdmbd.report_html import _log_range

            yaxis |= {"type": "log", "dtick": 1, "range": _log_range([t["y"] for t in traces]
                                                                     + [np.array([b.low for b in bands])])}
        layout = {"height": 330 + top - 18, "margin": {"l": 70, "r": 20, "t": top, "b": 80},
                  "xaxis": {"title": {"text": x_title}, "range": [x0 - 0.01 * span, x1 + 0.01 * span]},
                  "yaxis": yaxis, "shapes": shapes, "annotations": annotations, "hovermode": "x unified",
                  "legend": {"orientation": "h", "x": 0, "y": -0.3, "yanchor": "top", "font": {"size": 11}},
                  "template": "plotly_white", "autosize": True}
        layout["meta"] = _unit_views(panel, bands, layout, [t["hovertemplate"] for t in traces], x_hover)
        div_id = f"panel-{panel.key}"
        ids.append(div_id)
        div = pio.to_html({"data": traces, "layout": layout}, include_plotlyjs=False, full_html=False,
                          div_id=div_id, config={"displaylogo": False, "responsive": True},
                          default_height=f"{layout['height']}px", validate=True)
        sections.append(f'<section class="panel-section">\n<h3 id="{div_id}-heading">{html.escape(panel.title)} '
                        f'({html.escape(panel.unit)})</h3>\n<div class="panel">{div}</div>\n</section>')
    described = "".join(f"<li><b>{html.escape(r.scenario.name)}</b>: {html.escape(r.scenario.description)}</li>"
                        for r in runs)
    events = "".join(f'<li value="{m.number}">{html.escape(_time_text(m.day))}: {html.escape(m.text)}</li>'
                     for m in groups)
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title>", f"<style>{_CSS}</style>",
             f"<script>{plotly_js()}</script>", "</head>", '<body data-units="si">', "<main>",
             f"<h1>{html.escape(title)}</h1>", f'<ul class="scenarios">{described}</ul>',
             '<div class="units" id="units">Units: '
             '<label><input type="radio" name="units" value="si" checked> SI (mmol/L, pmol/L)</label>'
             '<label><input type="radio" name="units" value="conventional"> conventional (mg/dL, pg/mL)</label>'
             '</div>', outcome_table_html(table)]
    if dialysis:
        parts.append('<p class="legend-note">On dialysis each scenario is drawn as its pre-dialysis values (blood '
                     'drawn just before each session, as a clinic sees them).</p>')
    if groups:
        parts.append('<p class="legend-note">Numbered dashed lines mark the events (a scenario name in brackets: '
                     f'that scenario only):</p><ol class="markers" id="events">{events}</ol>')
    parts.append("<h2>Time courses</h2>")
    parts.extend(sections)
    parts.append(f"<footer>ckdmbd {html.escape(__version__)}: a model, not a patient; not for clinical decisions."
                 "</footer></main>")
    parts.append(f"<script>{_SYNC_JS.replace('__PANEL_IDS__', json.dumps(ids))}</script>")
    parts.append(f"<script>{_UNITS_JS.replace('__PANEL_IDS__', json.dumps(ids))}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
