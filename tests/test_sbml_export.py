"""SBML export (``ckdmbd export sbml``) verified in libRoadRunner.

The exported file, simulated by libRoadRunner (tight tolerances), reproduces ckdmbd's own run of the scenario within
1e-4 relative for calcium, phosphate, PTH and calcitriol at every output time: the reference configuration over a
year (``peterson-riggs-2010``) and with teriparatide doses (events), and, marked slow because libRoadRunner needs
~20-50 s to compile the default configuration's ~350 assignment rules, the default configuration healthy and on
haemodialysis (``hemodialysis-adherent`` for 2 weeks: 6 sessions as events, the 5-year history folded into the
initial values). Every file passes libsbml's consistency checks with 0 errors, and the default configuration's rate
rules, read back from the file's MathML, equal the compiled right-hand side (a fast check without a simulator).
"""

import numpy as np
import pytest
from typer.testing import CliRunner

from ckdmbd.cli import app
from ckdmbd.export.sbml import antimony_string, build_document, consistency, export_scenario, prepare
from ckdmbd.export.units import sbml_units
from ckdmbd.model.configurations import parameters as builtin_parameters
from ckdmbd.scenario import load_scenario, parse_scenario, run_scenario, with_overrides

COLUMNS = {"calcium_mmol_L": "ca_mM", "phosphate_mmol_L": "phosphate_mM", "pth_pmol_L": "pth_pM",
           "calcitriol_pmol_L": "calcitriol_pM"}
TOLERANCE = 1e-4

DEFAULT_HEALTHY = """
[scenario]
name = "default-healthy"
description = "Healthy adult, default configuration, at its steady state"
configuration = "default"
duration = "{duration}"
output_interval = "1 day"
"""


def _roadrunner_agrees(sc, tolerance=TOLERANCE, rr_rtol=1e-10, rr_atol=1e-12):
    roadrunner = pytest.importorskip("roadrunner")
    expected = run_scenario(sc).to_frame(include_states=False)
    rr = roadrunner.RoadRunner(export_scenario(sc))
    rr.integrator.relative_tolerance = rr_rtol
    rr.integrator.absolute_tolerance = rr_atol
    rr.integrator.maximum_num_steps = 1_000_000
    times = expected["time_days"].to_numpy() * 24.0
    got = np.asarray(rr.simulate(times=times, selections=["time", *COLUMNS.values()]))
    np.testing.assert_allclose(got[:, 0], times)
    worst = {}
    for k, (column, sbml_id) in enumerate(COLUMNS.items(), start=1):
        ref = expected[column].to_numpy()
        # relative to the value, or to 1e-6 of the column's largest where it is ~0 (PTH without glands: 3e-11)
        rel = np.abs(got[:, k] - ref) / np.maximum(np.abs(ref), 1e-6 * np.max(np.abs(ref)))
        i = int(np.argmax(rel))
        worst[column] = rel[i]
        assert rel[i] < tolerance, (f"{sc.name}: {column} ({sbml_id}) differs by {rel[i]:.2e} at t = {times[i]} h: "
                                    f"ckdmbd {ref[i]:.8g}, libRoadRunner {got[i, k]:.8g}")
    return worst


def test_reference_year_in_roadrunner():
    _roadrunner_agrees(load_scenario("peterson-riggs-2010"))


def test_reference_teriparatide_events_in_roadrunner():
    sc = load_scenario("teriparatide-20ug")
    problem = prepare(sc)
    assert [e.time_h for e in problem.events] == [12.0, 36.0, 60.0]
    assert all(set(e.states) == {"teriparatide_depot"} for e in problem.events)
    _roadrunner_agrees(sc)


HISTORY_AND_T0 = """
[scenario]
name = "reference-history"
description = "Reference configuration: GFR halved in a 20-day history, teriparatide at t = 0 and after"
configuration = "reference"
history = "20 days"
duration = "10 days"
output_interval = "6 h"

[[events]]
type = "set_gfr"
time = "-10 days"
gfr = "50 mL/min"

[[events]]
type = "teriparatide"
time = "0 h"
dose = "20 ug"
interval = "24 h"
count = 3
"""


def test_history_and_actions_at_zero_become_initial_values():
    """A history is run by ckdmbd and the actions at t = 0 act on the initial values: the file starts where ckdmbd's
    run reports t = 0, and libRoadRunner then follows it."""
    sc = parse_scenario(HISTORY_AND_T0)
    problem = prepare(sc)
    run = run_scenario(sc)
    np.testing.assert_allclose(problem.initial_state, run.y[0], rtol=1e-12, atol=1e-12)
    assert problem.initial_state[problem.model.state_index("teriparatide_depot")] > 0
    assert [e.time_h for e in problem.events] == [24.0, 48.0]
    _roadrunner_agrees(sc)


