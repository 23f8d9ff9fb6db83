"""The interactive HTML report: structure and escaping (unit tests), and rendering in headless Chromium.

The browser tests need Debian's ``chromium``; without it they are skipped, except under CI (``CI=true``), where a
missing browser is an error (tests/browser.py).
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import chromium, console_problems, run_chromium

from ckdmbd.report_html import (
    CAP_MMOL2_TO_MG2,
    MAX_POINTS,
    PANELS,
    Observation,
    _figure_json,
    _marker_rows,
    downsample,
    group_markers,
    html_report,
)

MARKER = "parathyroidectomy with forearm autograft"
HOSTILE = "<script>alert('x')</script> & <b>bold</b>"


def synthetic_frame(days: float = 30.0, step_h: float = 1.0, deposit: bool = True) -> pd.DataFrame:
    t = np.arange(0.0, days + 1e-9, step_h / 24.0)
    wave = np.sin(2 * np.pi * t / 2.33)
    frame = pd.DataFrame({
        "time_days": t,
        "calcium_mmol_L": 2.3 + 0.05 * wave,
        "ionized_calcium_mmol_L": 1.15 + 0.03 * wave,
        "phosphate_mmol_L": 1.6 - 0.5 * wave,
        "pth_pmol_L": 30 + 5 * wave,
        "calcitriol_pmol_L": 20 + 2 * wave,
        "fgf23_pg_mL": 300 + 20 * wave,
        "on_dialysis": (wave > 0.8).astype(float),
    })
    if deposit:
        frame["deposit_diameter_cm"] = np.linspace(0.0, 1.2, len(t))
        frame["calcification_propensity_t50_min"] = 280 + 20 * wave
    return frame


def synthetic_sessions(days: float = 30.0) -> pd.DataFrame:
    start = np.arange(0.5, days, 7 / 3)
    return pd.DataFrame({
        "start_day": start,
        "pre_phosphate_mmol_L": np.full(len(start), 1.9),
        "pre_calcium_mmol_L": np.full(len(start), 2.25),
        "pre_ionized_calcium_mmol_L": np.full(len(start), 1.12),
        "pre_pth_pmol_L": np.full(len(start), 35.0),
    })


def in_figures(text: str) -> str:
    """``text`` as it appears in the figures' JSON (plotly escapes non-ASCII, '/', '<' and '>')."""
    from plotly.io.json import to_json_plotly

    return to_json_plotly(text)[1:-1]


CASE = [{"quantity": "Total calcium", "reported": "2.12 mmol/L", "model": "2.15 mmol/L", "note": "pre-dialysis"},
        {"quantity": "Intact PTH", "reported": "<b>155</b> pmol/L", "model": "140 pmol/L", "source": "table 1"}]


@pytest.fixture(scope="module")
def report() -> str:
    return html_report(synthetic_frame(), title=f"case {HOSTILE}", description=f"a run {HOSTILE}",
                       sessions=synthetic_sessions(), markers=[(12.0, MARKER), (20.0, f"excision {HOSTILE}")],
                       case_values=CASE, notes=["first note", f"second {HOSTILE}"],
                       citations=["Peterson MC, Riggs MM. Bone 2010;46:49-63.", f"cite {HOSTILE}"])


def test_one_inline_plotly_and_no_external_resources(report):
    from plotly.offline import get_plotlyjs_version

    # the bundled basic build's banner: embedded once, not per panel, of the version plotly.py writes JSON for
    assert report.count("* plotly.js (basic - minified) v") == 1
    assert f"* plotly.js (basic - minified) v{get_plotlyjs_version()}" in report
    assert "<script src" not in report.lower() and "<link" not in report.lower()
    assert 'http-equiv="Content-Security-Policy"' in report and "default-src 'none'" in report
    assert report.count("<script") == report.count("</script>")


