"""The literature validation suite (``ckdmbd validate``): case files, metrics, runner, CLI and HTML page.

The fast cases run in the ordinary suite and must be within their band; all cases run under ``-m slow``. Cases that
are outside their band on this branch (the physiology that fixes them is being built in parallel, issues 9 and 10)
are marked xfail (not strict), so that they show as XPASS once it is merged; the marks name the reason.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ckdmbd.validation import ERROR, OUTSIDE, WITHIN, CaseError, case_names, load_case, load_cases, parse_case, run_case
from ckdmbd.validation.casefile import Band, arm_document, dump_toml
from ckdmbd.validation.metrics import METRICS
from ckdmbd.validation.report import html_page, summary_line, to_json

CASES_DIR = Path(__file__).resolve().parents[1] / "src" / "ckdmbd" / "validation" / "cases"

# outside their band on main, measured at the last commit (the suite prints them as outside; the reasons are in the
# closing note of issues 9 and 10): listed here so that the suite's tests report them as xfail, not hide them
PENDING = {
    "block-2004-cinacalcet": (
        "issue 9: PTH 0.50x and calcium -3.8 % as published, but pre-dialysis phosphate only 0.2 % lower (published "
        "about -9 %). Ledger over the last 4 weeks (mmol/day, cinacalcet minus untreated): remodelling takes 1.12 "
        "more phosphate into bone (resorption -13.1, formation -10.7 mmol calcium), the passive uptake into mineral "
        "0.70 less (the exchangeable calcium follows the lower plasma calcium), and absorption gives 0.35 more "
        "(calcitriol +9 %: the FGF23 fall lifts the hydroxylase more than the PTH fall lowers it). Tried: 0.6 "
        "(molar) instead of 0.464 mmol phosphate per mmol calcium in bone mineral: -0.35 %, and two transplant "
        "checks over their edges; an extrarenal hydroxylase outside PTH, phosphate and FGF23 control (12 % of "
        "healthy production): -1.7 %, see joy-2003-binder-withdrawal"),
    "joy-2003-binder-withdrawal": (
        "issue 9: withdrawing 2.25 g/day lanthanum raises pre-dialysis phosphate by 0.24 mmol/L in 4 weeks "
        "(published 0.62). The binder takes 7.2 mmol/day, but on the binder calcitriol is 51 against 22 pmol/L "
        "(the hydroxylase share that does not scale with GFR is still under phosphate, PTH and FGF23 control), "
        "so the absorbable phosphate rises by 4.4 mmol/day and net absorption differs by only 2.9. With that share "
        "outside PTH, phosphate and FGF23 control (12 % of healthy production, anuric calcitriol unchanged at ~20 "
        "pmol/L) this case gives 0.38 (within) and Block 2004 -1.7 %, but ACTIVE's extended hours lower phosphate "
        "by 0.43 (published 0.22, CI 0.12-0.31), the seed deposit must be re-fitted (26 cm) and two checks cross "
        "their edges: one parameter set does not yet hold all three trials"),
    "armas-2013-hemodialysis-calcitriol": (
        "issue 9: the anuric patient's calcitriol is 17 pmol/L at 25(OH)D 35 nmol/L (published about 36): the "
        "hydroxylase share that does not scale with GFR (40 % of healthy production) stays under the phosphate "
        "inhibition, FGF23 suppression and PTH terms of the renal enzyme, which pre-dialysis phosphate 1.7 mmol/L "
        "and FGF23 600 pg/mL hold down; a larger share or one outside their control raises calcitriol-dependent "
        "phosphate absorption and the non-adherent phosphate above the pill-bottle study (see "
        "joy-2003-binder-withdrawal)"),
    "gosmanova-2022-ckd-phosphate-reabsorption": (
        "issue 9: TmP/GFR falls 30 % from GFR 100 to 16 (published -15 % from G1 to G5; 38 % before the graded "
        "calcitriol restraint on gland growth). TmP/GFR = P - U_P V / GFR is an identity: at the end P is 1.435 "
        "mmol/L (CRIB 1.40) and U_P V 16.1 mmol/day (-28 %: the net absorption of the fixed 1000 mg diet), so "
        "TmP/GFR = 1.435 - 16.1/23.0 = 0.74; -25 % needs U_P V <= 14.9 mmol/day at this phosphate (net "
        "absorption, the gut) or phosphate >= 1.49. More tubular resistance raises phosphate, which lowers "
        "calcitriol (Peterson-Riggs' phosphate inhibition of 1-alpha-hydroxylase) and raises PTH (PTH1R floor 0.1: "
        "-27 %, PTH 5.2x); a shared PTH/FGF23 ceiling gives -23 % but drops both transplant cases (FE_P 24.6 % at "
        "month 3, lowest phosphate 0.96 mmol/L)"),
}


def _marked(names):
    return [pytest.param(n, marks=pytest.mark.xfail(strict=False, reason=PENDING[n])) if n in PENDING else n
            for n in names]


FAST = [c.name for c in load_cases() if c.fast]
ALL = case_names()


# --- case files -----------------------------------------------------------------------------------------------------

def test_every_case_file_parses_with_known_metrics_and_citations():
    files = sorted(p.stem for p in CASES_DIR.glob("*.toml"))
    assert files == ALL and len(ALL) >= 14
    for case in load_cases():
        assert case.name in files
        assert case.checks and case.arms
        assert case.source.identifier
        for check in case.checks:
            assert check.metric in METRICS
            assert check.published.text and check.band.text()


def test_arms_set_only_what_a_study_sets():
    """No per-case parameter knob: arms name a built-in scenario plus events, patient fields, a duration or an
    output interval, or an inline scenario (whose [patient] fields are clinical, never model parameters)."""
    from ckdmbd.scenario import _PATIENT_FIELDS

    for case in load_cases():
        for arm, raw in case.arms.items():
            doc = arm_document(case, arm)
            assert set(doc.get("patient", {})) <= set(_PATIENT_FIELDS), (case.name, arm)
            assert not {"parameters", "parameter_overrides"} & set(doc), (case.name, arm)
            assert set(raw) <= {"scenario", "inline", "duration", "output_interval", "patient", "events",
                                "remove_events"}


def test_arm_document_round_trips_through_toml():
    case = load_case("fine-2003-dialysate-calcium")
    doc = arm_document(case, "treated")
    assert tomllib.loads(dump_toml(doc)) == doc
    times = [e["time"] for e in doc["events"]]
    assert times[-1] == "0 days" and doc["events"][-1]["dialysate_calcium"] == "1.75 mmol/L"  # in time order
    assert doc["scenario"]["duration"] == "10 months"
    assert "observations" not in doc


GOOD = """
[case]
name = "tiny"
title = "ten healthy days"
[source]
citation = "PetersonRiggs2010"
authors = "Peterson MC, Riggs MM"
year = 2010
journal = "Bone 46:49-63"
doi = "10.1016/j.bone.2009.08.053"
[arms.healthy]
inline.scenario = { name = "x", configuration = "default", duration = "10 days" }
[[checks]]
name = "calcium"
metric = "value_at"
args = { arm = "healthy", column = "calcium_mmol_L", time = "end" }
unit = "mmol/L"
published = { text = "2.10-2.60", low = 2.1, high = 2.6 }
band = { low = 2.1, high = 2.6 }
"""


@pytest.mark.parametrize(("old", "new", "message"), [
    ('metric = "value_at"', 'metric = "nonsense"', "metric 'nonsense' is unknown"),
    ('arm = "healthy", column', 'arm = "treated", column', "arm 'treated' is not an arm of the case"),
    ('citation = "PetersonRiggs2010"', 'citation = "Nobody2099"', "source.citation: 'Nobody2099' is not a key"),
    ('band = { low = 2.1, high = 2.6 }', 'band = { low = 2.6, high = 2.1 }', "low 2.6 is above high 2.1"),
    ('band = { low = 2.1, high = 2.6 }', 'band = { }', "checks[0].band: needs low and/or high"),
    ('unit = "mmol/L"\n', "", "checks[0].unit: missing"),
    ('time = "end" }', 'time = "end", colour = 1 }', "has no argument 'colour'"),
    ('doi = "10.1016/j.bone.2009.08.053"', "", "a source needs a doi, a pmid, a url or a document"),
    ('inline.scenario = { name = "x", configuration = "default", duration = "10 days" }',
     'scenario = "no-such-scenario"', "arms.healthy.scenario: 'no-such-scenario' is not a built-in scenario"),
    ('name = "tiny"', 'name = "Tiny Case"', "case.name: 'Tiny Case' must be lower-case"),
    ("[[checks]]", "[[checks]\n", "not a valid TOML file"),
])
def test_broken_case_file_gives_a_clear_error(old, new, message):
    assert old in GOOD
    with pytest.raises(CaseError) as err:
        parse_case(GOOD.replace(old, new, 1), "broken.toml")
    text = str(err.value)
    assert text.startswith("broken.toml") and message in text, text
    assert "\n" not in text.strip() or "TOML" in text


def test_band_bounds():
    assert Band(1.0, 2.0).contains(1.0) and not Band(1.0, 2.0, exclusive=True).contains(1.0)
    assert Band(high=1.0, exclusive=True).contains(0.99) and not Band(high=1.0, exclusive=True).contains(1.0)
    assert not Band(low=0.0).contains(float("nan"))
    assert Band(low=0.1).text() == "≥ 0.1" and Band(high=1.0, exclusive=True).text() == "< 1"


# --- runner ---------------------------------------------------------------------------------------------------------

def test_a_case_that_cannot_run_is_an_error_and_the_suite_goes_on(tmp_path):
    broken = GOOD.replace('name = "tiny"', 'name = "future"').replace(
        '[[checks]]', '[[arms.healthy.inline.events]]\ntype = "time_machine"\ntime = "1 day"\n\n[[checks]]', 1)
    path = tmp_path / "future.toml"
    path.write_text(broken)
    failed = run_case(load_case(path))
    assert [r.verdict for r in failed] == [ERROR]
    assert "unknown event type 'time_machine'" in failed[0].message and "\n" not in failed[0].message
    ok = run_case(parse_case(GOOD, "tiny.toml"))
    assert [r.verdict for r in ok] == [WITHIN] and 2.1 <= ok[0].value <= 2.6
    outside = run_case(parse_case(GOOD.replace("band = { low = 2.1, high = 2.6 }", "band = { low = 3.0 }"), "t.toml"))
    assert outside[0].verdict == OUTSIDE
    results = [*failed, *ok, *outside]
    assert summary_line(results) == "1 within, 1 outside, 1 error"
    data = json.loads(to_json(results))
    assert data["summary"] == {"within": 1, "outside": 1, "error": 1}
    assert data["results"][0]["model"] is None and data["results"][1]["source"]["id"].startswith("doi:")


def test_metric_failure_is_an_error_not_a_crash():
    text = GOOD.replace('column = "calcium_mmol_L"', 'column = "no_such_column"')
    (result,) = run_case(parse_case(text, "t.toml"))
    assert result.verdict == ERROR and "no column 'no_such_column'" in result.message


@pytest.mark.parametrize("name", _marked(FAST))
def test_fast_case_is_within_its_band(name):
    results = run_case(load_case(name))
    bad = [f"{r.check.name}: {r.verdict} ({r.value if r.value is not None else r.message})"
           for r in results if r.verdict != WITHIN]
    assert not bad, bad


@pytest.mark.slow
@pytest.mark.parametrize("name", _marked(ALL))
def test_case_is_within_its_band(name):
    results = run_case(load_case(name))
    bad = [f"{r.check.name}: {r.verdict} ({r.value if r.value is not None else r.message})"
           for r in results if r.verdict != WITHIN]
    assert not bad, bad


# --- command line ---------------------------------------------------------------------------------------------------

def _cli(*args):
    from ckdmbd.cli import app

    return CliRunner().invoke(app, ["validate", *args])


def test_cli_prints_the_table_and_exits_0_when_all_within(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    res = _cli("--case", str(path), "--quiet")
    assert res.exit_code == 0, res.output
    assert "tiny: calcium" in res.output and "2.10-2.60" in res.output and "within" in res.output
    assert res.output.strip().endswith("1 within, 0 outside, 0 error")


def test_cli_exits_1_when_a_case_is_outside_or_in_error(tmp_path):
    outside = tmp_path / "outside.toml"
    outside.write_text(GOOD.replace('name = "tiny"', 'name = "outside"').replace(
        "band = { low = 2.1, high = 2.6 }", "band = { low = 3.0 }"))
    broken = tmp_path / "broken.toml"
    broken.write_text(GOOD.replace('name = "tiny"', 'name = "broken"').replace(
        '[[checks]]', '[[arms.healthy.inline.events]]\ntype = "time_machine"\ntime = "1 day"\n\n[[checks]]', 1))
    res = _cli("--case", str(outside), "--case", str(broken), "--quiet")
    assert res.exit_code == 1, res.output
    assert "0 within, 1 outside, 1 error" in res.output
    assert "unknown event type 'time_machine'" in res.output


def test_cli_unknown_case_is_one_line_exit_2(tmp_path):
    res = _cli("--case", "no-such-case", "--out", str(tmp_path / "out"))
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ckdmbd: error: --case: no validation case named 'no-such-case'")
    assert not (tmp_path / "out").exists()


def test_cli_writes_html_and_json(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    res = _cli("--case", str(path), "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "out" / "validation.json").read_text())
    assert data["results"][0]["verdict"] == "within"
    page = (tmp_path / "out" / "validation.html").read_text()
    assert page.count("* plotly.js v") == 1 and "<script src" not in page
    assert 'id="plot-0"' in page


# --- the HTML page in a browser -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """A page with a within, an outside (two arms, a ratio), a session metric and an error check."""
    cases = [parse_case(GOOD, "tiny.toml"), load_case("pirklbauer-2021-high-calcium-bath")]
    broken = GOOD.replace('name = "tiny"', 'name = "broken"').replace(
        '[[checks]]', '[[arms.healthy.inline.events]]\ntype = "time_machine"\ntime = "1 day"\n\n[[checks]]', 1)
    cases.append(parse_case(broken, "broken.toml"))
    two_arms = GOOD.replace('name = "tiny"', 'name = "arms"').replace(
        "[[checks]]", '[arms.other]\ninline.scenario = { name = "y", configuration = "default", duration = "10 days" }'
        '\n\n[[checks]]', 1).replace(
        'metric = "value_at"\nargs = { arm = "healthy", column = "calcium_mmol_L", time = "end" }',
        'metric = "ratio"\nargs.numerator = { metric = "window", arm = "healthy", column = "pth_pmol_L" }\n'
        'args.denominator = { metric = "window", arm = "other", column = "pth_pmol_L" }').replace(
        "band = { low = 2.1, high = 2.6 }", "band = { low = 3.0 }")
    cases.append(parse_case(two_arms, "arms.toml"))
    results = [r for c in cases for r in run_case(c)]
    assert {r.verdict for r in results} == {WITHIN, OUTSIDE, ERROR}
    path = tmp_path_factory.mktemp("validation") / "validation.html"
    path.write_text(html_page(results), encoding="utf-8")
    return path


def test_page_renders_every_plot_in_chromium(page, tmp_path):
    from browser import chromium, console_problems, run_chromium

    browser = chromium()
    text = page.read_text(encoding="utf-8")
    plots = re.findall(r'<div id="(plot-\d+)"', text)
    assert len(plots) == text.count('class="check"') - text.count("<p>Error:")
    assert len(plots) >= 5
    proc = run_chromium(browser, page, tmp_path, "--dump-dom")
    assert console_problems(proc.stderr) == []
    dom = proc.stdout
    starts = sorted((dom.index(f'id="{p}"'), p) for p in plots)
    for (begin, name), (end, _) in zip(starts, [*starts[1:], (len(dom), "")], strict=True):
        chunk = dom[begin:end]
        assert 'class="main-svg"' in chunk, f"{name} did not render"
        assert "scatterlayer" in chunk, name
    assert "unknown event type" in dom
