"""The HTML page of a virtual population (issue 12): how its pre-dialysis phosphate, calcium and PTH are distributed,
how many patients meet the KDIGO 2017 targets, how many grow a soft-tissue deposit, how the percentiles move over
time, and which patients failed.

Every number on the page is computed from the population's own tables (:class:`ckdmbd.population.PopulationResult`)
by :func:`attainment`, which tests use too. Targets, for pre-dialysis values on haemodialysis (each patient's mean
over the last 4 weeks of sessions, because KDIGO asks to judge trends rather than single values):

- phosphate at or below the upper normal limit (KDIGO 2017 4.1.3: "lowering elevated phosphate towards the normal
  range"), 1.45 mmol/L (the default reference range of :mod:`ckdmbd.labs.analytes`);
- calcium within the normal range, 2.10-2.60 mmol/L (4.1.4: avoid hypercalcaemia);
- intact PTH within 2-9 x the upper normal limit (4.2.1), 12.2-54.9 pmol/L with the default upper limit 6.1;
- all three at once.

The page is self-contained: plotly.js inline once, a Content-Security-Policy that forbids network requests.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ckdmbd.labs.analytes import ANALYTES
from ckdmbd.labs.checks import KDIGO_PTH_ULN_MULTIPLES

# A deposit heavier than this counts as one. assumed: 0.01 g (10 mg), the upper edge of the "no deposit (0 g)" band of
# validation case no-calcification-site (validation/cases/no-calcification-site.toml, Steinbach1995: no deposit
# without a predisposed site), so a numerical trace is not counted; the seed case grows more than 10 g (test_app).
DEPOSIT_THRESHOLD_G = 0.01
LAST_DAYS = 28.0
_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
_CSS = ("body{font-family:system-ui,sans-serif;margin:0;background:#fafafa;color:#222}main{max-width:1100px;"
        "margin:auto;padding:1em 2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:.3em .6em;text-align:right}th:first-child,td:first-child{text-align:left}.grid{display:grid;"
        "grid-template-columns:repeat(2,minmax(0,1fr));gap:1em}.plot{min-width:0}footer{color:#666;margin:2em 0}")


@dataclass(frozen=True)
class Target:
    """A KDIGO target on one pre-dialysis quantity (mmol/L or pmol/L), with the page's label."""

    column: str
    label: str
    unit: str
    low: float | None
    high: float | None

    def met(self, values: pd.Series) -> pd.Series:
        ok = pd.Series(True, index=values.index)
        if self.low is not None:
            ok &= values >= self.low
        if self.high is not None:
            ok &= values <= self.high
        return ok & values.notna()


def targets() -> tuple[Target, ...]:
    """The KDIGO 2017 targets on haemodialysis, with the default reference ranges (labs/analytes.py)."""
    p_high = ANALYTES["phosphate"].reference.high
    ca = ANALYTES["calcium"].reference
    pth_uln = ANALYTES["pth"].reference.high
    lo, hi = (m * pth_uln for m in KDIGO_PTH_ULN_MULTIPLES)
    return (
        Target("pre_phosphate_mmol_L", "phosphate", "mmol/L", None, p_high),
        Target("pre_calcium_mmol_L", "calcium", "mmol/L", ca.low, ca.high),
        Target("pre_pth_pmol_L", "intact PTH", "pmol/L", lo, hi),
    )


def patient_means(sessions: pd.DataFrame, last_days: float = LAST_DAYS) -> pd.DataFrame:
    """Each patient's mean pre-dialysis values over the sessions of the last ``last_days`` of the run."""
    if sessions.empty:
        return pd.DataFrame()
    end = sessions.groupby("patient")["start_day"].transform("max")
    return sessions[sessions["start_day"] >= end - last_days].groupby("patient").mean(numeric_only=True)