def test_reference_bands(report):
    for text in ("reference 2.10–2.60 mmol/L", "assumed reference 1.10–1.35 mmol/L", "reference 0.87–1.45 mmol/L",
                 "reference 1.5–6.1 pmol/L", "KDIGO dialysis target 2–9 × ULN (12.2–54.9 pmol/L)",
                 "KDOQI: below 4.4 mmol²/L² (55 mg²/dL²)"):
        assert in_figures(text) in report, text
    assert "an assumed laboratory range" in report  # the ionized calcium caption says so


def test_every_panel_has_its_div(report):
    for panel in PANELS:
        assert report.count(f'id="panel-{panel.key}"') == 1, panel.key


def test_markers_on_every_panel_and_listed(report):
    # one annotation per panel (in the figure JSON) and one entry in the list of events
    assert report.count(MARKER) == len(PANELS) + 1
    # escaped for plotly's text (which reads entities, and would read tags) as for the page
    assert report.count("excision &lt;script&gt;alert(&#x27;x&#x27;)") == len(PANELS) + 1
    assert '<li value="1">day 12: parathyroidectomy with forearm autograft</li>' in report
    assert '"text":"\\u003cb\\u003e1\\u003c\\u002fb\\u003e"' in report  # the number drawn on the plots


def test_case_table_notes_and_citations(report):
    assert 'id="case-values"' in report
    assert "<th>Quantity</th><th>Reported</th><th>Model</th><th>Note</th><th>Source</th>" in report
    assert "<td>2.12 mmol/L</td><td>2.15 mmol/L</td><td>pre-dialysis</td><td></td>" in report
    assert "<td>&lt;b&gt;155&lt;/b&gt; pmol/L</td>" in report
    assert "<p>first note</p>" in report
    assert "<li>Peterson MC, Riggs MM. Bone 2010;46:49-63.</li>" in report


def test_user_text_is_escaped(report):
    assert "alert('x')" not in report  # not raw anywhere: neither in the page nor in the figures' JSON
    assert "<b>bold</b>" not in report
    escaped = html.escape(HOSTILE)
    assert f"<title>case {escaped}</title>" in report
    assert f'<p class="description">a run {escaped}</p>' in report
    assert f"<p>second {escaped}</p>" in report
    assert f"<li>cite {escaped}</li>" in report


def test_optional_panels_are_skipped():
    frame = synthetic_frame(deposit=False).drop(columns=["calcitriol_pmol_L", "fgf23_pg_mL",
                                                         "ionized_calcium_mmol_L", "on_dialysis"])
    out = html_report(frame, title="t", description="d", sessions=None, markers=[])
    for key in ("deposit", "t50", "calcitriol", "fgf23", "ionized-calcium"):
        assert f'id="panel-{key}"' not in out
    for key in ("calcium", "phosphate", "pth", "cap"):
        assert f'id="panel-{key}"' in out
    assert "pre-dialysis" not in out and "case-values" not in out and "<h2>Notes</h2>" not in out
    assert in_figures("KDIGO dialysis target 2–9") not in out  # a target for patients on dialysis only
    assert "time (days)" in out


def test_empty_sessions_mean_no_dialysis_markers():
    out = html_report(synthetic_frame(), title="t", description="d", sessions=pd.DataFrame(), markers=[])
    assert "pre-dialysis" not in out


def test_downsample_keeps_extremes_and_ends():
    x = np.linspace(0, 100, 50_001)
    y = np.sin(x) + np.where(np.arange(len(x)) == 12_345, 5.0, 0.0)
    xs, ys = downsample(x, y, 1000)
    assert len(xs) <= 1000
    assert xs[0] == x[0] and xs[-1] == x[-1]
    assert ys.max() == y.max() and ys.min() == y.min()
    assert np.all(np.diff(xs) > 0)
    same_x, same_y = downsample(x[:10], y[:10])
    assert np.array_equal(same_x, x[:10]) and np.array_equal(same_y, y[:10])


