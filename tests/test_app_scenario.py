"""The what-if page's scenarios (:mod:`ckdmbd.app_scenario`): a scenario file uploaded to the server (parsed as
data, the CLI's one-line errors, 400), the scenario's own events from t = 0 moved on the timeline (the what-if is the
scenario with the event written there, its history not simulated again), and the TOML writer behind both."""

from __future__ import annotations

import json
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ckdmbd import app_history, app_scenario
from ckdmbd.app import WhatIfError, parse_request, simulate_whatif
from ckdmbd.cli import app as cli
from ckdmbd.scenario import MAX_FILE_BYTES, builtin_names, load_scenario, parse_scenario

# A patient of one's own: the adherent dialysis patient with more phosphorus in his diet, who has his
# parathyroid glands removed 40 days after t = 0; two months shown.
MINE = """\
[scenario]
name = "my-patient"
extends = "hemodialysis-adherent"
duration = "2 months"

[patient]
diet_phosphorus = "1200 mg/day"

[[events]]
name = "ptx"
type = "parathyroidectomy"
time = "40 days"
fraction_removed = 0.95
"""


def _post(url: str, path: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url + path, data=body, headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode("utf-8"))


def _simulate(url: str, **body) -> tuple[int, dict]:
    return _post(url, "/api/simulate", json.dumps(body).encode())


@pytest.mark.parametrize("name", builtin_names())
def test_the_toml_writer_gives_every_builtin_scenario_back(name):
    entry = app_scenario.builtin(name)
    text = app_scenario.to_toml(entry.doc)
    assert tomllib.loads(text) == entry.doc
    assert parse_scenario(text, entry.scenario.source) == load_scenario(name)


def test_the_toml_writer_keeps_awkward_values():
    doc = {"a": 'quote " backslash \\ tab \t newline \n del \x7f é', "b": [1, 2.5, -1e300, True], "c": float("inf"),
           "t": {"inline": {"x": [{"y": 1}]}}, "rows": [{"k": "v"}, {"k": "w"}]}
    back = tomllib.loads(app_scenario.to_toml(doc))
    assert back == doc


def test_an_uploaded_scenario_runs_and_its_controls_come_from_it(server):
    status, entry = _post(server, "/api/scenario?name=mine.toml", MINE.encode())
    assert status == 200, entry
    assert entry["name"].startswith("upload-") and entry["label"] == "my-patient (uploaded mine.toml)"
    assert entry["months"] == pytest.approx(2.0, abs=0.01)
    diet = next(p for p in entry["parameters"] if p["name"] == "dietary_phosphorus")
    assert diet["value"] == pytest.approx(1200.0)  # its [patient], not the parent's 1000 mg/day
    assert [(e["id"], e["type"], e["day"]) for e in entry["events"]] == [("ptx", "parathyroidectomy", 40.0)]
    again = _post(server, "/api/scenario?name=other.toml", MINE.encode())[1]
    assert again["name"] == entry["name"]  # the same text: the same scenario (and the same kept history)
    status, result = _simulate(server, scenario=entry["name"], months=2)
    assert status == 200, result
    run = result["runs"]["what-if"]
    assert run["status"] == "ok" and len(run["start_day"]) >= 20
    pth = np.array(run["pre_pth_pmol_L"], dtype=float)
    days = np.array(run["start_day"])
    assert pth[days > 50].mean() < 0.5 * pth[days < 35].mean()  # its own event acts: PTH falls after the surgery
    phosphate = np.mean(run["pre_phosphate_mmol_L"][:8])
    _, written = _simulate(server, scenario="hemodialysis-adherent", months=2)
    assert phosphate > np.mean(written["runs"]["what-if"]["pre_phosphate_mmol_L"][:8]) + 0.05  # its diet acts


