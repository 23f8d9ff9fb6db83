"""The validation suite's outputs: the printed table, ``validation.json`` and ``validation.html``.

The HTML page is self-contained (plotly.js inline once, a Content-Security-Policy that forbids network access) and
holds one small plot per check: the model's trajectory of the compared quantity for each arm, the published value
with its spread (a dashed line and a shaded band) and the acceptance band, at the time the value is taken.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from ckdmbd import __version__
from ckdmbd.validation.runner import ERROR, WITHIN, CheckResult, summary


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return f"{text} {unit}" if unit not in ("1", "ratio", "fraction") else text


def table_rows(results: list[CheckResult]) -> list[tuple[str, str, str, str, str]]:
    """(case: check, published, model, band, verdict) for each result."""
    rows = []
    for r in results:
        message = r.message if len(r.message) <= 110 else r.message[:107] + "..."  # whole in the JSON and HTML
        model = format_value(r.value, r.check.unit) if r.verdict != ERROR else message
        rows.append((r.label, r.check.published.text, model, r.check.band.text(), r.verdict))
    return rows


def summary_line(results: list[CheckResult]) -> str:
    c = summary(results)
    return f"{c['within']} within, {c['outside']} outside, {c['error']} error"


def to_json(results: list[CheckResult]) -> str:
    return json.dumps({"ckdmbd": __version__, "summary": summary(results), "results": [r.as_dict() for r in results]},
                      indent=2, allow_nan=False, default=_json_default)


def _json_default(value):
    if isinstance(value, np.floating | np.integer):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
        "font-src data:")
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #222; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
table.results { border-collapse: collapse; font-size: 0.9em; }
table.results th, table.results td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
table.results th { background: #f3f3f3; }
td.within { background: #e6f4e6; } td.outside { background: #fde7e7; } td.error { background: #fff3cd; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 12px; }
.check h3 { font-size: 0.95em; margin: 0.8em 0 0.1em; }
.check p { font-size: 0.82em; color: #444; margin: 0.1em 0; }
footer { margin-top: 2em; font-size: 0.8em; color: #777; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _figure(r: CheckResult) -> dict:
    m = r.metric
    traces, shapes = [], []
    x_unit = m.traces[0].x_unit if m is not None and m.traces else "time (days)"
    for k, tr in enumerate(m.traces if m is not None else ()):
        from ckdmbd.report_html import downsample

        xs, ys = downsample(tr.x, tr.y, 1500)
        traces.append({"type": "scatter", "mode": "lines", "name": _e(tr.label), "x": xs.tolist(), "y": ys.tolist(),
                       "line": {"color": _COLORS[k % len(_COLORS)], "width": 1.4}})
    pub, band = r.check.published, r.check.band
    window = m.window if m is not None and m.window is not None else None
    if window is None:  # a value over the whole run: the published value spans the plot
        xref, wx0, wx1 = "paper", 0.0, 1.0
    else:
        xref, wx0, wx1 = "x", float(window[0]), float(window[1])
    if window is not None and wx1 - wx0 < 1e-9:  # a point in time: give the bands a visible width
        span = max((float(np.nanmax(t.x)) - float(np.nanmin(t.x)) for t in m.traces), default=1.0) or 1.0
        wx0, wx1 = wx0 - 0.015 * span, wx1 + 0.015 * span
    # a one-sided band reaches beyond everything plotted (the data, the published value and spread)
    ys = [float(v) for tr in (m.traces if m is not None else ()) for v in np.asarray(tr.y, float) if np.isfinite(v)]
    ys += [v for v in (pub.value, pub.low, pub.high, r.value, band.low, band.high) if v is not None and np.isfinite(v)]
    lo_data, hi_data = (min(ys), max(ys)) if ys else (0.0, 1.0)
    pad = 0.1 * ((hi_data - lo_data) or abs(hi_data) or 1.0)
    shapes.append({"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
                   "y0": band.low if band.low is not None else lo_data - pad,
                   "y1": band.high if band.high is not None else hi_data + pad,
                   "fillcolor": "rgba(44, 160, 44, 0.10)", "line": {"width": 0}, "layer": "below"})
    spread = pub.spread()
    if spread is not None:
        shapes.append({"type": "rect", "xref": xref, "x0": wx0, "x1": wx1, "yref": "y", "y0": spread[0],
                       "y1": spread[1], "fillcolor": "rgba(214, 39, 40, 0.25)", "line": {"width": 0}})
    if pub.value is not None:
        shapes.append({"type": "line", "xref": xref, "x0": wx0, "x1": wx1, "yref": "y", "y0": pub.value,
                       "y1": pub.value, "line": {"color": "#d62728", "width": 2, "dash": "dash"}})
    if r.value is not None:
        xm = 0.5 * (wx0 + wx1) if window is not None else (m.traces[0].x[-1] if m and m.traces else 0)
        traces.append({"type": "scatter", "mode": "markers", "name": "model value", "x": [float(xm)],
                       "y": [r.value], "marker": {"color": "#000", "size": 8, "symbol": "diamond"}})
    layout = {"height": 300, "margin": {"l": 60, "r": 10, "t": 10, "b": 45}, "template": "plotly_white",
              "xaxis": {"title": {"text": x_unit}},
              "yaxis": {"title": {"text": _e(r.check.unit)}}, "shapes": shapes, "showlegend": True,
              "legend": {"orientation": "h", "y": -0.25, "font": {"size": 10}}}
    return {"data": traces, "layout": layout}


def html_page(results: list[CheckResult], title: str = "ckdmbd literature validation") -> str:
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    head = "".join(f"<th>{h}</th>" for h in ("Case: check", "Source", "Published", "Model", "Band", "Verdict"))
    rows = []
    for r, (label, published, model, band, verdict) in zip(results, table_rows(results), strict=True):
        src = r.case.source
        rows.append(f"<tr><td><a href=\"#check-{len(rows)}\">{_e(label)}</a></td><td>{_e(src.short)}, "
                    f"{_e(src.journal)} ({_e(src.identifier)})</td><td>{_e(published)}</td><td>{_e(model)}</td>"
                    f"<td>{_e(band)}</td><td class=\"{_e(verdict)}\">{_e(verdict)}</td></tr>")
    plots = []
    for k, r in enumerate(results):
        text = (f'<section class="check" id="check-{k}"><h3>{_e(r.label)} — <span class="{_e(r.verdict)}">'
                f'{_e(r.verdict)}</span></h3><p>{_e(r.case.title)}. Published: {_e(r.check.published.text)}; '
                f'acceptance band {_e(r.check.band.text())}; model {_e(format_value(r.value, r.check.unit))}.</p>')
        if r.verdict == ERROR:
            plots.append(text + f"<p>Error: {_e(r.message)}</p></section>")
            continue
        div = pio.to_html(_figure(r), include_plotlyjs=False, full_html=False, div_id=f"plot-{k}",
                          config={"displaylogo": False, "responsive": True}, default_height="300px", validate=True)
        detail = f"<p>{_e(r.metric.detail)}</p>" if r.metric is not None and r.metric.detail else ""
        plots.append(text + detail + f'<div class="plot">{div}</div></section>')
    citations = sorted({r.case.source.citation for r in results})
    from ckdmbd.citations import format_citations

    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">', f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>", "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>",
        f"<script>{get_plotlyjs()}</script>", "</head>", "<body>", "<main>", f"<h1>{_e(title)}</h1>",
        f"<p>{_e(summary_line(results))}. Every case runs with the same built-in parameter set; a case sets only what "
        f"its study set (diet, drugs, dialysate, schedule, surgery, GFR). In each plot: the model's trajectory of "
        f"the compared quantity per arm, the published value (red dashed line) with its spread (red band) where the "
        f"value is taken, the acceptance band (green) and the model's value (black diamond).</p>",
        f'<table class="results" id="results"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>',
        "<h2>Checks</h2>", '<div class="grid">', *plots, "</div>",
        "<h2>References</h2>", "<ol>" + "".join(f"<li>{_e(c)}</li>" for c in format_citations(citations)) + "</ol>",
        f"<footer>ckdmbd {_e(__version__)}: a model, not a patient; not for clinical decisions.</footer>",
        "</main>", "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_outputs(out_dir: Path, results: list[CheckResult]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    page, data = out_dir / "validation.html", out_dir / "validation.json"
    page.write_text(html_page(results), encoding="utf-8")
    data.write_text(to_json(results) + "\n", encoding="utf-8")
    return [page, data]


def all_within(results: list[CheckResult]) -> bool:
    return all(r.verdict == WITHIN for r in results)
