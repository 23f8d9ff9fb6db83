"""``ckdmbd app``: the what-if server's API (validation, a real simulation, one-line errors) and the page driven
end to end in headless Chromium (controls preset from the URL, Run, plots and the table filled from the server)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import numpy as np
import pytest
from browser import chromium, console_problems, run_chromium

from ckdmbd.app import WhatIfError, dialysis_scenarios, parse_request


def _post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/api/simulate", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode("utf-8"))


def test_dialysis_scenarios_include_the_seed_case_and_its_what_ifs():
    names = dialysis_scenarios()
    assert {"seed-case", "seed-case-adherent", "seed-case-4x-weekly", "hemodialysis-adherent"} <= set(names)
    assert "ckd-progression" not in names  # no dialysis sessions: nothing pre-dialysis to show


@pytest.mark.parametrize(("body", "message"), [
    ({"scenario": "ckd-progression"}, "scenario: 'ckd-progression' is not a built-in dialysis scenario"),
    ({"scenario": "seed-case", "months": 0}, r"months: 0 must be a number in \(0, 36\]"),
    ({"scenario": "seed-case", "changes": {"gfr": "5 mL/min"}}, "changes.gfr: not adjustable here"),
    ({"scenario": "seed-case", "changes": {"dietary_phosphorus": "-5 mg/day"}},
     "changes.dietary_phosphorus: '-5 mg/day' must not be negative"),
    ({"scenario": "seed-case", "changes": {"dietary_phosphorus": "5 furlongs"}}, "changes.dietary_phosphorus"),
    ({"scenario": "seed-case", "colour": "red"}, "colour: unknown field"),
    ({"scenario": "seed-case", "cinacalcet": -30}, "cinacalcet: -30 must be a daily dose in mg from 0"),
    ({"scenario": "seed-case", "months": 2, "cinacalcet": 30, "cinacalcet_day": 61},
     r"cinacalcet_day: 61 must be a day in \[0, 60.875\) \(the run's 2 months\)"),
    ({"scenario": "seed-case", "cinacalcet_day": "soon"}, "cinacalcet_day: 'soon' must be a day"),
    (["seed-case"], "request: expected a JSON object"),
])
def test_malformed_requests_are_one_line(body, message):
    with pytest.raises(WhatIfError, match=message):
        parse_request(body)


def test_simulate_answers_the_what_if_in_the_right_direction(server):
    """More dietary phosphorus: higher pre-dialysis phosphate than the scenario as written."""
    catalogue = json.load(urllib.request.urlopen(server + "/api/scenarios", timeout=60))
    adherent = next(s for s in catalogue["scenarios"] if s["name"] == "hemodialysis-adherent")
    diet = next(p for p in adherent["parameters"] if p["name"] == "dietary_phosphorus")
    assert diet["unit"] == "mg/day" and diet["value"] == pytest.approx(1000.0)
    status, result = _post(server, json.dumps({"scenario": "hemodialysis-adherent", "months": 0.5,
                                               "changes": {"dietary_phosphorus": "1400 mg/day"}}).encode())
    assert status == 200, result
    changed, written = result["runs"]["what-if"], result["runs"]["as written"]
    assert changed["status"] == written["status"] == "ok" and len(changed["start_day"]) >= 5
    assert changed["pre_phosphate_mmol_L"][-1] > written["pre_phosphate_mmol_L"][-1] + 0.1
    status, error = _post(server, b"{not json")
    assert status == 400 and len(error["error"].splitlines()) == 1
    status, error = _post(server, json.dumps({"scenario": "seed-case", "months": 99}).encode())
    assert status == 400 and error["error"].startswith("months: 99")


def _drive(server: str, query: str, tmp_path, budget_ms: int = 300_000, timeout_s: float = 600) -> str:
    """The page's DOM after it ran the what-if in ``query`` in headless Chromium (no console errors)."""
    proc = run_chromium(chromium(), server + "/?" + query, tmp_path, "--dump-dom", budget_ms=budget_ms,
                        timeout_s=timeout_s)
    assert '<body data-state="done">' in proc.stdout, proc.stdout[-2000:]
    assert console_problems(proc.stderr) == []
    return proc.stdout


