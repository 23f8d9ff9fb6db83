"""The whole run in one compiled call (SolverOptions.one_call, issue 11 item 1) gives the numbers of the
segment-by-segment loop in Python: on the built-in dialysis scenarios (sessions, binder, history, a transplant's
state actions, a parathyroidectomy and a graft excision), and on runs the nonnegative guard stops (at the start, at
a state action, during a segment), where the status, message, failure time and parameters in force must agree too.

Both paths make the same compiled _integrate call per segment with the same arguments, so they agree to the bit;
the assertions allow nothing more."""

from __future__ import annotations

import numpy as np
import pytest

from ckdmbd.protocol import AddToState, Hemodialysis, PhosphateBinder, SetState
from ckdmbd.scenario import load_scenario, run_scenario
from ckdmbd.simulation import NEGATIVE_STATE, SolverOptions, simulate


def _options(one_call: bool, preset: str = "population") -> SolverOptions:
    return SolverOptions.preset(preset, specialised=True, one_call=one_call)


def _assert_same(a, b) -> None:
    assert (a.status, a.message, a.failed_at_h) == (b.status, b.message, b.failed_at_h)
    np.testing.assert_array_equal(a.t_h, b.t_h)
    np.testing.assert_array_equal(a.y, b.y)
    assert (a.n_steps, a.n_rhs, a.n_rejected) == (b.n_steps, b.n_rhs, b.n_rejected)
    np.testing.assert_array_equal(a.segment_starts_h, b.segment_starts_h)
    np.testing.assert_array_equal(a.segment_parameters, b.segment_parameters)
    np.testing.assert_array_equal(a.p_final, b.p_final)
    assert a.final_parameters == b.final_parameters
    assert a.final_step_h == b.final_step_h
    assert a.jumps == b.jumps


@pytest.mark.parametrize("name", ["hemodialysis-nonadherent", "kidney-transplant", "parathyroidectomy",
                                  "seed-case-early-graft-excision"])
def test_one_call_equals_segment_loop_on_builtin_scenarios(name):
    sc = load_scenario(name)
    loop = run_scenario(sc, solver=_options(False))
    one = run_scenario(sc, solver=_options(True))
    assert one.ok and len(one.segment_starts_h) > 1
    _assert_same(one, loop)
    mb = one.mass_balance()  # the jumps of state actions are booked: the ledgers still balance
    for col in (c for c in mb.columns if c.endswith("_imbalance_mmol")):
        assert np.max(np.abs(mb[col])) < 1e-3


def test_one_call_equals_segment_loop_at_report_accuracy():
    start = run_scenario(load_scenario("hemodialysis-adherent"), solver=_options(True)).y[0]
    events = [Hemodialysis(0.0, 60 * 24.0), PhosphateBinder(0.0, 2.4, 1.0)]
    runs = [simulate("default", 60 * 24.0, events, initial_state=start, extra_output_times_h=[8.5, 9.25],
                     solver=_options(flag, "report")) for flag in (False, True)]
    _assert_same(*runs)


@pytest.mark.parametrize("case", ["initial", "action", "solver"])
def test_failures_agree(case):
    """A negative state at the start, one an action makes, and a solver failure (an emptied phosphate pool stalls
    the step size): the same status, message, time and parameters in force on both paths."""
    start = run_scenario(load_scenario("hemodialysis-adherent"), solver=_options(True)).y[0]
    events = [Hemodialysis(0.0, 10 * 24.0), PhosphateBinder(0.0, 2.4, 1.0)]
    y0 = start.copy()
    if case == "initial":
        y0[0] = -1.0
    elif case == "action":
        events.append(AddToState(100.0, "ecf_volume", -1e3))
    else:
        events.append(SetState(50.0, "ecf_phosphate", 0.0))
    runs = [simulate("default", 10 * 24.0, events, initial_state=y0, solver=_options(flag), check=False)
            for flag in (False, True)]
    _assert_same(*runs)
    expected = {"initial": (NEGATIVE_STATE, 0.0), "action": (NEGATIVE_STATE, 100.0), "solver": (2, 50.0)}[case]
    assert (runs[1].status, runs[1].failed_at_h) == expected
    if case != "solver":
        assert "ecf_volume" in runs[1].message


def test_compiled_guard_equals_python_guard():
    """The compiled nonnegative check (_guard_rows) finds the row, state and value the Python guard finds, and
    keeps the same running scale, on random blocks with and without entries below the tolerance."""
    from ckdmbd.model.configurations import model as build_model
    from ckdmbd.simulation import GUARD_ATOL, GUARD_RTOL, _NonnegativeGuard
    from ckdmbd.solvers.rosenbrock import _guard_rows

    m = build_model("default")
    rng = np.random.default_rng(3)
    y0 = np.abs(rng.standard_normal(m.n_states)) + 0.1
    guard = _NonnegativeGuard(m, y0)
    scale = guard.scale.copy()
    for trial in range(200):
        rows = np.abs(rng.standard_normal((4, m.n_states))) * rng.uniform(0.1, 3.0)
        if trial % 3 == 0:
            rows[rng.integers(4), rng.integers(m.n_states)] = -rng.choice([1e-12, 1e-3, 1.0])
        t = np.arange(4.0) + trial
        found = guard.violation(t, rows)
        r, c, v = _guard_rows(rows[:3], 0, 3, rows[3], guard.index.astype(np.int64), scale, GUARD_ATOL,
                            GUARD_RTOL)
        if found is None:
            assert r < 0
        else:
            assert found == (t[r], guard.message(t[r], c, v))
        np.testing.assert_array_equal(scale, guard.scale)
