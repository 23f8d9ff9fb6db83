"""The ``ckdmbd`` command: runs write their three files; bad input is one line on stderr, exit 2, no files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ckdmbd import units
from ckdmbd.cli import app
from ckdmbd.report import DEPOSIT_COLUMNS, HEADLINE
from ckdmbd.scenario import builtin_names, load_scenario
from ckdmbd.variables import label

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SHORT = {"ckd-progression": "30 days"}  # the 10-year scenario is run for 30 days here
SCRIPT = Path(sys.executable).with_name("ckdmbd")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), prog_name="ckdmbd")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>" for p in folder.rglob("*")}


def check_outputs(out: Path, name: str, duration_h: float, interval_h: float) -> None:
    files = sorted(p.name for p in out.iterdir())
    frame = pd.read_csv(out / "timeseries.csv")
    dialysis = "on_dialysis" in frame and frame["on_dialysis"].max() > 0
    png_written = (out / "overview.png").exists()
    assert files == sorted(["report.html", "summary.json", "timeseries.csv", *(["sessions.csv"] if dialysis else []),
                            *(["overview.png"] if png_written else [])])
    assert frame.columns[0] == "time_days"
    for col in ("calcium_mmol_L", "phosphate_mmol_L", "pth_pmol_L", "calcitriol_pmol_L", "gfr_mL_min"):
        assert col in frame.columns
        assert frame[col].notna().all() and (frame[col] >= 0).all(), col
    # every output interval from 0, and the end of the run (365.25 days with daily output)
    expected = np.arange(0.0, duration_h + 1e-9, interval_h)
    if expected[-1] < duration_h - 1e-9:
        expected = np.append(expected, duration_h)
    times = frame["time_days"].to_numpy()
    if dialysis:  # the regular grid plus every 15 min of each session: the regular grid must be contained
        assert np.all(np.diff(times) > 0)
        assert np.min(np.abs(times[None, :] - (expected / units.HOURS_PER_DAY)[:, None]), axis=1).max() < 1e-6
    else:
        assert times == pytest.approx(expected / units.HOURS_PER_DAY, rel=1e-8, abs=1e-12)  # "%.9g"

    summary = json.loads((out / "summary.json").read_text())
    assert {"scenario", "description", "configuration", "duration_days", "output_interval_hours", "variables",
            "mass_balance", "solver", "citations"} <= summary.keys()
    assert summary["scenario"] == name
    assert summary["duration_days"] == pytest.approx(duration_h / units.HOURS_PER_DAY)
    assert summary["output_interval_hours"] == pytest.approx(interval_h)
    # the headline variables and GFR always; ionised calcium where the model has it, the deposit where a site is
    assert {*HEADLINE, "gfr_mL_min"} <= set(summary["variables"])
    assert set(summary["variables"]) <= {*HEADLINE, "gfr_mL_min", "ionized_calcium_mmol_L", *DEPOSIT_COLUMNS}
    for col, v in summary["variables"].items():
        assert {"label", "unit", "start", "end", "min", "max"} <= v.keys()
        assert v["label"] == label(col) and v["label"].endswith(f"({v['unit']})"), col  # one naming scheme
        assert v["min"] <= v["start"] <= v["max"] and v["min"] <= v["end"] <= v["max"], col
        assert v["start"] == pytest.approx(frame[col].iloc[0], rel=1e-6)
    for element in ("calcium", "phosphate"):
        balance = summary["mass_balance"][element]
        assert balance["body_start_mmol"] > 0
        assert balance["relative_imbalance"] < 1e-6, (element, balance)
    assert summary["solver"]["status"] == "success"
    assert summary["solver"]["steps"] > 0
    assert summary["citations"] and all(isinstance(c, str) for c in summary["citations"])

    if png_written:
        png = (out / "overview.png").read_bytes()
        assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "plotly" in page


@pytest.mark.parametrize("name", builtin_names())
def test_run_builtin(name: str, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"
    args = ["run", name, "--out", str(out)]
    if name in SHORT:
        args += ["--duration", SHORT[name]]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    sc = load_scenario(name)
    duration_h = 720.0 if name in SHORT else sc.duration_h
    check_outputs(out, sc.name, duration_h, sc.output_interval_h)
    # the short summary: the headline variables, the mass balance and the files written
    for text in (name, "Total calcium", "Intact PTH", "mass balance", "wrote", "summary.json"):
        assert text in result.stdout, (text, result.stdout)
    assert len(result.stdout.splitlines()) < 60
    dialysis = any(type(e).__name__ == "Hemodialysis" for e in sc.events)
    written = ["report.html", "summary.json", "timeseries.csv", *(["sessions.csv"] if dialysis else [])]
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["deep", "out", *written])  # no temporary folder


def test_run_overrides_and_quiet(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("kept")
    result = invoke("run", "teriparatide-20ug", "-o", str(out), "--duration", "3 days", "--output-interval", "30 min",
                    "-q")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert (out / "notes.txt").read_text() == "kept"
    (out / "notes.txt").unlink()
    check_outputs(out, "teriparatide-20ug", 72.0, 0.5)


def test_run_default_out_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "teriparatide-20ug", "--duration", "3 days", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "teriparatide-20ug" / "summary.json").is_file()


def test_run_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[scenario]\nname = "mine"\nduration = "5 days"\noutput_interval = "12 h"\n'
                    '[patient]\ngfr = "30 mL/min"\ndiet_phosphorus = "1000 mg/day"\n'
                    '[[events]]\ntype = "set_gfr"\ntime = "2 days"\ngfr = "15 mL/min"\n')
    result = invoke("run", str(path), "--out", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.output
    check_outputs(tmp_path / "out", "mine", 120.0, 12.0)
    gfr = pd.read_csv(tmp_path / "out" / "timeseries.csv")["gfr_mL_min"]
    assert gfr.iloc[0] == pytest.approx(30.0) and gfr.iloc[-1] == pytest.approx(15.0)


def test_text_from_the_file_is_not_markup(tmp_path: Path) -> None:
    """A scenario's name and description, and the output path, are printed and plotted verbatim: neither rich
    markup ("[/bold]") nor matplotlib mathtext ("$\\frac$") may break the run after the simulation."""
    path = tmp_path / "odd.toml"
    path.write_text('[scenario]\nname = "odd [b]"\nduration = "2 days"\n'
                    'description = "costs $\\\\frac$ [red] and [/bold]"\n')
    out = tmp_path / "out[1]"
    result = invoke("run", str(path), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "odd [b]" in result.stdout
    assert f"wrote {out / 'report.html'}, {out / 'timeseries.csv'}, " in result.stdout  # the paths whole, not wrapped
    check_outputs(out, "odd [b]", 48.0, 24.0)


def test_scenarios_and_citations() -> None:
    result = invoke("scenarios")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == builtin_names()
    result = invoke("citations", "teriparatide-20ug")
    assert result.exit_code == 0 and "Peterson" in result.stdout


# --- bad input --------------------------------------------------------------------------------------------------

LATE = '[scenario]\nname = "late"\nduration = "10 days"\n[[events]]\ntype = "parathyroidectomy"\ntime = "5 days"\n'
BAD_DOSE = '[scenario]\nname = "bad"\nduration = "10 days"\n[[events]]\ntype = "teriparatide"\ntime = "1 h"\n' \
           'dose = "20 mL"\n'

BAD_GRAFT = '[scenario]\nname = "bad"\nduration = "10 days"\n[[events]]\ntype = "kidney_transplant"\ntime = "1 h"\n' \
            'graft_gfr = "500 mL/min"\n'

ZERO_GFR = '[scenario]\nname = "anuric"\nduration = "10 days"\n[patient]\ngfr = "0 mL/min"\n'

# (id, files to create in tmp_path, arguments before --out, text the error line must contain)
BAD_INPUT: list[tuple[str, dict[str, bytes | None], list[str], str]] = [
    ("unknown-scenario", {}, ["run", "no-such-scenario"], "no built-in scenario or file named 'no-such-scenario'"),
    ("directory", {"adir": None}, ["run", "{tmp}/adir"], "it is a folder"),
    ("binary-garbage", {"garbage.toml": bytes(range(256)) * 8}, ["run", "{tmp}/garbage.toml"], "not UTF-8 text"),
    ("nul-bytes", {"nul.toml": b"\x00\x01\x02"}, ["run", "{tmp}/nul.toml"], "not a valid TOML file"),
    ("not-toml", {"x.toml": b"[scenario\nname = "}, ["run", "{tmp}/x.toml"], "not a valid TOML file"),
    ("malformed-scenario", {"bad.toml": BAD_DOSE.encode()}, ["run", "{tmp}/bad.toml"], "events[0].dose: '20 mL'"),
    ("graft-gfr-500", {"graft.toml": BAD_GRAFT.encode()}, ["run", "{tmp}/graft.toml"],
     "events[0].graft_gfr: '500 mL/min'"),
    ("patient-gfr-zero", {"anuric.toml": ZERO_GFR.encode()}, ["run", "{tmp}/anuric.toml"],
     "patient.gfr: '0 mL/min' must be positive"),
    ("negative-duration", {}, ["run", "teriparatide-20ug", "--duration", "-1 year"], "--duration: '-1 year'"),
    ("zero-duration", {}, ["run", "teriparatide-20ug", "--duration", "0 days"], "--duration: '0 days'"),
    ("duration-without-unit", {}, ["run", "teriparatide-20ug", "--duration", "5"], "--duration: '5' has no unit"),
    ("duration-garbage", {}, ["run", "teriparatide-20ug", "--duration", "1 year +"], "--duration: cannot read"),
    ("duration-expression", {}, ["run", "teriparatide-20ug", "--duration", "10**10**10 h"], "--duration"),
    ("interval-longer-than-duration", {}, ["run", "teriparatide-20ug", "--duration", "5 days",
                                           "--output-interval", "6 days"], "--output-interval: '6 days'"),
    ("interval-negative", {}, ["run", "teriparatide-20ug", "--output-interval", "-1 h"], "--output-interval"),
    ("events-after-the-end", {"late.toml": LATE.encode()}, ["run", "{tmp}/late.toml", "--duration", "2 days"],
     "ends the run before events[0] starts"),
    ("doses-after-the-end", {}, ["run", "teriparatide-20ug", "--duration", "1 day"],
     "ends the run before events[0] is over"),
    ("out-is-a-file", {"afile": b"precious"}, ["run", "teriparatide-20ug", "--out", "{tmp}/afile"],
     "is not a folder"),
    ("out-below-a-file", {"afile": b"precious"}, ["run", "teriparatide-20ug", "--out", "{tmp}/afile/sub/out"],
     "is not a folder"),
    ("unknown-option", {}, ["run", "teriparatide-20ug", "--bogus"], "No such option: --bogus"),
    ("option-without-value", {}, ["run", "teriparatide-20ug", "--duration"], "--duration"),
    ("missing-scenario", {}, ["run"], "Missing argument"),
    ("unknown-command", {}, ["fly"], "No such command"),
    ("citations-unknown-scenario", {}, ["citations", "no-such-scenario"], "no-such-scenario"),
]


def setup_case(tmp_path: Path, files: dict[str, bytes | None], args: list[str]) -> tuple[list[str], Path]:
    for name, content in files.items():
        if content is None:
            (tmp_path / name).mkdir()
        else:
            (tmp_path / name).write_bytes(content)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out = tmp_path / "out"
    if args[0] == "run" and "--out" not in args and len(args) > 1:
        args[2:2] = ["--out", str(out)]
    return args, out


def check_rejected(code: int, stdout: str, stderr: str, expected: str) -> None:
    assert code == 2, (code, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ckdmbd: error: "), stderr
    assert expected in lines[0], (expected, stderr)
    assert stdout == ""


@pytest.mark.parametrize(("files", "args", "expected"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input(files, args, expected, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args, out = setup_case(tmp_path, files, args)
    before = snapshot(tmp_path)
    result = invoke(*args)
    check_rejected(result.exit_code, result.stdout, result.stderr, expected)
    assert not out.exists()
    assert snapshot(tmp_path) == before  # nothing written, nothing changed


def test_bad_input_leaves_an_existing_out_folder_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    before = snapshot(tmp_path)
    result = invoke("run", "teriparatide-20ug", "--out", str(out), "--duration", "-1 year")
    check_rejected(result.exit_code, result.stdout, result.stderr, "--duration")
    assert snapshot(tmp_path) == before


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # tests may run as root, who reads any file whatever its mode: simulate the missing permission
    path = tmp_path / "locked.toml"
    path.write_text(LATE)
    real = Path.read_text

    def read_text(self, *args, **kwargs):
        if self.name == "locked.toml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    result = invoke("run", str(path), "--out", str(tmp_path / "out"))
    check_rejected(result.exit_code, result.stdout, result.stderr, "Permission denied")
    assert not (tmp_path / "out").exists()


def test_solver_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ckdmbd.simulation

    def fail(*args, **kwargs):
        raise ckdmbd.simulation.SimulationError("simulation failed in the segment starting at t = 3 days: boom")

    monkeypatch.setattr(ckdmbd.simulation, "simulate", fail)
    result = invoke("run", "teriparatide-20ug", "--out", str(tmp_path / "out"))
    check_rejected(result.exit_code, result.stdout, result.stderr, "simulation failed")
    assert list(tmp_path.iterdir()) == []


def test_write_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ckdmbd.report

    def no_space(frame, title, path, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ckdmbd.report, "overview_plot", no_space)
    result = invoke("run", "teriparatide-20ug", "--duration", "3 days", "--png",
                    "--out", str(tmp_path / "a" / "b" / "out"))
    check_rejected(result.exit_code, result.stdout, result.stderr, "No space left on device")
    assert list(tmp_path.iterdir()) == []  # neither partial files nor the folders created on the way


# --- the real console script ------------------------------------------------------------------------------------

def run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    if not SCRIPT.exists():
        pytest.skip(f"console script not installed at {SCRIPT}")
    # this checkout's package, also where the console script was installed from another one
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_console_script_run(tmp_path: Path) -> None:
    proc = run_script("run", "teriparatide-20ug", "--out", "result", "--output-interval", "6 h", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "mass balance" in proc.stdout and "wrote" in proc.stdout
    check_outputs(tmp_path / "result", "teriparatide-20ug", 240.0, 6.0)


SCRIPT_CASES = ["unknown-scenario", "directory", "binary-garbage", "not-toml", "negative-duration",
                "duration-garbage", "events-after-the-end", "out-is-a-file", "unknown-option"]


def test_console_script_never_shows_a_traceback(tmp_path: Path) -> None:
    cases = {c[0]: c for c in BAD_INPUT}
    procs: dict[str, tuple[subprocess.Popen, Path, Callable[[], dict[str, bytes]], dict[str, bytes]]] = {}
    if not SCRIPT.exists():
        pytest.skip(f"console script not installed at {SCRIPT}")
    for case in SCRIPT_CASES:  # started together: each process mostly waits for its imports
        _, files, args, _ = cases[case]
        folder = tmp_path / case
        folder.mkdir()
        full_args, out = setup_case(folder, files, args)
        before = snapshot(folder)
        proc = subprocess.Popen([str(SCRIPT), *full_args], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        procs[case] = (proc, out, (lambda f=folder: snapshot(f)), before)
    for case, (proc, out, after, before) in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        check_rejected(proc.returncode, stdout, stderr, cases[case][3])
        assert not out.exists(), case
        assert after() == before, case


def test_png_on_request(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("run", "peterson-riggs-2010", "--duration", "30 days", "--png", "-q", "--out", str(out))
    assert result.exit_code == 0, result.output
    png = (out / "overview.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000


def test_show_history(tmp_path: Path) -> None:
    """--show-history: the simulated past is in the CSV, the sessions and the report; the summary's numbers are
    those of the run itself (t >= 0), the same as without the option."""
    plain, full = tmp_path / "plain", tmp_path / "full"
    args = ["run", "hemodialysis-adherent", "--duration", "7 days", "-q"]
    assert invoke(*args, "--out", str(plain)).exit_code == 0
    result = invoke(*args, "--show-history", "--png", "--out", str(full))
    assert result.exit_code == 0, result.output
    history_days = load_scenario("hemodialysis-adherent").history_h / units.HOURS_PER_DAY
    frame = pd.read_csv(full / "timeseries.csv")
    assert frame["time_days"].iloc[0] == pytest.approx(-history_days)
    assert pd.read_csv(full / "sessions.csv")["start_day"].iloc[0] < 0
    run_part = frame[frame["time_days"] >= 0].reset_index(drop=True)
    reference = pd.read_csv(plain / "timeseries.csv")
    np.testing.assert_allclose(run_part["time_days"], reference["time_days"], atol=1e-9)
    np.testing.assert_allclose(run_part["phosphate_mmol_L"], reference["phosphate_mmol_L"], rtol=1e-5)
    with_history, without = (json.loads((d / "summary.json").read_text()) for d in (full, plain))
    for col, v in without["variables"].items():
        assert with_history["variables"][col]["start"] == pytest.approx(v["start"], rel=1e-5), col
    page = (full / "report.html").read_text(encoding="utf-8")
    assert "before 0: simulated history" in page
    assert (full / "overview.png").read_bytes().startswith(PNG_SIGNATURE)
