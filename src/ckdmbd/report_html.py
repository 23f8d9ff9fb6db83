"""A self-contained interactive HTML report of a run: plotly panels, a table of case values, notes, citations.

The page embeds plotly.js once, inline (the basic bundle in ``ckdmbd/assets``: 1.1 MB instead of the full 4.9 MB),
and carries a Content-Security-Policy that forbids every network request, so it opens offline and never fetches
anything. All text (title, description, marker labels, table cells, notes, citations) is HTML-escaped: it may come
from user files.

What a nephrologist reads at a glance (issue 14): the reported values of the case drawn on the curves at their
times; every event a numbered dashed line (events on the same day share one number; the numbers are listed above
the plots, so labels never stack); PTH on a log axis (post-operative values of 0-4 pmol/L and pre-operative
hundreds on one chart); a switch between SI (mmol/L, pmol/L) and conventional units (mg/dL, pg/mL); axes that
include the observations; panels without anything to show left out.

Long runs are thinned for plotting (at most ``MAX_POINTS`` points per trace, keeping each bucket's minimum and
maximum so the swings of every dialysis session stay visible); pre-dialysis values are plotted exactly.
"""

from __future__ import annotations

import base64
import functools
import html
import itertools
import json
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from ckdmbd import __version__, units
from ckdmbd.variables import VARIABLES

MAX_POINTS = 1200
"""Most points of one plotted trace; longer series are reduced to per-bucket minima and maxima."""

CAP_MMOL2_TO_MG2 = 12.41
"""1 mmol²/L² of calcium x phosphate = 12.41 mg²/dL² (calcium 4.008 mg/dL per mmol/L x phosphorus 3.097)."""

PTH_UPPER_LIMIT = 6.1  # pmol/L, upper limit of the laboratory's intact PTH range
PTH_LOG_FLOOR = 0.05  # pmol/L: the log axis starts no lower (assays report "< 0.1")


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    name: str  # in SI units
    name_conventional: str = ""  # the same in conventional units ("" when the panel has none)
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
    conventional_unit: str | None = None  # mg/dL, pg/mL: the page's unit switch
    factor: float = 1.0  # conventional value per SI value
    log: bool = False
    observed: tuple[str, ...] = field(default=())  # observation columns drawn on this panel (default: column)

    def shows(self, column: str) -> bool:
        return column in (self.observed or (self.column,))


_TARGET = "rgba(31, 119, 180, 0.08)"
_CA = units.calcium_mg_dl(1.0)
_P = units.phosphate_mg_dl(1.0)
_PTH = units.pth_pg_ml(1.0)
_CTR = units.calcitriol_pg_ml(1.0)


def _title(column: str, fallback: str) -> str:
    v = VARIABLES.get(column)
    return v.name if v is not None else fallback