def _row(dom: str, label: str) -> tuple[float, float]:
    rows = dict(re.findall(r"<tr><td>([^<]+)</td>(.*?)</tr>", dom))
    cells = re.findall(r"<td>([^<]+)</td>", rows[label])
    return tuple(0.0 if c.startswith(("<", "&lt;")) else float(c) for c in cells[:2])  # "< 0.01": below 0.01


@pytest.mark.slow  # ~1 min: the browser drives seed-case runs (the 9.5 years of history once) through the server
def test_page_answers_the_seed_case_what_if_in_chromium(server, tmp_path):
    """The seed case with binders taken throughout: lower phosphate and (almost) no deposit, on the page."""
    dom = _drive(server, "scenario=seed-case&binder_adherence=1&run=1", tmp_path)
    written, changed = _row(dom, "Pre-dialysis phosphate (mmol/L)")
    assert changed < written - 0.05
    most_written, most_changed = _row(dom, "Largest soft-tissue deposit (g)")
    assert most_written > 10.0 and most_changed < 0.1 * most_written
    assert 'id="plot-deposit_mass_g"' in dom and 'id="plot-pre_phosphate_mmol_L"' in dom
    # the graft excision moved on the timeline from 21 to 6 months (the history is kept: seconds, not minutes)
    dom = _drive(server, "scenario=seed-case&day.graft-excision=182.625&run=1", tmp_path)
    assert _row(dom, "graft excision, day (moved)") == (639.2, 182.6)
    most_written, most_moved = _row(dom, "Largest soft-tissue deposit (g)")
    assert abs(most_moved - most_written) > 1.0  # the deposit curve moves (the direction: test_app_scenario.py)


@pytest.mark.slow  # ~20 s: the browser drives two simulations of the scenario through the server
def test_page_runs_a_what_if_in_chromium(server, tmp_path):
    dom = _drive(server, "scenario=hemodialysis-adherent&dietary_phosphorus=1400&months=1&run=1", tmp_path,
                 budget_ms=120_000, timeout_s=300)
    rows = dict(re.findall(r"<tr><td>([^<]+)</td>(.*?)</tr>", dom))
    cells = re.findall(r"<td>([^<]+)</td>", rows["Pre-dialysis phosphate (mmol/L)"])
    written, changed = float(cells[0]), float(cells[1])
    assert changed > written + 0.1  # the what-if shows the higher phosphate
    for panel in ("plot-pre_phosphate_mmol_L", "plot-pre_calcium_mmol_L", "plot-pre_pth_pmol_L"):
        assert f'id="{panel}"' in dom
    assert 'id="plot-deposit_mass_g"' not in dom  # no calcification site in this scenario: no deposit panel
    assert 'id="p-dietary_phosphorus"' in dom and "as written 1000" in dom