@pytest.mark.slow
def test_default_healthy_year_in_roadrunner():
    # CVODE does not get past t ~ 5e-7 h at rtol <= 1e-8 in the healthy default model (too much work), although
    # its rates equal ckdmbd's there; at 1e-7 it agrees with ckdmbd to ~3e-7
    _roadrunner_agrees(parse_scenario(DEFAULT_HEALTHY.format(duration="1 year")), rr_rtol=1e-7, rr_atol=1e-10)


@pytest.mark.slow
def test_default_hemodialysis_in_roadrunner():
    sc = with_overrides(load_scenario("hemodialysis-adherent"), "2 weeks")
    problem = prepare(sc)
    assert problem.history_h > 0 and abs(problem.initial_state[problem.model.state_index("gfr")]) < 1e-12
    starts = [e for e in problem.events if e.parameters.get("dialysis_on") == 1.0]
    assert len(starts) == 6  # Mon/Wed/Fri for two weeks
    _roadrunner_agrees(sc)


@pytest.mark.slow
def test_seed_case_with_its_surgery_in_roadrunner():
    """The seed case from t = 0 (its 9.5-year history folded into the initial values): non-adherence, the
    calcification site, the debulking and the forearm-graft excision as events. Measured: calcium 1.2e-6,
    phosphate 3.8e-6, calcitriol 3.8e-5 at CVODE rtol 1e-10 (~7 min on a loaded 2-core machine; 1e-8 here)."""
    worst = _roadrunner_agrees(load_scenario("seed-case"), rr_rtol=1e-8, rr_atol=1e-11)
    assert set(worst) == set(COLUMNS)


@pytest.mark.slow
def test_ckd_progression_in_roadrunner():
    """Ten years of GFR decline (default configuration; the decline set at t = 0 after a 2-year history)."""
    _roadrunner_agrees(load_scenario("ckd-progression"))


@pytest.mark.parametrize("scenario", ["peterson-riggs-2010", "default"])
def test_consistency_check_has_no_errors(scenario):
    sc = load_scenario(scenario) if scenario != "default" else parse_scenario(DEFAULT_HEALTHY.format(duration="1 week"))
    doc = build_document(prepare(sc))
    report = consistency(doc)
    assert report.errors == 0, report.messages[:3]
    m = doc.getModel()
    assert m.getLevel() == 3 and m.getVersion() == 2
    ids = {m.getParameter(i).getId() for i in range(m.getNumParameters())}
    assert set(COLUMNS.values()) <= ids
    rules = {m.getRule(i).getVariable(): m.getRule(i) for i in range(m.getNumRules())}
    assert all(rules[name].isAssignment() for name in COLUMNS.values())
    assert rules["ecf_calcium"].isRate()
    assert m.getCVTerm(0).getResourceURI(0).startswith("https://identifiers.org/")  # citations annotated


def test_units():
    assert sbml_units("1") == ()
    ((kind, exp, mult),) = [(u.kind, u.exponent, u.multiplier) for u in sbml_units("h")]
    assert (kind, exp, mult) == ("second", 1.0, 3600.0)
    per_pm_h = {u.kind: (u.exponent, u.multiplier) for u in sbml_units("1/(pM*h)")}
    assert per_pm_h["mole"][0] == -1.0 and per_pm_h["litre"] == (1.0, 1.0) and per_pm_h["second"][0] == -1.0
    value = 1.0
    for exponent, multiplier in per_pm_h.values():
        value *= multiplier**exponent
    assert value == pytest.approx(1.0 / (1e-12 * 3600.0))
    squared = {u.kind: u.exponent for u in sbml_units("mM2")}
    assert squared == {"mole": 2.0, "litre": -2.0}
    assert sbml_units("1/pH") == ()
    assert sbml_units("1/h per g/day") is None and sbml_units("IU") is None


def test_antimony_round_trip():
    antimony = pytest.importorskip("antimony")
    text = antimony_string(export_scenario(load_scenario("teriparatide-20ug")))
    assert "ca_mM :=" in text and "ecf_calcium' =" in text and "at time >= 12: teriparatide_depot" in text
    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString(text) >= 0, antimony.getLastError()