def test_long_run_is_thinned_in_years_with_exact_pre_dialysis_values():
    days = 3 * 365.25
    frame, sessions = synthetic_frame(days, step_h=0.5), synthetic_sessions(days)
    assert len(frame) > MAX_POINTS
    panel = next(p for p in PANELS if p.key == "phosphate")
    pre = (sessions["start_day"].to_numpy(), sessions["pre_phosphate_mmol_L"].to_numpy())
    fig = _figure_json(panel, frame["time_days"].to_numpy(), frame["phosphate_mmol_L"].to_numpy(), 365.25,
                       "time (years)", True, pre, [(400.0, MARKER)])
    continuous, dots = fig["data"]
    assert len(continuous["x"]) <= MAX_POINTS
    assert len(dots["x"]) == len(sessions)
    np.testing.assert_allclose(dots["x"], sessions["start_day"] / 365.25, rtol=1e-6)
    assert fig["layout"]["shapes"][-1]["x0"] == pytest.approx(400.0 / 365.25)
    out = html_report(frame, title="t", description="d", sessions=sessions, markers=[])
    assert "time (years)" in out and "thinned for plotting" in out


def test_calcium_phosphate_product_in_both_units():
    frame = synthetic_frame()
    panel = next(p for p in PANELS if p.key == "cap")
    product = (frame["calcium_mmol_L"] * frame["phosphate_mmol_L"]).to_numpy()
    fig = _figure_json(panel, frame["time_days"].to_numpy(), product, 1.0, "time (days)", False, None, [])
    assert len(fig["data"]) == 1
    meta = fig["layout"]["meta"]  # the page's unit switch multiplies by the factor and uses the other view
    assert meta["factor"] == pytest.approx(CAP_MMOL2_TO_MG2, rel=1e-3)
    assert "mg²/dL²" in meta["conventional"]["title"] and "mg²/dL²" in meta["conventional"]["hover"][0]
    band = fig["layout"]["shapes"][0]
    assert (band["y0"], band["y1"]) == (0.0, 4.4)
    conv = meta["conventional"]["shapes"][0]
    assert conv["y1"] == pytest.approx(4.4 * CAP_MMOL2_TO_MG2, rel=1e-3) and "55 mg²/dL²" in conv["name"]


def test_unit_views_of_every_panel():
    """Every panel with a conventional unit carries the factor of the units module and its band limits in it."""
    from ckdmbd import units

    factors = {"calcium": units.calcium_mg_dl(1.0), "ionized-calcium": units.calcium_mg_dl(1.0),
               "phosphate": units.phosphate_mg_dl(1.0), "pth": units.pth_pg_ml(1.0),
               "calcitriol": units.calcitriol_pg_ml(1.0)}
    frame = synthetic_frame()
    for panel in PANELS:
        if panel.key not in factors:
            continue
        fig = _figure_json(panel, frame["time_days"].to_numpy(), frame[panel.column].to_numpy(), 1.0, "t", True,
                           None, [])
        meta = fig["layout"]["meta"]
        assert meta["factor"] == pytest.approx(factors[panel.key]), panel.key
        assert panel.conventional_unit in meta["conventional"]["title"]
        for si, conv in zip(meta["si"]["shapes"], meta["conventional"]["shapes"], strict=True):
            if si["yref"] == "y":
                assert conv["y0"] == pytest.approx(si["y0"] * meta["factor"])
                assert panel.conventional_unit in conv["name"], conv["name"]


def test_pth_on_a_log_axis_spanning_the_values():
    frame = synthetic_frame()
    frame["pth_pmol_L"] = np.geomspace(0.3, 400.0, len(frame))  # post-operative lows to pre-operative highs
    panel = next(p for p in PANELS if p.key == "pth")
    fig = _figure_json(panel, frame["time_days"].to_numpy(), frame["pth_pmol_L"].to_numpy(), 1.0, "t", True,
                       None, [])
    axis = fig["layout"]["yaxis"]
    assert axis["type"] == "log"
    low, high = axis["range"]
    assert 10**low < 0.3 and 10**high > 400.0 and 10**low >= 0.04
    conv = fig["layout"]["meta"]["conventional"]["range"]  # pg/mL: the same axis, shifted by log10(9.425)
    assert conv[0] - low == pytest.approx(np.log10(9.425))