def attainment(patients: pd.DataFrame, sessions: pd.DataFrame) -> pd.DataFrame:
    """Share of the simulated patients meeting each target (and all three), and with a deposit: one row each with
    the count, the number of patients it is out of and the percentage. Failed patients are not in the denominator
    (they are listed separately)."""
    ok = patients.loc[patients["status"] == "ok", "patient"]
    means = patient_means(sessions).reindex(ok)
    rows, every = [], pd.Series(True, index=means.index)
    for t in targets():
        if t.column not in means:
            continue
        met = t.met(means[t.column])
        every &= met
        bounds = (f"{t.low:g}-{t.high:g}" if t.low is not None else f"<= {t.high:g}")
        rows.append({"target": f"{t.label} {bounds} {t.unit}", "patients": int(met.sum()), "of": len(means)})
    rows.append({"target": "all three", "patients": int(every.sum()), "of": len(means)})
    if "deposit_mass_g" in sessions:
        heaviest = sessions.groupby("patient")["deposit_mass_g"].max().reindex(ok).fillna(0.0)
        rows.append({"target": f"soft-tissue deposit > {DEPOSIT_THRESHOLD_G:g} g at any session",
                     "patients": int((heaviest > DEPOSIT_THRESHOLD_G).sum()), "of": len(means)})
    table = pd.DataFrame(rows)
    table["percent"] = np.where(table["of"] > 0, 100.0 * table["patients"] / table["of"].clip(lower=1), np.nan)
    return table


def percentile_bands(sessions: pd.DataFrame, column: str, bin_days: float = 7.0) -> pd.DataFrame:
    """5th, 25th, 50th, 75th and 95th percentiles over patients of ``column``, per ``bin_days`` of sessions (bins
    with fewer than half the sessions of the fullest are left out)."""
    if sessions.empty or column not in sessions:
        return pd.DataFrame(columns=["day", "p05", "p25", "p50", "p75", "p95"])
    week = np.floor(sessions["start_day"] / bin_days) * bin_days
    grouped = sessions.assign(_bin=week).groupby("_bin")[column]
    counts = grouped.count()
    full = counts.index[counts >= 0.5 * counts.max()]  # a run's partial last week would fray the bands
    q = grouped.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack().loc[full]
    q.columns = ["p05", "p25", "p50", "p75", "p95"]
    return q.reset_index(names="day")


def _histogram(values: pd.Series, t: Target) -> dict:
    """Bars of a histogram computed here (numpy's bins over the data and the target's edges), so the axis always
    shows every patient and both target edges."""
    v = values.dropna().to_numpy(float)
    edges_of_target = [e for e in (t.low, t.high) if e is not None]
    lo = min([*v, *edges_of_target]) if len(v) else 0.0
    hi = max([*v, *edges_of_target]) if len(v) else 1.0
    pad = 0.05 * (hi - lo or 1.0)
    counts, edges = np.histogram(v, bins=min(30, max(5, len(v))), range=(lo - pad, hi + pad))
    centres, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    shapes = [{"type": "line", "x0": e, "x1": e, "yref": "paper", "y0": 0, "y1": 1,
               "line": {"color": "green", "dash": "dash"}} for e in edges_of_target]
    return {"data": [{"type": "bar", "x": centres.tolist(), "y": counts.tolist(), "width": widths.tolist(),
                      "name": t.label, "marker": {"color": "#4c78a8"},
                      "hovertemplate": "%{x:.3g}: %{y} patients<extra></extra>"}],
            "layout": {"height": 300, "margin": {"l": 50, "r": 10, "t": 30, "b": 45}, "template": "plotly_white",
                       "title": {"text": f"{t.label}: each patient's last-4-week mean", "font": {"size": 13}},
                       "xaxis": {"title": {"text": f"pre-dialysis {t.label} ({t.unit}); target dashed"},
                                 "range": [lo - pad, hi + pad]},
                       "yaxis": {"title": {"text": "patients"}}, "shapes": shapes, "showlegend": False,
                       "bargap": 0.05}}


