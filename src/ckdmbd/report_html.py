"""A self-contained interactive HTML report of a run: plotly panels, a table of case values, notes, citations.

The page embeds plotly.js once, inline, and carries a Content-Security-Policy that forbids every network request,
so it opens offline and never fetches anything. All text (title, description, marker labels, table cells,
notes, citations) is HTML-escaped: it may come from user files.

Long runs are thinned for plotting (at most ``MAX_POINTS`` points per trace, keeping each bucket's minimum and
maximum so the swings of every dialysis session stay visible); pre-dialysis values are plotted exactly.
"""

from __future__ import annotations

import html
import itertools
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ckdmbd import __version__, units

MAX_POINTS = 4000
"""Most points of one plotted trace; longer series are reduced to per-bucket minima and maxima."""

CAP_MMOL2_TO_MG2 = 12.41
"""1 mmol²/L² of calcium x phosphate = 12.41 mg²/dL² (calcium 4.008 mg/dL per mmol/L x phosphorus 3.097)."""

PTH_UPPER_LIMIT = 6.1  # pmol/L, upper limit of the laboratory's intact PTH range


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    name: str
    color: str = "rgba(44, 160, 44, 0.14)"
    dialysis_only: bool = False  # a treatment target for patients on dialysis, not a reference range


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    unit: str
    column: str  # a column of the time series, or "calcium_x_phosphate" (computed)
    bands: tuple[Band, ...] = ()
    caption: str = ""
    hover_extra: str = ""  # hovertemplate fragment using %{customdata}
    extra_factor: float | None = None  # customdata = y * extra_factor


_TARGET = "rgba(31, 119, 180, 0.08)"