def _post_labs(url: str, body: bytes, query: str = "name=labs.csv") -> tuple[int, dict]:
    request = urllib.request.Request(f"{url}/api/labs?{query}", data=body, headers={"Content-Type": "text/csv"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode("utf-8"))


LABS = """# a patient's labs
time,analyte,value,unit,sample
2024-01-01T08:00:00Z,calcium,2.30,mmol/L,pre-dialysis
2024-01-01T08:00:00Z,phosphate,5.9,mg/dL,pre-dialysis
2024-01-01T08:00:00Z,pth,450,pg/mL,pre-dialysis
2024-01-01T08:00:00Z,albumin,38,g/L,
2024-01-15T08:00:00Z,phosphate,1.70,mmol/L,pre
"""


def test_uploaded_labs_come_back_as_points_on_the_scenario_days(server):
    status, result = _post_labs(server, LABS.encode())
    assert status == 200, result
    assert sorted(p["analyte"] for p in result["points"]) == ["calcium", "phosphate", "phosphate", "pth"]
    phosphate = sorted((p for p in result["points"] if p["analyte"] == "phosphate"), key=lambda p: p["day"])
    assert [p["day"] for p in phosphate] == pytest.approx([1 / 3, 14 + 1 / 3])  # 08:00 of the first date = day 1/3
    assert phosphate[0]["value"] == pytest.approx(5.9 / 3.097, rel=1e-3)  # mg/dL -> mmol/L (30.97 g/mol)
    assert phosphate[0]["panel"] == "pre_phosphate_mmol_L" and phosphate[0]["sample"] == "pre-dialysis"
    pth = next(p for p in result["points"] if p["analyte"] == "pth")
    assert pth["value"] == pytest.approx(450 / 9.43, rel=2e-2) and pth["unit"] == "pmol/L"
    assert result["not_drawn"] == 1  # the albumin
    assert next(p for p in result["points"] if p["analyte"] == "calcium")["sample"] == "pre-dialysis"
    from importlib import resources

    shipped = resources.files("ckdmbd.examples").joinpath("seed-case-labs.csv").read_bytes()  # some rows: no sample
    status, seed = _post_labs(server, shipped, "name=seed-case-labs.csv&start_date=2000-01-01")
    assert status == 200 and {p["sample"] for p in seed["points"]} >= {"", "pre-dialysis"}
    assert {p["analyte"] for p in seed["points"]} == {"calcium", "phosphate", "pth"}
    status, dated = _post_labs(server, LABS.encode(), "name=labs.csv&start_date=2023-12-01")
    assert status == 200 and min(p["day"] for p in dated["points"]) == pytest.approx(31 + 1 / 3)


@pytest.mark.parametrize(("body", "query", "message"), [
    (LABS.replace("5.9,mg/dL", "5.9,furlongs"), "name=mine.csv", r"^mine\.csv: line 4.*unit.*furlongs"),
    (LABS.replace("2.30", "2,30"), "name=labs.csv", r"^labs\.csv: line 3"),
    ("time,analyte\n", "name=labs.csv", r"^labs\.csv"),
    (LABS, "name=labs.csv&start_date=tomorrow", r"^start_date: 'tomorrow' is not a date"),
    (b"\xff\xfe\x00".decode("latin-1"), "name=labs.csv", r"^labs\.csv|^labs: the file is not UTF-8"),
])
def test_a_bad_lab_file_is_one_line_and_400(server, body, query, message):
    status, error = _post_labs(server, body.encode("utf-8") if "\xff" not in body else b"\xff\xfe\x00", query)
    assert status == 400, error
    assert len(error["error"].splitlines()) == 1 and "Traceback" not in error["error"]
    assert re.search(message, error["error"]), error["error"]


def test_a_lab_file_over_the_limit_is_refused_unread(server):
    from ckdmbd.app import MAX_LAB_BYTES

    status, error = _post_labs(server, b"#" * (MAX_LAB_BYTES + 1))
    assert status == 400 and error["error"].startswith(f"labs: a file of {MAX_LAB_BYTES + 1} bytes")


@pytest.mark.slow  # ~15 s: Chromium, one month of a 5-year dialysis history
def test_page_draws_uploaded_labs_on_the_curves_in_chromium(server, tmp_path):
    """Labs linked in the URL are posted as an upload would be and drawn as markers on their panels; a bad file
    gives the reader's one line on the page."""
    from urllib.parse import quote

    labs = ("day,analyte,value,unit,sample\n3,phosphate,1.9,mmol/L,pre\n10,phosphate,2.1,mmol/L,pre\n"
            "10,pth,60,pmol/L,pre\n")
    dom = _drive(server, f"scenario=hemodialysis-adherent&months=1&run=1&labs={quote(labs)}", tmp_path,
                 budget_ms=120_000, timeout_s=300)
    assert 'id="labs-note" data-state="done"' in dom and "3 results drawn" in dom
    phosphate = dom[dom.index('id="plot-pre_phosphate_mmol_L"'):dom.index('id="plot-pre_calcium_mmol_L"')]
    assert "uploaded labs" in phosphate  # the markers' legend entry on the phosphate panel
    calcium = dom[dom.index('id="plot-pre_calcium_mmol_L"'):dom.index('id="plot-pre_pth_pmol_L"')]
    assert "uploaded labs" not in calcium  # no calcium in the file: nothing drawn there
    bad = quote(labs.replace("1.9,mmol/L", "1.9,furlongs"))
    proc = run_chromium(chromium(), f"{server}/?scenario=hemodialysis-adherent&labs={bad}", tmp_path, "--dump-dom",
                        budget_ms=60_000, timeout_s=120)
    assert 'id="labs-note" data-state="error"' in proc.stdout, proc.stdout[-1500:]
    assert "linked labs: line 2" in proc.stdout  # the reader's message names the row
    assert console_problems(proc.stderr) == []


def test_moving_the_added_cinacalcet_on_the_timeline(server):
    """Cinacalcet from day 20 instead of day 0: PTH the same as without it before day 20, lower than that after."""
    def pth(**extra):
        status, result = _post(server, json.dumps({"scenario": "hemodialysis-nonadherent", "months": 2,
                                                   **extra}).encode())
        assert status == 200, result
        run = result["runs"]["what-if"]
        return np.array(run["start_day"]), np.array(run["pre_pth_pmol_L"], dtype=float)

    days, none = pth()
    _, early = pth(cinacalcet=60)
    late_days, late = pth(cinacalcet=60, cinacalcet_day=20)
    assert np.array_equal(days, late_days)
    before, after = days < 20, days > 30
    np.testing.assert_allclose(late[before], none[before], rtol=1e-9)
    assert np.all(late[after] < 0.9 * none[after]) and early[days < 20].mean() < 0.9 * none[days < 20].mean()


UPLOAD = """[scenario]
name = "my-patient"
extends = "hemodialysis-adherent"
duration = "2 months"

[[events]]
name = "ptx"
type = "parathyroidectomy"
time = "40 days"
fraction_removed = 0.95
"""


@pytest.mark.slow  # ~20 s: Chromium, two months of an uploaded scenario (a 5-year dialysis history) and one bad file
def test_page_uploads_a_scenario_and_moves_its_event_in_chromium(server, tmp_path):
    """A scenario file linked in the URL is posted as an upload would be and becomes the current scenario, its
    parathyroidectomy moved from day 40 to day 5: PTH falls weeks earlier, on the curves and in the table; a bad
    file gives the CLI's one line on the page and nothing runs."""
    from urllib.parse import quote

    dom = _drive(server, f"scenario_file={quote(UPLOAD)}&months=2&day.ptx=5&run=1", tmp_path, budget_ms=120_000,
                 timeout_s=300)
    assert 'id="scenario-note" data-state="done"' in dom and "my-patient (uploaded linked-scenario.toml)" in dom
    assert 'data-id="ptx"' in dom and "parathyroidectomy (ptx), day (moved)" in dom
    rows = dict(re.findall(r"<tr><td>([^<]+)</td>(.*?)</tr>", dom))
    assert re.findall(r"<td>([^<]+)</td>", rows["parathyroidectomy (ptx), day (moved)"])[:2] == ["40", "5"]
    written, changed = _row(dom, "Pre-dialysis intact PTH (pmol/L)")
    assert changed < 0.5 * written  # the last 4 weeks: after the surgery in both, but ~5 weeks longer in the what-if
    assert 'id="plot-pre_pth_pmol_L"' in dom
    bad = quote(UPLOAD.replace('"40 days"', '"40 furlongs"'))
    proc = run_chromium(chromium(), f"{server}/?scenario_file={bad}&run=1", tmp_path, "--dump-dom",
                        budget_ms=60_000, timeout_s=120)
    assert 'id="scenario-note" data-state="error"' in proc.stdout, proc.stdout[-1500:]
    assert "events[0].time: '40 furlongs' is not convertible to h" in proc.stdout  # the CLI's words
    assert '<body data-state="ready">' in proc.stdout and console_problems(proc.stderr) == []