def _bands(bands: pd.DataFrame, t: Target) -> dict:
    x = bands["day"].tolist()
    fill = []
    for lo, hi, alpha in (("p05", "p95", 0.18), ("p25", "p75", 0.35)):
        fill.append({"type": "scatter", "x": x, "y": bands[lo].tolist(), "mode": "lines", "line": {"width": 0},
                     "showlegend": False, "hoverinfo": "skip"})
        fill.append({"type": "scatter", "x": x, "y": bands[hi].tolist(), "mode": "lines", "line": {"width": 0},
                     "fill": "tonexty", "fillcolor": f"rgba(76,120,168,{alpha})",
                     "name": f"{lo[1:]}-{hi[1:]}th percentile"})
    fill.append({"type": "scatter", "x": x, "y": bands["p50"].tolist(), "mode": "lines", "name": "median",
                 "line": {"color": "#1f3b73"}})
    return {"data": fill,
            "layout": {"height": 300, "margin": {"l": 50, "r": 10, "t": 30, "b": 45}, "template": "plotly_white",
                       "title": {"text": f"{t.label} over time (weekly percentiles)", "font": {"size": 13}},
                       "xaxis": {"title": {"text": "day"}},
                       "yaxis": {"title": {"text": f"pre-dialysis {t.label} ({t.unit})"},
                                 "type": "log" if t.unit == "pmol/L" else "linear"},
                       "legend": {"orientation": "h", "y": -0.3}}}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def html_page(result, title: str | None = None) -> str:
    """The population's page (a :class:`ckdmbd.population.PopulationResult`)."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    from ckdmbd import __version__

    spec, patients, sessions = result.spec, result.patients, result.sessions
    title = title or f"Virtual population {spec.name}: {spec.size} patients"
    table = attainment(patients, sessions)
    means = patient_means(sessions)
    rows = "".join(f"<tr><td>{_e(r.target)}</td><td>{r.patients}</td><td>{r.of}</td>"
                   f"<td>{'' if np.isnan(r.percent) else f'{r.percent:.0f} %'}</td></tr>" for r in table.itertuples())
    summary_rows = []
    for t in targets():
        if t.column in means:
            v = means[t.column].dropna()
            if len(v):
                summary_rows.append(f"<tr><td>{_e(t.label)} ({_e(t.unit)})</td><td>{len(v)}</td>"
                                    f"<td>{np.percentile(v, 5):.3g}</td><td>{np.median(v):.3g}</td>"
                                    f"<td>{np.percentile(v, 95):.3g}</td></tr>")
    plots = []
    config = {"displaylogo": False, "responsive": True}
    for k, t in enumerate(targets()):
        if t.column not in means:
            continue
        for kind, fig in (("hist", _histogram(means[t.column], t)),
                          ("bands", _bands(percentile_bands(sessions, t.column), t))):
            div = pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=f"{kind}-{k}", config=config,
                              default_height="300px", default_width="100%", validate=True)
            plots.append(f'<div class="plot">{div}</div>')
    failures = patients[patients["status"] != "ok"]
    failure_list = ("<p>No patient failed.</p>" if failures.empty else
                    "<ul>" + "".join(f"<li>patient {r.patient}: {_e(r.message)}</li>"
                                     for r in failures.itertuples()) + "</ul>")
    sampled = ", ".join(f"{_e(d.parameter.name)} ({_e(d.kind)})" for d in spec.distributions)
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">', f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>", f"<script>{get_plotlyjs()}</script>", "</head>", "<body>", "<main>",
        f"<h1>{_e(title)}</h1>",
        f"<p>Base scenario {_e(spec.scenario.name)}, seed {spec.seed}, {len(patients) - len(failures)} of "
        f"{len(patients)} patients simulated; sampled per patient: {sampled or 'nothing'}.</p>",
        "<h2>Pre-dialysis values</h2><p>Each patient's mean over the sessions of the last 4 weeks.</p>",
        '<table id="summary"><thead><tr><th>quantity</th><th>patients</th><th>5th percentile</th><th>median</th>'
        f'<th>95th percentile</th></tr></thead><tbody>{"".join(summary_rows)}</tbody></table>',
        "<h2>KDIGO 2017 targets (CKD G5D) and deposits</h2>",
        '<table id="attainment"><thead><tr><th>target</th><th>patients</th><th>of</th><th>share</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>",
        '<div class="grid">', *plots, "</div>",
        f'<h2 id="failures">Failures ({len(failures)})</h2>', failure_list,
        f"<footer>ckdmbd {_e(__version__)}: a model, not a patient; not for clinical decisions.</footer>",
        "</main>", "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_page(result, path: Path) -> Path:
    """Write the page next to the tables (whole or not at all: a temporary file renamed into place)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html_page(result), encoding="utf-8")
    tmp.replace(path)
    return path