def test_moving_an_event_of_an_uploaded_scenario(server):
    """The parathyroidectomy moved from day 40 to day 10: PTH the same before day 10, lower from two weeks later;
    the history is not simulated again."""
    key = _post(server, "/api/scenario?name=mine.toml", MINE.encode())[1]["name"]
    _, written = _simulate(server, scenario=key, months=2)
    before = dict(app_history.runs)
    status, moved = _simulate(server, scenario=key, months=2, event_days={"ptx": 10})
    assert status == 200, moved
    assert app_history.runs["history"] == before["history"]  # only events from t = 0 on moved: history kept
    assert moved["events"] == [{"id": "ptx", "type": "parathyroidectomy", "day": 40.0, "label": "parathyroidectomy "
                                "(ptx)", "what_if_day": 10.0}]
    days = np.array(moved["runs"]["what-if"]["start_day"])
    early = np.array(moved["runs"]["what-if"]["pre_pth_pmol_L"], dtype=float)
    late = np.array(written["runs"]["what-if"]["pre_pth_pmol_L"], dtype=float)
    np.testing.assert_allclose(early[days < 10], late[days < 10], rtol=1e-9)
    assert np.all(early[(days > 24) & (days < 40)] < 0.5 * late[(days > 24) & (days < 40)])


def _cli_error(tmp_path: Path, monkeypatch, name: str, body: bytes) -> str:
    """What ``ckdmbd run NAME`` says of this file (its one line, without the ``ckdmbd: error:`` prefix)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_bytes(body)
    result = CliRunner().invoke(cli, ["run", name, "--out", str(tmp_path / "out")], prog_name="ckdmbd")
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert line.startswith("ckdmbd: error: ") and "\n" not in line
    return line.removeprefix("ckdmbd: error: ")


BAD_UPLOADS = [  # (id, file body, start of the one-line message)
    ("unknown field", MINE.replace('fraction_removed = 0.95', 'fraction_removed = 0.95\ncolour = "red"'),
     "events[0].colour: unknown field"),
    ("wrong unit", MINE.replace('"1200 mg/day"', '"1200 mmHg"'), "patient.diet_phosphorus: "),
    ("negative dose", MINE + '\n[[events]]\ntype = "cinacalcet"\ntime = "45 days"\ndose = "-30 mg/day"\n',
     "events[1].dose: '-30 mg/day'"),
    ("time after the end", MINE.replace('"40 days"', '"3 months"'), "events[3].time: '3 months' is at or after"),
    ("not TOML", "[scenario\nname = 1\n", "mine.toml: not a valid TOML file"),
    ("not UTF-8", b"[scenario]\nname = \"\xff\xfe\"\n", "cannot read scenario file 'mine.toml': not UTF-8 text"),
    ("too large", b"#" * (MAX_FILE_BYTES + 1), f"cannot read scenario file 'mine.toml': larger than {MAX_FILE_BYTES}"),
]


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in BAD_UPLOADS], ids=[c[0] for c in BAD_UPLOADS])
def test_a_bad_scenario_file_is_the_cli_line_and_400(server, tmp_path, monkeypatch, body, expected):
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    status, error = _post(server, "/api/scenario?name=mine.toml", data)
    assert status == 400, error
    message = error["error"]
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert message.startswith(expected), message
    assert message == _cli_error(tmp_path, monkeypatch, "mine.toml", data)  # the CLI's words for the same file


def test_an_upload_may_not_read_the_servers_files_nor_lack_dialysis(server, tmp_path):
    (tmp_path / "parent.toml").write_text(app_scenario.to_toml(app_scenario.builtin("seed-case").doc))
    child = f'[scenario]\nname = "x"\nextends = "{tmp_path / "parent.toml"}"\n'
    status, error = _post(server, "/api/scenario?name=x.toml", child.encode())
    assert status == 400 and error["error"].startswith("scenario.extends: ")
    assert "built-in scenario only" in error["error"]
    no_dialysis = b'[scenario]\nname = "ckd"\nextends = "ckd-progression"\n'
    status, error = _post(server, "/api/scenario?name=ckd.toml", no_dialysis)
    assert status == 400 and error["error"].startswith("scenario: 'ckd' (ckd.toml) has no hemodialysis event")
    status, error = _simulate(server, scenario="upload-0000000000000000", months=1)
    assert status == 400 and "is not a built-in dialysis scenario" in error["error"]


@pytest.mark.parametrize(("moves", "message"), [
    ({"graft-excision": -1}, r"event_days.graft-excision: -1 must be a day in \[0, 913.125\)"),
    ({"graft-excision": 913.2}, r"event_days.graft-excision: 913.2 must be a day in \[0, 913.125\)"),
    ({"graft-excision": "soon"}, "event_days.graft-excision: 'soon' must be a day"),
    ({"anuria": 10}, "event_days.anuria: not an event of seed-case from t = 0 on"),  # in the history: not movable
    ([639], r"event_days: \[639\] must be an object"),
])
def test_an_event_moved_before_t0_or_past_the_end_is_refused(moves, message):
    with pytest.raises(WhatIfError, match=message):
        parse_request({"scenario": "seed-case", "event_days": moves})


def test_the_seed_case_graft_excision_moved_earlier_is_the_early_excision_what_if():
    """Moving the graft excision from 21 to 6 months on the page is the built-in what-if that writes it there
    (seed-case-early-graft-excision): the same deposit curve, a different one from the case as written, and the
    9.5-year history simulated once for all three."""
    early = app_scenario.builtin("seed-case-early-graft-excision").scenario.events
    six_months = next(e.time_h for e in early if type(e).__name__ == "GraftExcision") / 24.0
    written = simulate_whatif(parse_request({"scenario": "seed-case"}))
    before = dict(app_history.runs)
    moved = simulate_whatif(parse_request({"scenario": "seed-case", "event_days": {"graft-excision": six_months}}))
    variant = simulate_whatif(parse_request({"scenario": "seed-case-early-graft-excision"}))
    assert app_history.runs["history"] == before["history"]  # same history: kept
    deposit = np.array(moved["runs"]["what-if"]["deposit_mass_g"], dtype=float)
    np.testing.assert_allclose(deposit, np.array(variant["runs"]["what-if"]["deposit_mass_g"], dtype=float),
                               rtol=1e-6, atol=1e-9)
    as_written = np.array(written["runs"]["what-if"]["deposit_mass_g"], dtype=float)
    days = np.array(moved["runs"]["what-if"]["start_day"])
    assert np.max(np.abs(deposit - as_written)[days > six_months + 30]) > 0.1  # the curve moves (grams)
    assert deposit[-1] != as_written[-1]


@pytest.mark.xfail(strict=True, reason=(
    "the model's physiology, not the app (tests/test_seed_case.py::test_early_graft_excision_does_not_enlarge_the_"
    "mass, issues 9/10): without PTH the coupled bone takes up less calcium phosphate, so excising the graft at "
    "6 months leaves a larger deposit at 30 months (measured 1.56 g against 0.06 g; largest 49.4 g against 33.2 g), "
    "where the case report's course suggests smaller or equal"))
def test_an_earlier_graft_excision_leaves_no_larger_deposit():
    written = simulate_whatif(parse_request({"scenario": "seed-case"}))["runs"]["what-if"]
    moved = simulate_whatif(parse_request({"scenario": "seed-case", "event_days": {"graft-excision": 182.625}}))
    assert moved["runs"]["what-if"]["deposit_mass_g"][-1] <= written["deposit_mass_g"][-1]


def test_an_event_can_move_into_months_run_beyond_the_files_duration(server):
    """The file runs 2 months; the page runs it for 3 and moves its surgery to day 75, after the file's end."""
    key = _post(server, "/api/scenario?name=mine.toml", MINE.encode())[1]["name"]
    status, result = _simulate(server, scenario=key, months=3, event_days={"ptx": 75})
    assert status == 200, result
    run = result["runs"]["what-if"]
    days, pth = np.array(run["start_day"]), np.array(run["pre_pth_pmol_L"], dtype=float)
    assert days.max() > 85 and pth[days > 85].mean() < 0.5 * pth[(days > 45) & (days < 75)].mean()
    written = np.array(result["runs"]["as written"]["pre_pth_pmol_L"], dtype=float)
    assert written[(days > 45) & (days < 75)].mean() < 0.5 * pth[(days > 45) & (days < 75)].mean()
