"""Scenario comparison (issue 14): outcomes at chosen times, the overlaid page, and the command."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import chromium, console_problems, run_chromium
from test_html_report import synthetic_frame, synthetic_sessions

from ckdmbd.compare import Run, compare_html, default_times, outcomes
from ckdmbd.scenario import load_scenario


def synthetic_runs() -> list[Run]:
    seed = load_scenario("seed-case")
    adherent = load_scenario("seed-case-adherent")
    a, b = synthetic_frame(), synthetic_frame()
    b["phosphate_mmol_L"] -= 0.4
    b["deposit_diameter_cm"] *= 0.1
    sa, sb = synthetic_sessions(), synthetic_sessions()
    sb["pre_phosphate_mmol_L"] = 1.3
    return [Run(seed, a, sa), Run(adherent, b, sb)]


def test_outcomes_are_pre_dialysis_means_and_the_deposit():
    runs = synthetic_runs()
    table = outcomes(runs, [20.0, 30.0])
    assert list(table["scenario"]) == ["seed-case", "seed-case", "seed-case-adherent", "seed-case-adherent"]
    assert {"pre_phosphate_mmol_L", "pre_calcium_mmol_L", "pre_pth_pmol_L", "deposit_diameter_cm",
            "max_deposit_diameter_cm"} <= set(table.columns)
    assert table["pre_phosphate_mmol_L"].tolist() == pytest.approx([1.9, 1.9, 1.3, 1.3])
    first = table.iloc[0]
    frame = runs[0].frame
    i = int(np.argmin(np.abs(frame["time_days"].to_numpy() - 20.0)))
    assert first["deposit_diameter_cm"] == pytest.approx(frame["deposit_diameter_cm"].iloc[i])
    assert first["max_deposit_diameter_cm"] >= first["deposit_diameter_cm"]


def test_default_times_are_the_reported_ones_and_the_end():
    runs = synthetic_runs()  # the seed case reports its values at 18 months, after these 30 synthetic days
    assert default_times(runs) == [pytest.approx(30.0)]
    runs[0].frame = pd.concat([runs[0].frame, pd.DataFrame({"time_days": [600.0]})], ignore_index=True)
    runs[1].frame = runs[0].frame
    assert default_times(runs)[0] == pytest.approx(18 * 365.25 / 12, abs=0.5)


def test_compare_page_renders_with_every_run(tmp_path: Path):
    runs = synthetic_runs()
    page = compare_html(runs, outcomes(runs, [20.0]), "Comparison <b>x</b>")
    assert "<b>x</b>" not in page and 'id="outcomes"' in page
    for key in ("calcium", "phosphate", "pth", "deposit"):
        assert f'id="panel-{key}"' in page
    assert page.count("* plotly.js (basic - minified) v") == 1
    browser = chromium()
    path = tmp_path / "compare.html"
    probe = """<script>window.addEventListener("load", function () { setTimeout(function () {
      var gd = document.getElementById("panel-phosphate");
      document.querySelector("input[name=units][value=conventional]").click();
      setTimeout(function () {
        var pre = document.createElement("pre"); pre.id = "probe";
        pre.textContent = JSON.stringify({names: gd.data.map(function (t) { return t.name; }),
                                          title: gd.layout.yaxis.title.text,
                                          cell: document.querySelector("#outcomes td[data-si]").textContent});
        document.body.appendChild(pre); }, 800); }, 500); });</script>"""
    path.write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    proc = run_chromium(browser, path, tmp_path, "--dump-dom")
    assert console_problems(proc.stderr) == []
    match = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout)
    assert match, "the probe did not run"
    got = json.loads(html.unescape(match.group(1)))
    assert got["names"] == ["seed-case (pre-dialysis)", "seed-case-adherent (pre-dialysis)"]
    assert "mg/dL" in got["title"] and got["cell"].endswith("mg/dL")


@pytest.mark.slow
def test_compare_command(tmp_path: Path):
    from typer.testing import CliRunner

    from ckdmbd.cli import app

    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", "hemodialysis-adherent", "hemodialysis-nonadherent", "--duration",
                                      "28 days", "--at", "14 days", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "outcomes.csv")
    assert list(table["scenario"]) == ["hemodialysis-adherent", "hemodialysis-nonadherent"]
    adherent, nonadherent = table["pre_phosphate_mmol_L"]
    assert nonadherent > adherent  # binders and diet lower the pre-dialysis phosphate
    assert (out / "report.html").stat().st_size < 1_500_000


def test_compare_needs_two_scenarios(tmp_path: Path):
    from typer.testing import CliRunner

    from ckdmbd.cli import app

    result = CliRunner().invoke(app, ["compare", "seed-case", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "at least two" in result.output
    assert not (tmp_path / "x").exists()