PANELS: tuple[Panel, ...] = (
    Panel("calcium", _title("calcium_mmol_L", "Total calcium"), "mmol/L", "calcium_mmol_L",
          (Band(2.10, 2.60, "reference 2.10–2.60 mmol/L", f"reference {2.10 * _CA:.1f}–{2.60 * _CA:.1f} mg/dL"),),
          "Shaded: adult reference range 2.10–2.60 mmol/L (8.4–10.4 mg/dL).", "mg/dL", _CA),
    Panel("ionized-calcium", _title("ionized_calcium_mmol_L", "Ionised calcium"), "mmol/L",
          "ionized_calcium_mmol_L",
          (Band(1.10, 1.35, "assumed reference 1.10–1.35 mmol/L",
                f"assumed reference {1.10 * _CA:.2f}–{1.35 * _CA:.2f} mg/dL"),),
          "Shaded: 1.10–1.35 mmol/L, an assumed laboratory range (ionized calcium intervals vary between "
          "laboratories and analysers).", "mg/dL", _CA),
    Panel("phosphate", _title("phosphate_mmol_L", "Phosphate"), "mmol/L", "phosphate_mmol_L",
          (Band(0.87, 1.45, "reference 0.87–1.45 mmol/L", f"reference {0.87 * _P:.1f}–{1.45 * _P:.1f} mg/dL"),),
          "Shaded: adult reference range 0.87–1.45 mmol/L (2.7–4.5 mg/dL of phosphorus).", "mg/dL", _P),
    Panel("pth", _title("pth_pmol_L", "Intact PTH"), "pmol/L", "pth_pmol_L",
          (Band(1.5, PTH_UPPER_LIMIT, "reference 1.5–6.1 pmol/L", f"reference {1.5 * _PTH:.0f}–{6.1 * _PTH:.0f} pg/mL"),
           Band(2 * PTH_UPPER_LIMIT, 9 * PTH_UPPER_LIMIT, "KDIGO dialysis target 2–9 × ULN (12.2–54.9 pmol/L)",
                f"KDIGO dialysis target 2–9 × ULN ({12.2 * _PTH:.0f}–{54.9 * _PTH:.0f} pg/mL)",
                _TARGET, dialysis_only=True)),
          "Log axis. Green: reference range 1.5–6.1 pmol/L; light blue (runs with dialysis only): the KDIGO target "
          "for patients on dialysis, 2 to 9 times the upper limit of normal (12.2–54.9 pmol/L). Values below "
          f"{PTH_LOG_FLOOR:g} pmol/L (an assay reports < 0.1) lie under the axis.", "pg/mL", _PTH, log=True),
    Panel("cap", "Calcium × phosphate product", "mmol²/L²", "calcium_x_phosphate",
          (Band(0.0, 4.4, "KDOQI: below 4.4 mmol²/L² (55 mg²/dL²)", "KDOQI: below 55 mg²/dL²"),),
          "Total calcium × phosphate, computed from the two concentrations; shaded: below 4.4 mmol²/L² "
          "(55 mg²/dL², KDOQI). 1 mmol²/L² = 12.41 mg²/dL².", "mg²/dL²", CAP_MMOL2_TO_MG2),
    Panel("deposit", _title("deposit_diameter_cm", "Calcified deposit diameter"), "cm", "deposit_diameter_cm", (),
          "Diameter of a sphere holding the model's deposited calcium phosphate."),
    Panel("t50", "Serum calcification propensity (T50-like)", "min", "calcification_propensity_t50_min", (),
          "Model readout of the T50 test (Pasch 2012; lower: faster calcification), from phosphate, ionised calcium "
          "and fetuin-A; calibrated to haemodialysis patients (about 280 min, BMC Nephrol 2023)."),
    Panel("calcitriol", _title("calcitriol_pmol_L", "Calcitriol"), "pmol/L", "calcitriol_pmol_L",
          (Band(48.0, 190.0, "assumed reference 48–190 pmol/L", "assumed reference 20–79 pg/mL"),),
          "Shaded: 48–190 pmol/L (20–79 pg/mL), an assumed common adult interval.", "pg/mL", _CTR),
    Panel("fgf23", "FGF23", "pg/mL", "fgf23_pg_mL", (),
          "No reference band: FGF23 intervals depend on the assay."),
)


@dataclass(frozen=True)
class Observation:
    """A reported value drawn on its panel: time (days), time-series column, value in the column's SI unit, and
    how the source reported it (shown on hover)."""

    day: float
    column: str
    value: float
    text: str = ""


@dataclass(frozen=True)
class Marker:
    """Events of one day: the number drawn on the plots and listed above them, the time, and the labels."""

    number: int
    day: float
    labels: tuple[str, ...]

    @property
    def text(self) -> str:
        return "; ".join(self.labels)


def group_markers(markers: list[tuple[float, str]], within_days: float = 0.5) -> list[Marker]:
    """Number the events in time order; events within ``within_days`` of the first of a group share its number."""
    groups: list[list[tuple[float, str]]] = []
    for day, label in sorted(markers, key=lambda m: m[0]):
        if groups and day - groups[-1][0][0] <= within_days:
            groups[-1].append((day, label))
        else:
            groups.append([(day, label)])
    return [Marker(k + 1, g[0][0], tuple(label for _, label in g)) for k, g in enumerate(groups)]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