def test_observations_are_drawn_on_their_panels_and_widen_the_time_axis():
    obs = [Observation(40.0, "deposit_diameter_cm", 15.0, "approximately 15 cm in diameter"),
           Observation(10.0, "phosphate_mmol_L", 2.13, "6.6 mg/dL")]
    panel = next(p for p in PANELS if p.key == "deposit")
    frame = synthetic_frame()  # 30 days, deposit up to 1.2 cm
    fig = _figure_json(panel, frame["time_days"].to_numpy(), frame["deposit_diameter_cm"].to_numpy(), 1.0, "t",
                       False, None, [], observations=obs)
    reported = [tr for tr in fig["data"] if tr["name"] == "reported for the patient"]
    assert len(reported) == 1 and list(reported[0]["y"]) == [15.0]  # only the deposit's observation here
    assert reported[0]["hovertext"] == ["approximately 15 cm in diameter"]
    assert "range" not in fig["layout"]["yaxis"]  # autorange: the axis spans the reported 15 cm
    assert fig["layout"]["xaxis"]["range"][1] > 40.0  # day 40 lies after the 30 simulated days
    page = html_report(frame, title="t", description="d", sessions=None, markers=[], observations=obs)
    assert "Orange diamonds" in page


def test_empty_panels_are_hidden():
    frame = synthetic_frame()
    frame["deposit_diameter_cm"] = 0.0  # a site that never grew a deposit (a forecast's empty panel)
    frame["fgf23_pg_mL"] = np.nan
    out = html_report(frame, title="t", description="d", sessions=None, markers=[])
    assert 'id="panel-deposit"' not in out and 'id="panel-fgf23"' not in out
    assert 'id="panel-phosphate"' in out
    # a reported deposit keeps the panel even when the model has none
    obs = [Observation(10.0, "deposit_diameter_cm", 15.0, "15 cm")]
    assert 'id="panel-deposit"' in html_report(frame, title="t", description="d", sessions=None, markers=[],
                                               observations=obs)


def test_events_of_one_day_share_a_number_and_numbers_never_overlap():
    groups = group_markers([(548.0, "presentation"), (0.0, "parathyroidectomy"), (578.0, "deposit excision"),
                            (578.0, "binders resumed"), (578.0, "diet resumed"), (639.0, "graft excision")])
    assert [(m.number, m.day) for m in groups] == [(1, 0.0), (2, 548.0), (3, 578.0), (4, 639.0)]
    assert groups[2].labels == ("deposit excision", "binders resumed", "diet resumed")
    # crowded numbers go up a row rather than on top of each other
    positions = [0.0, 0.001, 0.002, 0.5, 0.501]
    labels = ["1", "2", "3", "4", "5"]
    rows = _marker_rows(positions, labels)
    width = (7 + 10) / 1100
    for i, j in itertools.combinations(range(len(rows)), 2):
        if rows[i] == rows[j]:
            assert abs(positions[i] - positions[j]) > width, (i, j, rows)
    assert len(set(rows[:3])) == 3


def test_history_before_zero_is_drawn_and_said():
    frame = synthetic_frame(60.0)
    frame["time_days"] -= 30.0
    out = html_report(frame, title="t", description="d", sessions=None, markers=[(-30.0, "dialysis begins")])
    assert "before 0: simulated history" in out and "simulated history" in out
    assert "day -30: dialysis begins" in out


