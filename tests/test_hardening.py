"""Issue 16 (hardening): the reproductions of the report as regression tests. Every malformed or extreme input is a
one-line error naming the field and the value, found in milliseconds; never a traceback, a hang or a wrong answer."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ckdmbd.scenario import ScenarioError, load_scenario, parse_quantity, parse_scenario, with_overrides

HEAD = '[scenario]\nname = "t"\nconfiguration = "default"\nduration = "10 days"\n'


def ev(body: str) -> str:
    return f"[[events]]\n{body}\n"


def refused(text: str, field: str) -> str:
    """Parse ``text``; it must be refused with a one-line message that names ``field``."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text)
    message = str(info.value)
    assert field in message and "\n" not in message, message
    return message


# --- 1. quantities: linear time, bounded -----------------------------------------------------------------------------
@pytest.mark.parametrize("letters", [23, 40, 60])
def test_quantity_parser_is_linear(letters: int) -> None:
    # the old pattern tried every split of the letters: 3.6 s with 23, more than 120 s with 40
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match=r"^duration: "):
        parse_quantity("30 " + "m" * letters + "1", "h", "duration")
    assert time.perf_counter() - start < 0.5  # the old pattern: 3.6 s with 23 letters


def test_quantity_parser_is_linear_through_the_cli_and_the_file() -> None:
    teri = load_scenario("teriparatide-20ug")
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match="--duration"):
        with_overrides(teri, "30 " + "m" * 40 + "1")
    refused('[scenario]\nname = "t"\nduration = "30 ' + "m" * 40 + '1"\n', "scenario.duration")
    assert time.perf_counter() - start < 2.0  # the old pattern: more than 120 s


@pytest.mark.parametrize("text", ["1 " + "h" * 70, " " * 65 + "1 h", "1" * 5000 + " h"])
def test_over_long_quantities_are_refused_unread(text: str) -> None:
    with pytest.raises(ScenarioError, match=r"too long for a quantity") as info:
        parse_quantity(text, "h", "x")
    assert len(str(info.value)) < 250


@pytest.mark.parametrize("text", ["1e300 h", "1e300 days", "-1e300 h", "1e13 h"])
def test_huge_quantities_are_out_of_range(text: str) -> None:
    with pytest.raises(ScenarioError, match=r"^x: .* is out of range"):
        parse_quantity(text, "h", "x", allow_negative=True)


def test_separators_inside_units_still_read() -> None:
    assert parse_quantity("2.4 g / day", "mg/day", "x") == pytest.approx(2400.0)
    assert parse_quantity("100 mg per day", "mg/day", "x") == pytest.approx(100.0)
    assert parse_quantity("6 L*h/h/h", "mL/min", "x") == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('duration = "101 years"\noutput_interval = "1 week"', "scenario.duration"),
        ('duration = "1e300 days"', "scenario.duration"),
    ],
)
def test_duration_is_bounded(body: str, field: str) -> None:
    refused(f'[scenario]\nname = "t"\n{body}\n', field)


def test_cli_duration_is_bounded() -> None:
    with pytest.raises(ScenarioError, match=r"--duration: '200 years' is longer than 100 years"):
        with_overrides(load_scenario("teriparatide-20ug"), "200 years", "1 week")