PANELS: tuple[Panel, ...] = (
    Panel("calcium", "Total calcium", "mmol/L", "calcium_mmol_L",
          (Band(2.10, 2.60, "reference 2.10–2.60 mmol/L"),),
          "Shaded: adult reference range 2.10–2.60 mmol/L."),
    Panel("ionized-calcium", "Ionized calcium", "mmol/L", "ionized_calcium_mmol_L",
          (Band(1.10, 1.35, "assumed reference 1.10–1.35 mmol/L"),),
          "Shaded: 1.10–1.35 mmol/L, an assumed laboratory range (ionized calcium intervals vary between "
          "laboratories and analysers)."),
    Panel("phosphate", "Phosphate", "mmol/L", "phosphate_mmol_L",
          (Band(0.87, 1.45, "reference 0.87–1.45 mmol/L"),),
          "Shaded: adult reference range 0.87–1.45 mmol/L."),
    Panel("pth", "Intact PTH", "pmol/L", "pth_pmol_L",
          (Band(1.5, PTH_UPPER_LIMIT, "reference 1.5–6.1 pmol/L"),
           Band(2 * PTH_UPPER_LIMIT, 9 * PTH_UPPER_LIMIT, "KDIGO dialysis target 2–9 × ULN (12.2–54.9 pmol/L)",
                _TARGET, dialysis_only=True)),
          "Green: reference range 1.5–6.1 pmol/L; light blue (runs with dialysis only): the KDIGO target for "
          "patients on dialysis, 2 to 9 times the upper limit of normal (12.2–54.9 pmol/L).",
          "<br>%{customdata:.0f} pg/mL", units.INTACT_PTH_G_PER_MOL / 1000.0),
    Panel("cap", "Calcium × phosphate product", "mmol²/L²", "calcium_x_phosphate",
          (Band(0.0, 4.4, "KDOQI: below 4.4 mmol²/L² (55 mg²/dL²)"),),
          "Total calcium × phosphate, computed from the two concentrations; shaded: below 4.4 mmol²/L² "
          "(55 mg²/dL², KDOQI). 1 mmol²/L² = 12.41 mg²/dL² (shown on hover).",
          "<br>%{customdata:.1f} mg²/dL²", CAP_MMOL2_TO_MG2),
    Panel("deposit", "Calcified deposit diameter", "cm", "deposit_diameter_cm", (),
          "Diameter of a sphere holding the model's deposited calcium phosphate."),
    Panel("t50", "Serum calcification propensity (T50-like)", "min", "calcification_propensity_t50_min", (),
          "Model readout of the T50 test (Pasch 2012; lower: faster calcification), from phosphate, ionised calcium "
          "and fetuin-A; calibrated to haemodialysis patients (about 280 min, BMC Nephrol 2023)."),
    Panel("calcitriol", "Calcitriol", "pmol/L", "calcitriol_pmol_L",
          (Band(48.0, 190.0, "assumed reference 48–190 pmol/L"),),
          "Shaded: 48–190 pmol/L (20–79 pg/mL), an assumed common adult interval.",
          "<br>%{customdata:.1f} pg/mL", units.CALCITRIOL_G_PER_MOL / 1000.0),
    Panel("fgf23", "FGF23", "pg/mL", "fgf23_pg_mL", (),
          "No reference band: FGF23 intervals depend on the assay."),
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def downsample(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points of (x, y): the first, the last and each bucket's minimum and maximum, in
    order, so that peaks and troughs (the swings of a dialysis session) survive the thinning."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if n <= max_points:
        return x, y
    buckets = max(1, (max_points - 2) // 2)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    low = np.where(np.isnan(y), np.inf, y)
    high = np.where(np.isnan(y), -np.inf, y)
    keep = [0, n - 1]
    for a, b in itertools.pairwise(edges):
        if b > a:
            keep.append(a + int(np.argmin(low[a:b])))
            keep.append(a + int(np.argmax(high[a:b])))
    idx = np.unique(keep)
    return x[idx], y[idx]


def _series(frame: pd.DataFrame, column: str) -> np.ndarray | None:
    if column == "calcium_x_phosphate":
        if "calcium_mmol_L" in frame and "phosphate_mmol_L" in frame:
            return frame["calcium_mmol_L"].to_numpy(float) * frame["phosphate_mmol_L"].to_numpy(float)
        return None
    return frame[column].to_numpy(float) if column in frame else None


def _pre_dialysis(sessions: pd.DataFrame, column: str) -> np.ndarray | None:
    if column == "calcium_x_phosphate":
        if "pre_calcium_mmol_L" in sessions and "pre_phosphate_mmol_L" in sessions:
            return sessions["pre_calcium_mmol_L"].to_numpy(float) * sessions["pre_phosphate_mmol_L"].to_numpy(float)
        return None
    pre = f"pre_{column}"
    return sessions[pre].to_numpy(float) if pre in sessions else None


def _marker_rows(positions: list[float], labels: list[str]) -> list[int]:
    """A row (0 = nearest the plot) for each marker label so that labels do not overlap; ``positions`` are
    fractions of the plot width, label widths estimated at ~6.5 px a character on a ~1100 px plot."""
    ends: list[float] = []  # right end of the last label in each row
    rows = []
    for pos, label in zip(positions, labels, strict=True):
        width = (len(label) * 6.5 + 12) / 1100
        start = min(pos, 1 - width)
        for r, end in enumerate(ends):
            if start > end:
                ends[r] = start + width
                rows.append(r)
                break
        else:
            ends.append(start + width)
            rows.append(len(ends) - 1)
    return rows


def _figure_json(panel: Panel, t: np.ndarray, y: np.ndarray, scale: float, x_title: str, dialysis: bool,
                 pre: tuple[np.ndarray, np.ndarray] | None, markers: list[tuple[float, str]],
                 spread: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    x_hover = "year %{x:.2f}" if scale != 1.0 else "day %{x:.2f}"
    xs, ys = downsample(t / scale, y)
    # 4 significant digits in decimal notation (d3's "r"; "~" trims trailing zeros): 2.4, 1.153, 12350
    template = f"{x_hover}<br>%{{y:.4~r}} {panel.unit}{panel.hover_extra}<extra>%{{fullData.name}}</extra>"

    def trace(x, yv, **kw):
        out = {"type": "scatter", "x": np.asarray(x, np.float32), "y": np.asarray(yv, np.float32),
               "hovertemplate": template}
        if panel.extra_factor is not None:
            out["customdata"] = np.asarray(yv * panel.extra_factor, np.float32)
        return out | kw

    faint = dialysis and pre is not None  # the pre-dialysis dots carry the message; the swings are context
    traces = []
    if spread is not None:  # a forecast's 5-95 % band from the parameter uncertainty, under the median
        xl, yl = downsample(t / scale, spread[0])
        xh, yh = downsample(t / scale, spread[1])
        traces += [trace(xl, yl, mode="lines", name="5th percentile", line={"width": 0, "color": "#9ecae1"},
                         showlegend=False),
                   trace(xh, yh, mode="lines", name="5-95 % (parameter uncertainty)", fill="tonexty",
                         fillcolor="rgba(31, 119, 180, 0.2)", line={"width": 0, "color": "#9ecae1"})]
    traces.append(trace(xs, ys, mode="lines", name="model (continuous)" if dialysis else "model",
                        line={"color": "#1f77b4", "width": 0.8 if faint else 1.5}, opacity=0.45 if faint else 1.0))
    if pre is not None:
        traces.append(trace(pre[0] / scale, pre[1], mode="markers", name="pre-dialysis",
                            marker={"color": "#d62728", "size": 4}))
    shapes, annotations = [], []
    for band in panel.bands:
        if band.dialysis_only and not dialysis:
            continue
        shapes.append({"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": band.low,
                       "y1": band.high, "fillcolor": band.color, "line": {"width": 0}, "layer": "below",
                       "showlegend": True, "name": _e(band.name)})
    # the same explicit time range on every panel (autorange pads marker traces, not line traces), so that the
    # panels' time axes line up; it spans the markers too
    x0 = min([float(xs[0]), *(day / scale for day, _ in markers)])
    x1 = max([float(xs[-1]), *(day / scale for day, _ in markers)])
    span = (x1 - x0) or 1.0
    ordered = sorted(markers, key=lambda m: m[0])
    labels = [_e(label) for _, label in ordered]
    rows = _marker_rows([(day / scale - x0) / span for day, _ in ordered], [label for _, label in ordered])
    for (day, _), label, row in zip(ordered, labels, rows, strict=True):
        xm = day / scale
        shapes.append({"type": "line", "xref": "x", "x0": xm, "x1": xm, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": "#444", "width": 1.2, "dash": "dash"}})
        right = (xm - x0) / span > 0.7
        annotations.append({"x": xm, "xref": "x", "y": 1, "yref": "paper", "yanchor": "bottom",
                            "xanchor": "right" if right else "left", "yshift": 2 + 15 * row, "text": label,
                            "showarrow": False, "font": {"size": 11, "color": "#333"},
                            "bgcolor": "rgba(255,255,255,0.85)"})
    top = 16 + 15 * (max(rows) + 1 if rows else 0)
    layout = {
        "height": 350 + top - 16,
        "margin": {"l": 70, "r": 20, "t": top, "b": 80},
        "xaxis": {"title": {"text": x_title}, "showgrid": True, "zeroline": False,
                  "range": [x0 - 0.01 * span, x1 + 0.01 * span]},
        "yaxis": {"title": {"text": f"{_e(panel.title)} ({panel.unit})"}, "zeroline": False},
        "shapes": shapes,
        "annotations": annotations,
        "hovermode": "closest",
        # below the plot, so that every panel's plot area has the same width and the time axes line up
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.3, "yanchor": "top", "font": {"size": 11}},
        "template": "plotly_white",
        "autosize": True,
    }
    if panel.key == "cap":
        layout["yaxis"]["rangemode"] = "tozero"
    return {"data": traces, "layout": layout}


_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
        "font-src data:")

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #222; }
main { max-width: 1300px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin: 1.6em 0 0.2em; border-bottom: 1px solid #ddd; padding-bottom: 2px; }
h3 { font-size: 1.0em; margin: 1.2em 0 0; }
p.description { font-size: 1.05em; color: #333; }
p.caption { font-size: 0.85em; color: #555; margin: 0 0 0.8em; }
p.legend-note { font-size: 0.9em; color: #444; }
.panel { width: 100%; }
table.case { border-collapse: collapse; font-size: 0.92em; }
table.case th, table.case td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; vertical-align: top; }
table.case th { background: #f3f3f3; }
footer { margin-top: 2em; font-size: 0.8em; color: #777; }
"""

# Zooming or panning the time axis of one panel does the same to every other panel.
_SYNC_JS = """
(function () {
  var ids = __PANEL_IDS__;
  function same(a, b) { return a && b && Math.abs(a[0] - b[0]) < 1e-9 && Math.abs(a[1] - b[1]) < 1e-9; }
  window.addEventListener("load", function () {
    ids.forEach(function (id) {
      var gd = document.getElementById(id);
      if (!gd || !gd.on) { return; }
      gd.on("plotly_relayout", function (ev) {
        var touched = Object.keys(ev).some(function (k) {
          return k.indexOf("xaxis.range") === 0 || k === "xaxis.autorange";
        });
        if (!touched || !gd.layout.xaxis.range) { return; }
        var range = gd.layout.xaxis.range.slice();  // the range the panel ended up with (also after a reset)
        ids.forEach(function (other) {
          var od = document.getElementById(other);
          if (other !== id && od && od.layout && !same(od.layout.xaxis.range, range)) {
            Plotly.relayout(od, {"xaxis.range": range.slice()});
          }
        });
      });
    });
  });
})();
"""


def html_report(frame: pd.DataFrame, *, title: str, description: str, sessions: pd.DataFrame | None,
                markers: list[tuple[float, str]], case_values: list[dict] | None = None,
                notes: list[str] | None = None, citations: list[str] | None = None,
                tables: list[tuple[str, str, list[dict]]] | None = None) -> str:
    """Return a self-contained HTML document (no network access needed to view it).

    ``frame``: the run's time series (``time_days`` and the clinical columns; a forecast adds ``<column>_p05`` and
    ``<column>_p95``, drawn as a band); ``sessions``: one row per dialysis
    session (``start_day``, ``pre_*`` columns) or None; ``markers``: (time in days, label) drawn as a vertical line
    on every panel; ``case_values``: table rows such as ``{"quantity": ..., "reported": ..., "model": ...,
    "note": ...}``; ``notes``: paragraphs; ``citations``: references; ``tables``: further tables as (title,
    caption, rows), shown after the case values. Every text is escaped."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    t = frame["time_days"].to_numpy(float)
    years = len(t) > 0 and t[-1] > 2 * units.DAYS_PER_YEAR
    scale = units.DAYS_PER_YEAR if years else 1.0
    x_title = "time (years)" if years else "time (days)"
    dialysis = sessions is not None and len(sessions) > 0 and "start_day" in sessions
    on_dialysis = dialysis or ("on_dialysis" in frame and bool((frame["on_dialysis"] > 0).any()))
    markers = [(float(day), str(label)) for day, label in markers]

    sections, ids = [], []
    for panel in PANELS:
        y = _series(frame, panel.column)
        if y is None:
            continue
        pre = None
        if dialysis:
            values = _pre_dialysis(sessions, panel.column)
            if values is not None:
                pre = (sessions["start_day"].to_numpy(float), values)
        spread = None
        if f"{panel.column}_p05" in frame and f"{panel.column}_p95" in frame:
            spread = (frame[f"{panel.column}_p05"].to_numpy(float), frame[f"{panel.column}_p95"].to_numpy(float))
        fig = _figure_json(panel, t, y, scale, x_title, on_dialysis, pre, markers, spread)
        div_id = f"panel-{panel.key}"
        ids.append(div_id)
        config = {"displaylogo": False, "responsive": True, "showLink": False,
                  "toImageButtonOptions": {"format": "png", "filename": div_id, "scale": 2}}
        div = pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id, config=config,
                          default_height=f"{fig['layout']['height']}px", validate=True)
        sections.append(f'<section class="panel-section">\n<h3>{_e(panel.title)} ({_e(panel.unit)})</h3>\n'
                        f'<div class="panel">{div}</div>\n<p class="caption">{_e(panel.caption)}</p>\n</section>')

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>",
        f"<script>{get_plotlyjs()}</script>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="description">{_e(description)}</p>',
    ]
    if dialysis:
        parts.append('<p class="legend-note">On dialysis the continuous model trace swings with every session; it '
                     'is drawn thin, and the pre-dialysis values (blood drawn just before a session, as a clinic '
                     'sees them) are drawn as red dots.</p>')
    if markers:
        items = "".join(f"<li>{_e(_format_time(day, scale))}: {_e(label)}</li>" for day, label in sorted(markers))
        parts.append(f'<p class="legend-note">Dashed vertical lines mark events:</p><ul class="markers">{items}</ul>')
    if len(t) > MAX_POINTS:
        parts.append(f'<p class="legend-note">The continuous traces are thinned for plotting to at most '
                     f'{MAX_POINTS} points each (the minimum and maximum of every interval are kept).</p>')
    parts.append("<h2>Time courses</h2>")
    parts.extend(sections)
    if case_values:
        parts.append(_case_table(case_values))
    for k, (table_title, caption, rows) in enumerate(tables or []):
        parts.append(_table(table_title, caption, rows, f"table-{k}"))
    if notes:
        parts.append("<h2>Notes</h2>")
        parts.extend(f"<p>{_e(note)}</p>" for note in notes)
    if citations:
        parts.append("<h2>References</h2>")
        parts.append("<ol class=\"citations\">" + "".join(f"<li>{_e(c)}</li>" for c in citations) + "</ol>")
    parts.append(f"<footer>ckdmbd {_e(__version__)}: a model, not a patient; not for clinical decisions."
                 f"</footer>")
    parts.append("</main>")
    parts.append(f"<script>{_SYNC_JS.replace('__PANEL_IDS__', json.dumps(ids))}</script>")
    parts.append("</body>")
    parts.append("</html>")
    return "\n".join(parts) + "\n"


def _format_time(day: float, scale: float) -> str:
    if scale != 1.0:
        return f"year {day / scale:.2f} (day {day:.0f})"
    return f"day {day:g}"


CASE_COLUMNS = ("quantity", "reported", "model", "note")


def _case_table(rows: list[dict]) -> str:
    columns = [c for c in CASE_COLUMNS if any(c in r for r in rows)]
    for r in rows:  # further keys in the order they first appear
        columns.extend(c for c in r if c not in columns)
    head = "".join(f"<th>{_e(str(c).replace('_', ' ').capitalize())}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows)
    return (f'<h2>Case values</h2>\n<table class="case" id="case-values"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _table(title: str, caption: str, rows: list[dict], table_id: str) -> str:
    """A titled table; columns in the order the rows' keys first appear."""
    columns: list[str] = []
    for r in rows:
        columns.extend(c for c in r if c not in columns)
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows)
    return (f'<h2>{_e(title)}</h2>\n<p class="caption">{_e(caption)}</p>\n<table class="case" id="{_e(table_id)}">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