def test_seed_sized_report_is_small():
    """A seed-case-sized run (30 months, a point a day plus every 15 min of 390 sessions, all panels) stays
    under 1.5 MB: plotly.js basic once, traces thinned."""
    days = 913.0
    t = np.unique(np.concatenate([np.arange(0, days, 1.0), (np.arange(0.5, days, 7 / 3)[:, None]
                                                             + np.arange(0, 4.01, 0.25)[None, :] / 24).ravel()]))
    wave = np.sin(2 * np.pi * t / 2.33)
    frame = pd.DataFrame({"time_days": t, "calcium_mmol_L": 2.2 + 0.1 * wave,
                          "ionized_calcium_mmol_L": 1.1 + 0.05 * wave, "phosphate_mmol_L": 1.5 - 0.6 * wave,
                          "pth_pmol_L": 3 + wave, "calcitriol_pmol_L": 20 + wave, "fgf23_pg_mL": 900 + 50 * wave,
                          "deposit_diameter_cm": np.linspace(0, 15, len(t)),
                          "calcification_propensity_t50_min": 280 + 20 * wave, "on_dialysis": wave > 0.9})
    page = html_report(frame, title="seed", description="d", sessions=synthetic_sessions(days),
                       markers=[(0.0, MARKER), (548.0, "presentation"), (578.0, "excision")],
                       observations=[Observation(548.0, "deposit_diameter_cm", 15.0, "15 cm")],
                       citations=["x" * 200] * 70)
    assert len(page.encode("utf-8")) <= 1_500_000


# --- in a browser --------------------------------------------------------------------------------------------------

# Zoom the first panel's time axis, then record every panel's range: the zoom must reach every panel.
PROBE = """<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    Plotly.relayout("panel-calcium", {"xaxis.range": [5, 15]}).then(function () {
      setTimeout(function () {
        var out = {};
        document.querySelectorAll(".js-plotly-plot").forEach(function (gd) { out[gd.id] = gd.layout.xaxis.range; });
        var pre = document.createElement("pre");
        pre.id = "probe";
        pre.textContent = JSON.stringify(out);
        document.body.appendChild(pre);
      }, 500);
    });
  }, 500);
});
</script>"""


def test_console_check_catches_errors(tmp_path):
    """The console check can fail: a page with a console.error and an uncaught exception trips it."""
    browser = chromium()
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><p>x</p><script>console.error('deliberate');</script>"
                    "<script>notDefinedAnywhere();</script></body></html>")
    problems = console_problems(run_chromium(browser, page, tmp_path, "--dump-dom").stderr)
    assert any("deliberate" in p for p in problems), problems
    assert any("Uncaught" in p and "notDefinedAnywhere" in p for p in problems), problems


@pytest.fixture(scope="module")
def simulated_report(tmp_path_factory) -> Path:
    from ckdmbd.scenario import load_scenario, run_scenario
    from ckdmbd.sessions import session_table

    sc = load_scenario("hemodialysis-adherent")
    sc = dataclasses.replace(sc, duration_h=30 * 24.0)  # one month after the simulated 5-year history
    frame = run_scenario(sc).to_frame()
    sessions = session_table(frame, sc.events)
    assert len(sessions) >= 10
    text = html_report(frame, title=f"{sc.name} {HOSTILE}", description=sc.description, sessions=sessions,
                       markers=[(10.0, MARKER)],
                       case_values=[{"quantity": "Phosphate", "reported": "1.9 mmol/L", "model": "1.8 mmol/L"}],
                       notes=["A one-month run."], citations=["Peterson MC, Riggs MM. Bone 2010;46:49-63."])
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(text, encoding="utf-8")
    return path


def test_report_renders_in_chromium(simulated_report, tmp_path):
    browser = chromium()
    text = simulated_report.read_text(encoding="utf-8")
    panels = re.findall(r'<div id="(panel-[a-z0-9-]+)"', text)
    assert {"panel-calcium", "panel-ionized-calcium", "panel-phosphate", "panel-pth", "panel-cap"} <= set(panels)
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", PROBE + "\n</body>"), encoding="utf-8")
    proc = run_chromium(browser, probe, tmp_path, "--dump-dom")
    assert console_problems(proc.stderr) == []
    dom = proc.stdout
    starts = sorted((dom.index(f'id="{p}"'), p) for p in panels)
    for (begin, name), (end, _) in zip(starts, [*starts[1:], (len(dom), "")], strict=True):
        chunk = dom[begin:end]
        assert 'class="main-svg"' in chunk, f"{name} did not render"
        assert "scatterlayer" in chunk and 'class="annotation"' in chunk, name
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom)
    assert match, "the probe script did not run"
    ranges = json.loads(html.unescape(match.group(1)))
    assert set(ranges) == set(panels)
    for name, rng in ranges.items():
        assert rng == pytest.approx([5, 15]), f"zoom did not reach {name}"