def test_cli_export(tmp_path):
    runner = CliRunner()
    out = tmp_path / "model.xml"
    result = runner.invoke(app, ["export", "sbml", "peterson-riggs-2010", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<?xml") and "<rateRule" in out.read_text()
    bad = runner.invoke(app, ["export", "sbml", "no-such-scenario", "-o", str(tmp_path / "x.xml")])
    assert bad.exit_code == 2 and "ckdmbd: error:" in bad.output and not (tmp_path / "x.xml").exists()
    fmt = runner.invoke(app, ["export", "sbml", "peterson-riggs-2010", "-o", str(tmp_path / "y"), "--format", "x"])
    assert fmt.exit_code == 2 and "--format" in fmt.output


def _evaluator(model):
    """Values of an SBML model's symbols from its rules' MathML, read back with libsbml (states and parameters
    from ``values``): an independent reading of what the file says, without a simulator."""
    import libsbml

    rules = {model.getRule(i).getVariable(): model.getRule(i) for i in range(model.getNumRules())}
    binary = {libsbml.AST_RELATIONAL_GT: np.greater, libsbml.AST_RELATIONAL_GEQ: np.greater_equal,
              libsbml.AST_RELATIONAL_LT: np.less, libsbml.AST_RELATIONAL_LEQ: np.less_equal,
              libsbml.AST_RELATIONAL_EQ: np.equal, libsbml.AST_RELATIONAL_NEQ: np.not_equal}
    unary = {libsbml.AST_FUNCTION_EXP: np.exp, libsbml.AST_FUNCTION_LN: np.log, libsbml.AST_FUNCTION_TANH: np.tanh,
             libsbml.AST_FUNCTION_ABS: np.abs}

    def evaluate(node, value, t):
        kind = node.getType()
        kids = [node.getChild(i) for i in range(node.getNumChildren())]
        if kind in (libsbml.AST_INTEGER, libsbml.AST_REAL, libsbml.AST_REAL_E, libsbml.AST_RATIONAL):
            return np.float64(node.getValue())
        if kind == libsbml.AST_NAME:
            return value(node.getName())
        if kind == libsbml.AST_NAME_TIME:
            return np.float64(t)
        if kind == libsbml.AST_CONSTANT_TRUE:
            return True
        if kind == libsbml.AST_CONSTANT_FALSE:
            return False
        if kind == libsbml.AST_FUNCTION_PIECEWISE:
            for k in range(0, len(kids) - 1, 2):
                if evaluate(kids[k + 1], value, t):
                    return evaluate(kids[k], value, t)
            return evaluate(kids[-1], value, t) if len(kids) % 2 else np.nan
        args = [evaluate(k, value, t) for k in kids]
        if kind == libsbml.AST_PLUS:
            return sum(args, np.float64(0.0))
        if kind == libsbml.AST_MINUS:
            return -args[0] if len(args) == 1 else args[0] - args[1]
        if kind == libsbml.AST_TIMES:
            return np.prod(args)
        if kind == libsbml.AST_DIVIDE:
            return args[0] / args[1]
        if kind in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            return np.float64(args[0]) ** args[1]
        if kind == libsbml.AST_FUNCTION_MAX:
            return max(args)
        if kind == libsbml.AST_FUNCTION_MIN:
            return min(args)
        if kind in binary:
            return bool(binary[kind](args[0], args[1]))
        if kind == libsbml.AST_LOGICAL_AND:
            return all(args)
        if kind == libsbml.AST_LOGICAL_OR:
            return any(args)
        if kind == libsbml.AST_LOGICAL_NOT:
            return not args[0]
        if kind in unary:
            return unary[kind](args[0])
        raise AssertionError(f"unexpected MathML node {node.getName()} ({kind})")

    def rates(values, t=0.0):
        memo = dict(values)

        def value(name):
            if name not in memo:
                memo[name] = evaluate(rules[name].getMath(), value, t)
            return memo[name]

        with np.errstate(all="ignore"):
            return {name: evaluate(rule.getMath(), value, t) for name, rule in rules.items() if rule.isRate()}

    return rates


def test_default_export_math_equals_compiled_rhs():
    """The default configuration's file (no simulator needed): its rate rules, read back from the MathML, equal
    the compiled right-hand side at random states."""
    sc = parse_scenario(DEFAULT_HEALTHY.format(duration="1 week"))
    problem = prepare(sc)
    model = build_document(problem).getModel()
    rates = _evaluator(model)
    m = problem.model
    p = m.parameter_vector(builtin_parameters("default"))
    values = {model.getParameter(i).getId(): np.float64(model.getParameter(i).getValue())
              for i in range(model.getNumParameters()) if model.getParameter(i).isSetValue()}
    rng = np.random.default_rng(5)
    n = len(m.states)
    for _ in range(3):
        y = problem.initial_state.copy()
        y[:n][y[:n] == 0.0] = 0.01
        y[:n] *= rng.uniform(0.8, 1.2, n)
        values.update({name: np.float64(v) for name, v in zip(m.state_names, y, strict=True)})
        got = rates(values, 5.0)
        expected = np.zeros_like(y)
        m.generated.rhs(5.0, y, p, expected)
        for i, name in enumerate(m.state_names):
            assert got[name] == pytest.approx(expected[i], rel=1e-9, abs=1e-12 * (abs(y[i]) + 1.0)), name