def test_dialysis_until_far_beyond_the_run_returns_at_once() -> None:
    start = time.perf_counter()
    refused(HEAD + ev('type = "set_gfr"\ntime = "0 h"\ngfr = "0 mL/min"')
            + ev('type = "hemodialysis"\ntime = "0 h"\nuntil = "1e300 days"'), "events[1].until")
    refused(HEAD + ev('type = "hemodialysis"\ntime = "0 h"\nuntil = "200 years"'), "events[0].until")
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (HEAD + '[patient]\ngfr = "201 mL/min"\n', "patient.gfr"),
        (HEAD + '[patient]\ngfr = "1 L/s"\n', "patient.gfr"),
        (HEAD + '[patient]\ngfr = "0 mL/min"\n', "patient.gfr: '0 mL/min' must be positive"),
        (HEAD + '[patient]\ndiet_calcium = "1e300 mg/day"\n', "patient.diet_calcium"),
        (HEAD + '[patient]\ndiet_phosphorus = "11 g/day"\n', "patient.diet_phosphorus"),
        (HEAD + ev('type = "diet"\ntime = "0 h"\ncalcium = "1e300 mg/day"'), "events[0].calcium"),
        (HEAD + ev('type = "set_gfr"\ntime = "0 h"\ngfr = "500 mL/min"'), "events[0].gfr"),
        (HEAD + ev('type = "gfr_decline"\ntime = "0 h"\nfrom = "300 mL/min"\nto = "10 mL/min"\nover = "1 day"'),
         "events[0].from"),
        (HEAD + ev('type = "teriparatide"\ntime = "0 h"\ndose = "5 kg"'), "events[0].dose"),
        (HEAD + ev('type = "teriparatide"\ntime = "0 h"\ndose = "20 ug"\ncount = 100001'), "events[0].count"),
    ],
)
def test_numbers_are_bounded(text: str, field: str) -> None:
    refused(text, field)


def test_patient_values_inside_the_bounds_still_read() -> None:
    sc = parse_scenario(HEAD + '[patient]\ngfr = "200 mL/min"\ndiet_calcium = "10 g/day"\n')
    assert sc.parameter_overrides["GFR_0"] == pytest.approx(12.0)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (HEAD + "[patient]\nweight = " + "9" * 5000 + "\n", "line 6: a number with too many digits"),
        (HEAD + ev('type = "teriparatide"\ntime = "0 h"\ndose = "20 ug"\ncount = ' + "1" * 5000), "line 9"),
        (HEAD + ev('type = "teriparatide"\ntime = "0 h"\ndose = "20 ug"\ncount = ' + "1" * 400), "count"),
        (HEAD + ev('type = "parathyroidectomy"\ntime = "0 h"\nfraction_removed = ' + "1" * 30), "fraction_removed"),
    ],
)
def test_enormous_integers_are_one_line_errors(text: str, field: str) -> None:
    message = refused(text, field)
    assert len(message) < 300


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300"])
def test_non_finite_bare_numbers_are_errors(value: str) -> None:
    refused(HEAD + ev(f'type = "parathyroidectomy"\ntime = "0 h"\nfraction_removed = {value}'), "fraction_removed")
    refused(f'[scenario]\nname = "t"\nduration = {value}\n', "scenario.duration")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (HEAD + ev('type = "phosphate_binder"\ntime = "0 h"\ndose = "3 g/day"\nbinder = ["pbe"]'), "events[0].binder"),
        (HEAD + ev('type = "phosphate_binder"\ntime = "0 h"\ndose = "3 g/day"\nbinder = {a = 1}'), "events[0].binder"),
        (HEAD + ev('type = "active_vitamin_d"\ntime = "0 h"\ndose = "0.25 ug/day"\ndrug = ["x"]'), "events[0].drug"),
        (HEAD + ev('type = "nutritional_vitamin_d"\ntime = "0 h"\ndose = "800 IU/day"\ndrug = ["x"]'),
         "events[0].drug"),
        (HEAD + '[[observations]]\nquantity = ["pth"]\ntime = "1 day"\nvalue = "30 pmol/L"\n',
         "observations[0].quantity"),
        (HEAD + '[[observations]]\nquantity = {a = "pth"}\ntime = "1 day"\nvalue = "30 pmol/L"\n',
         "observations[0].quantity"),
        (HEAD + ev('type = ["set_gfr"]\ntime = "0 h"\ngfr = "1 mL/min"'), "events[0].type"),
    ],
)
def test_arrays_and_tables_where_text_belongs(text: str, field: str) -> None:
    refused(text, field)


@pytest.mark.parametrize("depth", [20, 600, 5000])
def test_deeply_nested_toml(depth: int) -> None:
    message = refused(HEAD + "x = " + "[" * depth + "]" * depth + "\n", "nested")
    assert len(message) < 200