@cache
def plotly_js() -> str:
    """The plotly.js embedded in every page: the bundled basic build, or the Python package's full one."""
    asset = resources.files("ckdmbd").joinpath("assets/plotly-basic.min.js")
    if asset.is_file():
        return asset.read_text(encoding="utf-8")
    from plotly.offline import get_plotlyjs  # pragma: no cover - an installation without the asset

    return get_plotlyjs()  # pragma: no cover


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
    fractions of the plot width, label widths estimated at ~7 px a character on a ~1100 px plot."""
    ends: list[float] = []  # right end of the last label in each row
    rows = []
    for pos, label in zip(positions, labels, strict=True):
        width = (len(label) * 7 + 10) / 1100
        start = pos - width / 2
        for r, end in enumerate(ends):
            if start > end:
                ends[r] = start + width
                rows.append(r)
                break
        else:
            ends.append(start + width)
            rows.append(len(ends) - 1)
    return rows


def is_empty(y: np.ndarray) -> bool:
    """Nothing to show: no finite value, or zero throughout (a deposit that never formed)."""
    finite = y[np.isfinite(y)]
    return finite.size == 0 or bool(np.all(finite == 0.0))


def _log_range(values: list[np.ndarray]) -> list[float]:
    """A log10 axis range around every positive value, starting no lower than :data:`PTH_LOG_FLOOR`."""
    flat = np.concatenate([np.asarray(v, float).ravel() for v in values if len(v)]) if values else np.empty(0)
    flat = flat[np.isfinite(flat) & (flat > 0)]
    if not flat.size:
        return [math.log10(PTH_LOG_FLOOR), 2.0]
    low = max(float(flat.min()), PTH_LOG_FLOOR)
    high = max(float(flat.max()), low * 10)
    return [math.log10(low) - 0.08, math.log10(high) + 0.08]


def _hover(x_hover: str, unit: str) -> str:
    # 4 significant digits in decimal notation (d3's "r"; "~" trims trailing zeros): 2.4, 1.153, 12350
    return f"{x_hover}<br>%{{y:.4~r}} {_e(unit)}<extra>%{{fullData.name}}</extra>"


def _observed_hover(x_hover: str, unit: str) -> str:
    return f"{x_hover}<br>%{{hovertext}}<br>drawn at %{{y:.3~r}} {_e(unit)}<extra>reported</extra>"


@functools.cache
def _template(name: str) -> dict:
    """A plotly template as the dict its validation would put in the figure (without validation plotly reads the
    layout's template as a dict, not by name)."""
    import plotly.io as pio

    return pio.templates[name].to_plotly_json()


_TYPED_ARRAY_CODES = {"float32": "f4", "float64": "f8", "int8": "i1", "int16": "i2", "int32": "i4", "uint8": "u1",
                      "uint16": "u2", "uint32": "u4"}


def _typed_arrays(value):
    """The figure with its numpy arrays as plotly.js typed-array specs (``{"dtype": "f4", "bdata": base64 of the
    little-endian bytes}``), the form plotly's validation writes them in: without it plotly would print each value
    as a decimal (about 10 % more page for the same numbers)."""
    if isinstance(value, np.ndarray):
        code = _TYPED_ARRAY_CODES.get(str(value.dtype))
        if code is None or value.ndim != 1 or value.size == 0:
            return value.tolist()
        little = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        return {"dtype": code, "bdata": base64.b64encode(little.tobytes()).decode("ascii")}
    if isinstance(value, dict):
        return {k: _typed_arrays(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_typed_arrays(v) for v in value]
    return value


VALIDATE_FIGURES = False
"""Check each figure against plotly's schema while writing the page. Off in use (it builds a plotly Figure object
per panel, ~0.1 s each: most of a short run's report time); ``tests/test_html_report.py`` turns it on for reports
that draw every kind of trace, so a figure plotly would refuse fails there."""


def _figure_json(panel: Panel, t: np.ndarray, y: np.ndarray, scale: float, x_title: str, dialysis: bool,
                 pre: tuple[np.ndarray, np.ndarray] | None, markers: list[Marker] | list[tuple[float, str]],
                 spread: tuple[np.ndarray, np.ndarray] | None = None,
                 observations: list[Observation] | tuple[Observation, ...] = (),
                 x_range: tuple[float, float] | None = None) -> dict:
    """One panel's plotly figure (``data``, ``layout``); ``layout.meta`` holds the panel's axis title, range,
    shapes and hover templates in SI and in conventional units, which the page's unit switch applies."""
    if markers and not isinstance(markers[0], Marker):
        markers = group_markers(list(markers))
    x_hover = "year %{x:.2f}" if scale != 1.0 else "day %{x:.2f}"
    xs, ys = downsample(t / scale, y)
    plotted: list[np.ndarray] = [ys]

    def trace(x, yv, **kw):
        return {"type": "scatter", "x": np.asarray(x, np.float32), "y": np.asarray(yv, np.float32),
                "hovertemplate": _hover(x_hover, panel.unit)} | kw

    faint = dialysis and pre is not None  # the pre-dialysis dots carry the message; the swings are context
    traces = []
    if spread is not None:  # a forecast's 5-95 % band from the parameter uncertainty, under the median
        xl, yl = downsample(t / scale, spread[0])
        xh, yh = downsample(t / scale, spread[1])
        plotted += [yl, yh]
        traces += [trace(xl, yl, mode="lines", name="5th percentile", line={"width": 0, "color": "#9ecae1"},
                         showlegend=False),
                   trace(xh, yh, mode="lines", name="5-95 % (parameter uncertainty)", fill="tonexty",
                         fillcolor="rgba(31, 119, 180, 0.2)", line={"width": 0, "color": "#9ecae1"})]
    traces.append(trace(xs, ys, mode="lines", name="model (continuous)" if dialysis else "model",
                        line={"color": "#1f77b4", "width": 0.8 if faint else 1.5}, opacity=0.45 if faint else 1.0))
    if pre is not None:
        plotted.append(pre[1])
        traces.append(trace(pre[0] / scale, pre[1], mode="markers", name="pre-dialysis",
                            marker={"color": "#d62728", "size": 4}))
    obs = [o for o in observations if panel.shows(o.column)]
    if obs:
        plotted.append(np.array([o.value for o in obs]))
        traces.append(trace([o.day / scale for o in obs], [o.value for o in obs], mode="markers",
                            name="reported for the patient", hovertext=[_e(o.text) for o in obs],
                            hovertemplate=_observed_hover(x_hover, panel.unit),
                            marker={"symbol": "diamond", "size": 13, "color": "#ff7f0e",
                                    "line": {"color": "#222", "width": 1.5}}))
    bands = [b for b in panel.bands if dialysis or not b.dialysis_only]
    band_shapes = [{"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": b.low, "y1": b.high,
                    "fillcolor": b.color, "line": {"width": 0}, "layer": "below", "showlegend": True,
                    "name": _e(b.name)} for b in bands]
    # the same explicit time range on every panel (autorange pads marker traces, not line traces), so that the
    # panels' time axes line up; it spans the markers and observations too
    if x_range is None:
        x0 = min([float(xs[0]), *(m.day / scale for m in markers), *(o.day / scale for o in obs)])
        x1 = max([float(xs[-1]), *(m.day / scale for m in markers), *(o.day / scale for o in obs)])
    else:
        x0, x1 = x_range[0] / scale, x_range[1] / scale
    span = (x1 - x0) or 1.0
    rows = _marker_rows([(m.day / scale - x0) / span for m in markers], [str(m.number) for m in markers])
    line_shapes, annotations = [], []
    for m, row in zip(markers, rows, strict=True):
        xm = m.day / scale
        key = m.text.startswith("presentation")
        line_shapes.append({"type": "line", "xref": "x", "x0": xm, "x1": xm, "yref": "paper", "y0": 0, "y1": 1,
                            "line": {"color": "#d62728" if key else "#444", "width": 1.2, "dash": "dash"}})
        annotations.append({"x": xm, "xref": "x", "y": 1, "yref": "paper", "yanchor": "bottom",
                            "xanchor": "center", "yshift": 2 + 17 * row, "text": f"<b>{m.number}</b>",
                            "hovertext": _e(f"{m.number}: {m.text}"), "showarrow": False,
                            "font": {"size": 11, "color": "#d62728" if key else "#333"},
                            "bordercolor": "#999", "borderwidth": 1, "borderpad": 1,
                            "bgcolor": "rgba(255,255,255,0.9)"})
    top = 18 + 17 * (max(rows) + 1 if rows else 0)
    yaxis: dict = {"title": {"text": f"{_e(panel.title)} ({_e(panel.unit)})"}, "zeroline": False}
    if panel.log:
        limits = [np.array([b.low for b in bands if b.low > 0]), np.array([b.high for b in bands])]
        yaxis |= {"type": "log", "range": _log_range([*plotted, *limits]), "dtick": 1, "minor": {"showgrid": True}}
    elif panel.key in ("cap", "deposit"):
        yaxis["rangemode"] = "tozero"
    layout = {
        "height": 330 + top - 18,
        "margin": {"l": 70, "r": 20, "t": top, "b": 80},
        "xaxis": {"title": {"text": x_title}, "showgrid": True, "zeroline": False,
                  "range": [x0 - 0.01 * span, x1 + 0.01 * span]},
        "yaxis": yaxis,
        "shapes": band_shapes + line_shapes,
        "annotations": annotations,
        "hovermode": "closest",
        # below the plot, so that every panel's plot area has the same width and the time axes line up
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.3, "yanchor": "top", "font": {"size": 11}},
        "template": _template("plotly_white"),
        "autosize": True,
    }
    layout["meta"] = _unit_views(panel, bands, layout, [tr["hovertemplate"] for tr in traces], x_hover)
    return {"data": traces, "layout": layout}


def _unit_views(panel: Panel, bands: list[Band], layout: dict, hovers: list[str], x_hover: str) -> dict:
    """The axis title, range, shapes and hover templates of a panel in SI and in conventional units."""
    si = {"title": layout["yaxis"]["title"]["text"], "range": layout["yaxis"].get("range"),
          "shapes": layout["shapes"], "hover": hovers, "heading": f"{_e(panel.title)} ({_e(panel.unit)})"}
    if panel.conventional_unit is None:
        return {"factor": 1.0, "si": si, "conventional": si}
    f, unit = panel.factor, panel.conventional_unit
    shapes = [dict(s) for s in layout["shapes"]]
    for s, band in zip(shapes, bands, strict=False):  # the band rectangles come first
        s.update(y0=band.low * f, y1=band.high * f, name=_e(band.name_conventional or band.name))
    conv_hover = [_observed_hover(x_hover, unit) if "hovertext" in h else _hover(x_hover, unit) for h in hovers]
    rng = si["range"]
    conventional = {"title": f"{_e(panel.title)} ({_e(unit)})",
                    "range": None if rng is None else [r + math.log10(f) for r in rng] if panel.log else None,
                    "shapes": shapes, "hover": conv_hover, "heading": f"{_e(panel.title)} ({_e(unit)})"}
    return {"factor": f, "si": si, "conventional": conventional}


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
ol.markers { font-size: 0.9em; columns: 2; column-gap: 2em; margin-top: 0.3em; }
ol.markers li.key { color: #b01c1c; font-weight: 600; }
.units { position: sticky; top: 0; background: #fff; padding: 6px 0; z-index: 10; border-bottom: 1px solid #eee;
         font-size: 0.95em; }
.units label { margin-right: 1.2em; cursor: pointer; }
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

# The unit switch: every panel's values are multiplied by its factor (1 for SI), and its axis title, range,
# shapes (reference bands) and hover templates replaced by the view the page carries in layout.meta; table cells
# with data-si / data-conventional swap their text. window.ckdmbdUnits(system) is the same switch for scripts.
_UNITS_JS = """
(function () {
  var ids = __PANEL_IDS__;
  var TYPES = {f4: Float32Array, f8: Float64Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array,
               u2: Uint16Array, i4: Int32Array, u4: Uint32Array};
  function values(y) {  // plotly's JSON carries numpy arrays base64-encoded ({dtype, bdata})
    if (y && y.bdata !== undefined) {
      var bin = atob(y.bdata), bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
      return Array.from(new TYPES[y.dtype](bytes.buffer));
    }
    return Array.from(y || []);
  }
  function apply(system) {
    var jobs = ids.map(function (id) {
      var gd = document.getElementById(id);
      if (!gd || !gd.data || !gd.layout.meta) { return Promise.resolve(); }
      var meta = gd.layout.meta, view = meta[system], f = system === "si" ? 1 : meta.factor;
      if (!gd._ckdmbdBase) { gd._ckdmbdBase = gd.data.map(function (tr) { return values(tr.y); }); }
      var ys = gd._ckdmbdBase.map(function (base) { return base.map(function (v) { return v * f; }); });
      var relayout = {"yaxis.title.text": view.title, "shapes": view.shapes};
      if (view.range) { relayout["yaxis.range"] = view.range; } else { relayout["yaxis.autorange"] = true; }
      var heading = document.getElementById(id + "-heading");
      if (heading) { heading.innerHTML = view.heading; }
      return Plotly.update(gd, {y: ys, hovertemplate: view.hover}, relayout);
    });
    document.querySelectorAll("[data-si]").forEach(function (cell) {
      cell.textContent = cell.getAttribute(system === "si" ? "data-si" : "data-conventional");
    });
    document.body.setAttribute("data-units", system);
    return Promise.all(jobs);
  }
  window.ckdmbdUnits = apply;
  window.addEventListener("load", function () {
    document.querySelectorAll("input[name=units]").forEach(function (input) {
      input.addEventListener("change", function () { if (input.checked) { apply(input.value); } });
    });
  });
})();
"""


def html_report(frame: pd.DataFrame, *, title: str, description: str, sessions: pd.DataFrame | None,
                markers: list[tuple[float, str]], case_values: list[dict] | None = None,
                notes: list[str] | None = None, citations: list[str] | None = None,
                tables: list[tuple[str, str, list[dict]]] | None = None,
                observations: list[Observation] | None = None, intro_tables: list[str] | None = None) -> str:
    """Return a self-contained HTML document (no network access needed to view it).

    ``frame``: the run's time series (``time_days`` and the clinical columns; negative times, a simulated history,
    are drawn too; a forecast adds ``<column>_p05`` and ``<column>_p95``, drawn as a band); ``sessions``: one row
    per dialysis session (``start_day``, ``pre_*`` columns) or None; ``markers``: (time in days, label), drawn as
    numbered vertical lines on every panel and listed; ``observations``: reported values drawn on their panels;
    ``case_values``: table rows such as ``{"quantity": ..., "reported": ..., "model": ..., "note": ...}``;
    ``notes``: paragraphs; ``citations``: references; ``tables``: further tables as (title, caption, rows), shown
    after the case values; ``intro_tables``: ready HTML shown before the plots (an outcome table). Every text
    from the arguments is escaped."""
    import plotly.io as pio

    t = frame["time_days"].to_numpy(float)
    span_days = (t[-1] - min(t[0], 0.0)) if len(t) else 0.0
    years = span_days > 2 * units.DAYS_PER_YEAR
    scale = units.DAYS_PER_YEAR if years else 1.0
    history = len(t) > 0 and t[0] < 0
    x_title = ("time (years)" if years else "time (days)") + ("; before 0: simulated history" if history else "")
    dialysis = sessions is not None and len(sessions) > 0 and "start_day" in sessions
    on_dialysis = dialysis or ("on_dialysis" in frame and bool((frame["on_dialysis"] > 0).any()))
    groups = group_markers([(float(day), str(label)) for day, label in markers])
    observations = [o for o in (observations or []) if math.isfinite(o.value)]
    days = [*t[:1], *t[-1:], *(m.day for m in groups), *(o.day for o in observations)]
    x_range = (min(days), max(days)) if days else None

    sections, ids = [], []
    for panel in PANELS:
        y = _series(frame, panel.column)
        obs = [o for o in observations if panel.shows(o.column)]
        if y is None or (is_empty(y) and not obs):
            continue  # a deposit that never formed: no panel with a -1..1 axis
        pre = None
        if dialysis:
            values = _pre_dialysis(sessions, panel.column)
            if values is not None:
                pre = (sessions["start_day"].to_numpy(float), values)
        spread = None
        if f"{panel.column}_p05" in frame and f"{panel.column}_p95" in frame:
            spread = (frame[f"{panel.column}_p05"].to_numpy(float), frame[f"{panel.column}_p95"].to_numpy(float))
        fig = _figure_json(panel, t, y, scale, x_title, on_dialysis, pre, groups, spread, obs, x_range)
        div_id = f"panel-{panel.key}"
        ids.append(div_id)
        config = {"displaylogo": False, "responsive": True, "showLink": False,
                  "toImageButtonOptions": {"format": "png", "filename": div_id, "scale": 2}}
        if not VALIDATE_FIGURES:
            fig = _typed_arrays(fig)
        div = pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id, config=config,
                          default_height=f"{fig['layout']['height']}px", validate=VALIDATE_FIGURES)
        sections.append(f'<section class="panel-section">\n<h3 id="{div_id}-heading">{_e(panel.title)} '
                        f'({_e(panel.unit)})</h3>\n<div class="panel">{div}</div>\n'
                        f'<p class="caption">{_e(panel.caption)}</p>\n</section>')

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
        f"<script>{plotly_js()}</script>",
        "</head>",
        '<body data-units="si">',
        "<main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="description">{_e(description)}</p>',
        '<div class="units" id="units">Units: '
        '<label><input type="radio" name="units" value="si" checked> SI (mmol/L, pmol/L)</label>'
        '<label><input type="radio" name="units" value="conventional"> conventional (mg/dL, pg/mL)</label></div>',
    ]
    parts.extend(intro_tables or [])
    if dialysis:
        parts.append('<p class="legend-note">On dialysis the continuous model trace swings with every session; it '
                     'is drawn thin, and the pre-dialysis values (blood drawn just before a session, as a clinic '
                     'sees them) are drawn as red dots.</p>')
    if observations:
        parts.append('<p class="legend-note">Orange diamonds: the values reported for the patient, at their '
                     'times (hover for the report\'s wording).</p>')
    if history:
        parts.append(f'<p class="legend-note">Before t = 0: the scenario\'s simulated history '
                     f'({-t[0] / units.DAYS_PER_YEAR:.1f} years).</p>')
    if groups:
        items = "".join(f'<li value="{m.number}"{" class=key" if m.text.startswith("presentation") else ""}>'
                        f"{_e(_format_time(m.day, scale))}: {_e(m.text)}</li>" for m in groups)
        parts.append('<p class="legend-note">Numbered dashed lines mark the events:</p>'
                     f'<ol class="markers" id="events">{items}</ol>')
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
    parts.append(f"<script>{_UNITS_JS.replace('__PANEL_IDS__', json.dumps(ids))}</script>")
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