def test_report_screenshot(simulated_report, tmp_path):
    browser = chromium()
    shot = tmp_path / "report.png"
    proc = run_chromium(browser, simulated_report, tmp_path, f"--screenshot={shot}", "--window-size=1400,2400")
    assert console_problems(proc.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000
    from PIL import Image  # matplotlib's dependency

    with Image.open(shot) as im:
        assert im.size == (1400, 2400)
        colours = im.convert("RGB").resize((350, 600)).getcolors(maxcolors=1_000_000)
    assert len(colours) > 100  # plots, not a blank page


def test_extra_tables_are_shown_and_escaped():
    rows = [{"parameter": "deposit_growth_rate", "factor": "0.8", "diameter (cm)": "12.8"},
            {"parameter": HOSTILE, "factor": "1.2", "diameter (cm)": "16.8"}]
    out = html_report(synthetic_frame(), title="t", description="d", sessions=None, markers=[],
                      tables=[("Robustness", f"caption {HOSTILE}", rows)])
    assert "<h2>Robustness</h2>" in out and 'id="table-0"' in out
    assert "<th>parameter</th><th>factor</th><th>diameter (cm)</th>" in out
    assert "<td>deposit_growth_rate</td><td>0.8</td><td>12.8</td>" in out
    assert "<b>bold</b>" not in out


# Switch to conventional units, then record the PTH panel's first model value, axis title and band, the deposit
# axis range, and a table cell that follows the switch.
UNITS_PROBE = """<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var gd = document.getElementById("panel-pth");
    var before = Array.from(gd._fullData[0].y.slice(0, 1));
    document.querySelector("input[name=units][value=conventional]").click();
    setTimeout(function () {
      var dep = document.getElementById("panel-deposit");
      var out = {before: before, after: gd.data[0].y.slice(0, 1), title: gd.layout.yaxis.title.text,
                 band: [gd.layout.shapes[0].y0, gd.layout.shapes[0].y1], deposit: dep.layout.yaxis.range,
                 heading: document.getElementById("panel-pth-heading").textContent,
                 cell: document.getElementById("cell").textContent, units: document.body.dataset.units};
      var pre = document.createElement("pre");
      pre.id = "probe";
      pre.textContent = JSON.stringify(out);
      document.body.appendChild(pre);
    }, 800);
  }, 500);
});
</script>"""


def test_unit_switch_and_observations_in_chromium(tmp_path):
    browser = chromium()
    frame = synthetic_frame()
    obs = [Observation(20.0, "deposit_diameter_cm", 15.0, "approximately 15 cm"),
           Observation(20.0, "pth_pmol_L", 3.7, "3.7 pmol/l")]
    cell = '<p id="cell" data-si="3.7" data-conventional="35">3.7</p>'
    text = html_report(frame, title="t", description="d", sessions=synthetic_sessions(), markers=[(20.0, MARKER)],
                       observations=obs, intro_tables=[cell])
    page = tmp_path / "units.html"
    page.write_text(text.replace("</body>", UNITS_PROBE + "\n</body>"), encoding="utf-8")
    proc = run_chromium(browser, page, tmp_path, "--dump-dom")
    assert console_problems(proc.stderr) == []
    match = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout)
    assert match, "the probe script did not run"
    got = json.loads(html.unescape(match.group(1)))
    assert got["after"][0] == pytest.approx(got["before"][0] * 9.425, rel=1e-4)
    assert "pg/mL" in got["title"] and "pg/mL" in got["heading"]
    assert got["band"] == pytest.approx([1.5 * 9.425, 6.1 * 9.425], rel=1e-6)
    assert got["deposit"][1] >= 15.0  # the reported 15 cm is on the chart (the model reaches 1.2 cm)
    assert got["cell"] == "35" and got["units"] == "conventional"