def test_control_characters_are_stripped_from_descriptions_and_notes() -> None:
    sc = parse_scenario('[scenario]\nname = "t"\nduration = "10 days"\ndescription = "red \\u001b[31mtext\\u0007"\n'
                        '[[observations]]\nquantity = "pth"\ntime = "1 day"\nvalue = "30 pmol/L"\n'
                        'note = "a \\u001b]0;title\\u0007 b"\nreported = "30\\u001b[2J"\n')
    assert sc.description == "red [31mtext"
    (obs,) = sc.observations
    assert "\x1b" not in obs.note and "\x07" not in obs.note and "\x1b" not in obs.reported


# --- 2. every exception from input is one line, exit 2; no file content echoed ---------------------------------------
def invoke(*args: str):
    from typer.testing import CliRunner

    from ckdmbd.cli import app

    return CliRunner().invoke(app, list(args), prog_name="ckdmbd")


def one_line_error(result, expected: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ckdmbd: error: "), result.stderr
    assert expected in lines[0], lines[0]
    return lines[0]


def test_labs_check_does_not_echo_a_file_that_is_no_lab_file(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n")
    line = one_line_error(invoke("labs", "check", str(secret)), "no header of a lab CSV file")
    assert "root:x" not in line and "/bin/bash" not in line


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_labs_check_refuses_a_fifo_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "labs.csv"
    os.mkfifo(fifo)
    start = time.perf_counter()
    one_line_error(invoke("labs", "check", str(fifo)), "not a regular file")
    one_line_error(invoke("run", str(fifo)), "not a regular file")
    assert time.perf_counter() - start < 5


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_labs_check_refuses_devices_at_once() -> None:
    start = time.perf_counter()
    one_line_error(invoke("labs", "check", "/dev/zero"), "not a regular file")
    assert time.perf_counter() - start < 5


def test_lab_files_over_the_size_limit_are_refused_before_reading(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from ckdmbd.labs import io_csv

    big = tmp_path / "big.csv"
    big.write_text("time,analyte,value,unit\n" + "2001-01-01,calcium,2.2,mmol/L\n" * 100)
    monkeypatch.setattr(io_csv, "MAX_FILE_BYTES", 1000)
    one_line_error(invoke("labs", "check", str(big)), "larger than the 1000 bytes")


def test_lab_files_with_too_many_rows_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ckdmbd.labs import io_csv

    many = tmp_path / "many.csv"
    many.write_text("day,analyte,value,unit\n" + "".join(f"{d},calcium,2.2,mmol/L\n" for d in range(30)))
    monkeypatch.setattr(io_csv, "MAX_ROWS", 20)
    one_line_error(invoke("labs", "check", str(many)), "more than 20 results")


def test_deeply_nested_json_and_toml(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    one_line_error(invoke("labs", "check", str(deep)), "nested too deeply")
    toml = tmp_path / "deep.toml"
    toml.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    one_line_error(invoke("run", str(toml)), "nested too deeply")


@pytest.mark.parametrize("when", ["0001-01-01", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_lab_times_far_from_now_are_errors(tmp_path: Path, when: str) -> None:
    labs = tmp_path / "labs.csv"
    labs.write_text(f"time,analyte,value,unit\n{when},calcium,2.2,mmol/L\n")
    one_line_error(invoke("labs", "check", str(labs)), "not a plausible sampling time")


def test_fhir_times_far_from_now_are_errors(tmp_path: Path) -> None:
    import json

    from ckdmbd.examples import __file__ as examples

    bundle = json.loads((Path(examples).parent / "seed-case-labs.fhir.json").read_text(encoding="utf-8"))
    first = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
    first["resource"]["effectiveDateTime"] = "0001-01-01T00:00:00+05:00"
    path = tmp_path / "labs.fhir.json"
    path.write_text(json.dumps(bundle))
    one_line_error(invoke("labs", "check", str(path)), "not a plausible sampling time")


def test_input_behind_a_folder_without_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the tests may run as root, who can search any folder: simulate the refusal
    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "exists", denied)
    one_line_error(invoke("run", str(tmp_path / "locked" / "s.toml")), "Permission denied")
    monkeypatch.undo()
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *a, **k: denied(path) if "locked" in str(path) else
                        real_open(path, *a, **k))
    one_line_error(invoke("labs", "check", str(tmp_path / "locked" / "labs.csv")), "Permission denied")


def test_over_long_out_names_are_one_line(tmp_path: Path) -> None:
    line = one_line_error(invoke("run", "teriparatide-20ug", "--out", str(tmp_path / ("x" * 300))), "--out")
    assert "File name too long" in line or "cannot" in line
    assert list(tmp_path.iterdir()) == []


def test_out_folder_without_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_dir", denied)
    one_line_error(invoke("run", "teriparatide-20ug", "--out", str(tmp_path / "out")), "Permission denied")


def test_forecast_refuses_a_device_as_fit_file() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("needs /dev/zero")
    one_line_error(invoke("forecast", "teriparatide-20ug", "--fit", "/dev/zero"), "--fit")


def test_error_lines_carry_no_escape_sequences(tmp_path: Path) -> None:
    name = tmp_path / "bad\x1b[31m.toml"
    name.write_text("not = = toml")
    line = one_line_error(invoke("run", str(name)), "not a valid TOML")
    assert "\x1b" not in line


def test_lab_notes_reach_the_terminal_without_escape_sequences(tmp_path: Path) -> None:
    labs = tmp_path / "labs.csv"
    labs.write_text("time,analyte,value,unit,note\n2001-01-01,calcium,2.2,mmol/L,\"x \x1b]0;owned\x07 \x1b[2J y\"\n")
    result = invoke("labs", "check", str(labs))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "x ]0;owned [2J y" in result.stdout


# --- 3. output folders: one run's complete output, nothing stale, nothing left behind --------------------------------
def _writers(names: dict[str, str]):
    from functools import partial

    return {name: partial(Path.write_text, data=text) for name, text in names.items()}


def test_a_run_into_a_previous_output_folder_replaces_it_whole(tmp_path: Path) -> None:
    from ckdmbd.output_folder import write_folder

    out = tmp_path / "out"
    write_folder(out, _writers({"report.html": "old", "sessions.csv": "old", "overview.png": "old"}))
    written = write_folder(out, _writers({"report.html": "new", "timeseries.csv": "new"}))
    assert written == [out / "report.html", out / "timeseries.csv"]
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "timeseries.csv"]
    assert (out / "report.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary or old folder left


def test_a_run_into_a_folder_with_other_files_removes_only_stale_outputs(tmp_path: Path) -> None:
    from ckdmbd.output_folder import write_folder

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "sessions.csv").write_text("stale")
    (out / "x-calibrated.toml").write_text("stale")
    write_folder(out, _writers({"report.html": "new"}))
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "report.html"]
    assert (out / "notes.txt").read_text() == "mine"


def test_a_failed_write_keeps_the_previous_run(tmp_path: Path) -> None:
    from ckdmbd.output_folder import write_folder

    out = tmp_path / "out"
    write_folder(out, _writers({"report.html": "old"}))

    def fail(path: Path) -> None:
        path.write_text("partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_folder(out, {"report.html": lambda p: p.write_text("new"), "timeseries.csv": fail})
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (out / "report.html").read_text() == "old"


def test_stale_temporary_folders_are_swept(tmp_path: Path) -> None:
    from ckdmbd.output_folder import STALE_AFTER_S, write_folder

    old = tmp_path / ".out.abcd1234"
    old.mkdir()
    (old / "timeseries.csv").write_text("partial" * 1000)
    recent = tmp_path / ".out.efgh5678"
    recent.mkdir()  # perhaps a run writing now
    unrelated = tmp_path / ".other.abcd1234"
    unrelated.mkdir()
    past = time.time() - STALE_AFTER_S - 60
    os.utime(old, (past, past))
    os.utime(unrelated, (past, past))
    write_folder(tmp_path / "out", _writers({"report.html": "new"}))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.abcd1234", ".out.efgh5678", "out"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_a_signal_while_writing_removes_the_temporary_folder(tmp_path: Path, signum: str) -> None:
    import subprocess
    import sys

    script = (
        "import os, signal, sys, time\n"
        "from pathlib import Path\n"
        "from ckdmbd.output_folder import write_folder\n"
        "def slow(p):\n"
        "    p.write_text('partial')\n"
        "    Path(sys.argv[2]).write_text('ready')\n"
        "    time.sleep(30)\n"
        "write_folder(Path(sys.argv[1]), {'timeseries.csv': slow})\n"
    )
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "out"), str(ready)], env=env,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert ready.exists()
        assert any(p.name.startswith(".out.") for p in tmp_path.iterdir())
        proc.send_signal(getattr(__import__("signal"), signum))
        proc.wait(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ready"]


def test_cli_run_without_png_removes_the_previous_runs_plot(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = invoke("run", "teriparatide-20ug", "--duration", "3 days", "--png", "--quiet", "--out", str(out))
    assert first.exit_code == 0, first.output
    assert (out / "overview.png").exists()
    second = invoke("run", "teriparatide-20ug", "--duration", "3 days", "--quiet", "--out", str(out))
    assert second.exit_code == 0, second.output
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "summary.json", "timeseries.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# --- 4. the code cache: private, checked, never runs a planted file -------------------------------------------------
@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``code_cache.cache_dir`` re-evaluated under a test environment, restored afterwards."""
    from ckdmbd.model import code_cache

    code_cache.cache_dir.cache_clear()
    monkeypatch.setattr(code_cache.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    yield code_cache
    code_cache.cache_dir.cache_clear()


def test_cache_folder_is_created_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache) -> None:
    monkeypatch.setenv("CKDMBD_CACHE_DIR", str(tmp_path / "cache"))
    assert fresh_cache.cache_dir() == tmp_path / "cache"
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700


def test_default_cache_is_per_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache) -> None:
    monkeypatch.delenv("CKDMBD_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fresh_cache.cache_dir() == tmp_path / "xdg" / "ckdmbd"
    fresh_cache.cache_dir.cache_clear()
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "ckdmbd").write_text("a file, not a folder")  # no usable home cache
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "ro"))
    assert fresh_cache.cache_dir() == tmp_path / "tmp" / f"ckdmbd-cache-{os.getuid()}"  # not one shared folder


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners")
def test_a_writable_own_cache_is_made_private_and_its_compiled_code_rebuilt(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache, capsys: pytest.CaptureFixture) -> None:
    shared = tmp_path / "shared"
    (shared / "__pycache__").mkdir(parents=True)
    (shared / "__pycache__" / "planted.nbi").write_bytes(b"a pickle someone else wrote")
    shared.chmod(0o777)
    monkeypatch.setenv("CKDMBD_CACHE_DIR", str(shared))
    assert fresh_cache.cache_dir() == shared
    assert shared.stat().st_mode & 0o777 == 0o755 and not (shared / "__pycache__").exists()
    assert "was writable by others: made private" in capsys.readouterr().err
    fresh_cache.cache_dir.cache_clear()
    (shared / "__pycache__").mkdir()
    (shared / "__pycache__").chmod(0o777)  # numba's folder writable by others: deleted, rebuilt
    assert fresh_cache.cache_dir() == shared and not (shared / "__pycache__").exists()


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners")
def test_a_foreign_cache_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache,
                                     capsys: pytest.CaptureFixture) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o755)
    monkeypatch.setenv("CKDMBD_CACHE_DIR", str(foreign))
    real = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real + 1)  # the folder now belongs to "another user"
    used = fresh_cache.cache_dir()
    assert used != foreign and used.name.startswith("ckdmbd-cache-")  # a new private temporary folder
    assert "owned by another user" in capsys.readouterr().err


def test_a_planted_pyc_is_never_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache) -> None:
    import importlib.util
    import sys
    from importlib._bootstrap_external import _code_to_timestamp_pyc

    monkeypatch.setenv("CKDMBD_CACHE_DIR", str(tmp_path / "cache"))
    name = "ckdmbd_generated_planted_test"
    source = "VALUE = 'genuine'\n"
    module = fresh_cache.load_module(name, source)
    assert module.VALUE == "genuine"
    path = tmp_path / "cache" / f"{name}.py"
    # a .pyc whose header matches the source file's time and size: Python's own loader would run it
    info = path.stat()
    evil = compile("VALUE = 'planted'\n", str(path), "exec")
    pyc = Path(importlib.util.cache_from_source(str(path)))
    pyc.parent.mkdir(exist_ok=True)
    pyc.write_bytes(_code_to_timestamp_pyc(evil, int(info.st_mtime), info.st_size))
    spec = importlib.util.spec_from_file_location(name + "_via_import", path)
    shown = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shown)
    assert shown.VALUE == "planted"  # the attack of issue 16 against the plain import
    del sys.modules[name]
    assert fresh_cache.load_module(name, source).VALUE == "genuine"
    del sys.modules[name]


def test_a_tampered_module_file_is_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache) -> None:
    import sys

    monkeypatch.setenv("CKDMBD_CACHE_DIR", str(tmp_path / "cache"))
    name = "ckdmbd_generated_tampered_test"
    fresh_cache.load_module(name, "VALUE = 1\n")
    path = tmp_path / "cache" / f"{name}.py"
    path.write_text("VALUE = 2\n")
    del sys.modules[name]
    assert fresh_cache.load_module(name, "VALUE = 1\n").VALUE == 1
    assert path.read_text() == "VALUE = 1\n"
    del sys.modules[name]


# --- 5. the model's domain: untreated kidney failure is named ---------------------------------------------------------
def _anuric(events: str, duration: str = "1 year") -> list[str]:
    from ckdmbd.domain import untreated_kidney_failure

    head = f'[scenario]\nname = "t"\nconfiguration = "default"\nduration = "{duration}"\noutput_interval = "1 day"\n'
    return untreated_kidney_failure(parse_scenario(head + events))


def test_anuria_without_dialysis_warns_naming_the_event_and_the_time() -> None:
    (line,) = _anuric(ev('type = "set_gfr"\ntime = "10 days"\ngfr = "0 mL/min"'), "10 years")
    assert line.startswith("events[0] (set_gfr 0 mL/min): GFR at most 5 mL/min without dialysis for 3642 days "
                           "(day 10 to 3652.5)"), line


def test_anuria_with_dialysis_or_briefly_is_no_warning() -> None:
    assert _anuric(ev('type = "set_gfr"\ntime = "10 days"\ngfr = "0 mL/min"')
                   + ev('type = "hemodialysis"\ntime = "20 days"')) == []
    assert _anuric(ev('type = "set_gfr"\ntime = "0 days"\ngfr = "0 mL/min"')
                   + ev('type = "set_gfr"\ntime = "20 days"\ngfr = "60 mL/min"')) == []


def test_dialysis_stopped_early_warns() -> None:
    (line,) = _anuric(ev('type = "set_gfr"\ntime = "0 days"\ngfr = "2 mL/min"')
                      + ev('type = "hemodialysis"\ntime = "0 days"\nuntil = "100 days"'))
    assert "without dialysis for 265 days (day 100 to 365.25)" in line


def test_a_decline_into_kidney_failure_warns_from_its_crossing() -> None:
    (line,) = _anuric(ev('type = "gfr_decline"\ntime = "0 days"\nfrom = "20 mL/min"\nto = "2 mL/min"\n'
                         'over = "100 days"'))
    assert line.startswith("events[0] (gfr_decline to 2 mL/min)") and "(day 60.206 to 365.25)" in line


def test_patient_gfr_in_kidney_failure_warns() -> None:
    from ckdmbd.domain import untreated_kidney_failure

    sc = parse_scenario('[scenario]\nname = "t"\nduration = "1 year"\n[patient]\ngfr = "3 mL/min"\n')
    (line,) = untreated_kidney_failure(sc)
    assert line.startswith("patient.gfr: ")


def test_no_built_in_scenario_warns_even_when_lengthened() -> None:
    from ckdmbd.domain import untreated_kidney_failure
    from ckdmbd.scenario import builtin_names

    for name in builtin_names():
        sc = load_scenario(name)
        assert untreated_kidney_failure(sc) == [], name
        assert untreated_kidney_failure(with_overrides(sc, "40 years", "1 week")) == [], name


def test_cli_prints_the_warning_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "anuric.toml"
    path.write_text('[scenario]\nname = "anuric"\nduration = "40 days"\n' + ev('type = "set_gfr"\ntime = "1 day"\n'
                                                                             'gfr = "0 mL/min"'))
    result = invoke("run", str(path), "--quiet", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("ckdmbd: warning: events[0] (set_gfr 0 mL/min): GFR at most 5 mL/min without dialysis for "
                           "39 days (day 1 to 40)"), line


def test_concentrations_outside_any_human_value_are_named_not_clipped() -> None:
    import numpy as np
    import pandas as pd

    from ckdmbd.domain import outside_human_range

    days = np.arange(6.0)
    frame = pd.DataFrame({"time_days": days, "calcium_mmol_L": [2.3, 2.1, 1.2, 0.67, 0.5, 0.6],
                          "phosphate_mmol_L": [1.2] * 6, "pth_pmol_L": [20.0, 40.0, 900.0, 3451.0, 10.0, 5.0]})
    lines = outside_human_range(frame)
    assert lines == [
        "calcium_mmol_L below 0.9 mmol/L from day 3.0 (extreme 0.5 mmol/L): outside any reported human value, "
        "the course is no patient's",
        "pth_pmol_L above 550 pmol/L from day 2.0 (extreme 3451 pmol/L): outside any reported human value, "
        "the course is no patient's"]
    assert frame["calcium_mmol_L"].min() == 0.5  # the values themselves are untouched
    normal = frame.assign(calcium_mmol_L=2.3, pth_pmol_L=5.0)
    assert outside_human_range(normal) == []
    assert outside_human_range(normal.assign(phosphate_mmol_L=np.nan)) == [
        "phosphate_mmol_L is not a finite number from day 0.0: the course is no patient's"]


def test_cli_interrupt_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import ckdmbd.simulation

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("<built-in function integrate> returned a result with an exception set") from exc

    monkeypatch.setattr(ckdmbd.simulation, "simulate", interrupted)
    result = invoke("run", "teriparatide-20ug", "--out", str(tmp_path / "out"))
    assert result.exit_code == 130, result.output
    assert result.stderr == "ckdmbd: interrupted\n"
    assert list(tmp_path.iterdir()) == []


# --- found later: session samples count towards the row limit; a missing time is a field error ----------------------
DAILY_12H = ev('type = "set_gfr"\ntime = "0 h"\ngfr = "0 mL/min"') + ev(
    'type = "hemodialysis"\ntime = "0 h"\nsession = "12 h"\nstart_clock = "0 h"\n'
    'days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]')


def test_dialysis_session_samples_count_towards_the_row_limit(tmp_path: Path) -> None:
    head = '[scenario]\nname = "t"\nconfiguration = "default"\nduration = "{}"\noutput_interval = "1 day"\n'
    message = refused(head.format("60 years") + DAILY_12H, "scenario.duration")
    assert "dialysis sessions' 15-minute samples" in message
    sc = parse_scenario(head.format("10 years") + DAILY_12H)
    with pytest.raises(ScenarioError, match=r"--duration: '60 years' gives about 1\.23e\+06 output rows"):
        with_overrides(sc, "60 years")


def test_the_row_estimate_matches_the_session_samples() -> None:
    from ckdmbd.sessions import session_output_times

    head = '[scenario]\nname = "t"\nconfiguration = "default"\nduration = "1 year"\noutput_interval = "1 day"\n'
    sc = parse_scenario(head + DAILY_12H)
    samples = len(session_output_times(sc.events, sc.duration_h))
    assert 0.98 < samples / (365.25 * 55) < 1.02


@pytest.mark.parametrize("kind", ["active_vitamin_d", "nutritional_vitamin_d", "hemodialysis", "cinacalcet"])
def test_an_event_without_time_is_a_field_error(kind: str) -> None:
    refused(HEAD + ev(f'type = "{kind}"\ndose = "1 ug/day"'), "events[0].time: missing")  # was KeyError: 'time'