@pytest.mark.slow
def test_seed_report_size_and_content(tmp_path):
    """`ckdmbd run seed-case`: the report at most 1.5 MB, the reported values and the presentation on it."""
    from typer.testing import CliRunner

    from ckdmbd.cli import app

    out = tmp_path / "seed"
    result = CliRunner().invoke(app, ["run", "seed-case", "--png", "-q", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert len(page.encode("utf-8")) <= 1_500_000
    assert page.count("reported for the patient") >= 4  # calcium, phosphate, PTH, deposit panels
    assert "presentation: reported calcium, phosphate, pth, deposit diameter" in page
    assert 'id="panel-deposit"' in page and 'id="outcomes"' in page
    assert "<th>Pre-dialysis intact PTH (pmol/L)</th>" in page  # the robustness table: the same labels
    summary = json.loads((out / "summary.json").read_text())
    assert summary["variables"]["deposit_diameter_cm"]["max"] > 14.0
    assert (out / "overview.png").stat().st_size > 50_000


def test_every_figure_passes_plotlys_schema(monkeypatch):
    """The page is written without plotly's validation (report_html.VALIDATE_FIGURES); with it on, a report with
    every kind of trace (series, pre-dialysis values, a forecast band, observations, markers) is accepted."""
    import ckdmbd.report_html as report_html

    frame = synthetic_frame()
    for col in ("calcium_mmol_L", "phosphate_mmol_L", "pth_pmol_L"):
        frame[f"{col}_p05"] = frame[col] * 0.9
        frame[f"{col}_p95"] = frame[col] * 1.1
    observations = [Observation(5.0, "phosphate_mmol_L", 2.1, "6.6 mg/dL"),
                    Observation(8.0, "pth_pmol_L", 120.0, "120 pmol/L")]
    monkeypatch.setattr(report_html, "VALIDATE_FIGURES", True)
    page = html_report(frame, title="validated", description="every trace", sessions=synthetic_sessions(),
                       markers=[(12.0, MARKER)], observations=observations)
    assert page.count('class="panel-section"') >= 5
    # the switch reaches plotly's checks: a figure with a property plotly does not know is refused
    real = report_html._figure_json

    def broken(*args, **kwargs):
        fig = real(*args, **kwargs)
        fig["data"][0]["no_such_property"] = 1
        return fig

    monkeypatch.setattr(report_html, "_figure_json", broken)
    with pytest.raises(ValueError, match="no_such_property"):
        html_report(frame, title="broken", description="a bad figure", sessions=None, markers=[])


def _page_figures(page: str) -> list:
    """(div id, data, layout) of every Plotly.newPlot call of a page, parsed."""
    found = re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"displaylogo', page, re.S)
    return [(m.group(1), json.loads(m.group(2)), json.loads(m.group(3))) for m in found]


def test_unvalidated_figures_equal_what_plotlys_validation_writes(monkeypatch):
    """Written without validation (typed arrays and the template dict made by report_html itself), every figure
    parses to the same data and layout as with plotly's validation, and the page has the same size."""
    import ckdmbd.report_html as report_html

    args = {"title": "x", "description": "y", "sessions": synthetic_sessions(), "markers": [(12.0, MARKER)],
            "observations": [Observation(5.0, "phosphate_mmol_L", 2.1, "6.6 mg/dL")]}
    fast = html_report(synthetic_frame(), **args)
    monkeypatch.setattr(report_html, "VALIDATE_FIGURES", True)
    checked = html_report(synthetic_frame(), **args)
    figures = _page_figures(fast)
    assert len(figures) >= 5
    assert figures == _page_figures(checked)
    assert len(fast) == len(checked)
