"""The solve orchestrator: two independent backends agree, events apply exactly at their times, bad options fail."""

import numpy as np
import pytest

from ckdmbd.protocol import Parathyroidectomy, ProtocolError, SetGFR, TeriparatideDoses
from ckdmbd.simulation import SimulationError, SolverOptions, simulate

EVENTS = [TeriparatideDoses(12.0, 20.0, 24.0, 3), Parathyroidectomy(200.0, 0.5)]


def test_rosenbrock_and_scipy_lsoda_backends_agree():
    a = simulate("default", 24 * 30, EVENTS, output_interval_h=6).to_frame(include_states=False)
    b = simulate("default", 24 * 30, EVENTS, output_interval_h=6,
                 solver=SolverOptions(backend="scipy")).to_frame(include_states=False)
    for col in ("calcium_mmol_L", "phosphate_mmol_L", "pth_pmol_L", "calcitriol_pmol_L"):
        np.testing.assert_allclose(a[col], b[col], rtol=2e-5)


def test_event_takes_effect_exactly_at_its_time():
    """A GFR step at 100 h: the output at 100 h already carries the new GFR, the one just before does not."""
    r = simulate("corrected", 200.0, [SetGFR(100.0, 30.0)], output_times_h=np.array([0.0, 99.999, 100.0, 200.0]))
    gfr = r.to_frame()["gfr_mL_min"].to_numpy()
    assert gfr[1] == pytest.approx(100.0, rel=1e-3)
    assert gfr[2] == pytest.approx(30.0, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"duration_h": -1.0}, "duration must be a positive"), ({"output_interval_h": 0.0}, "output interval"),
     ({"start_h": 5.0}, "start must be at or before")],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate("default", **({"duration_h": 48.0} | kwargs))


def test_bad_solver_options_and_events():
    with pytest.raises(ValueError, match="backend"):
        SolverOptions(backend="euler")
    with pytest.raises(ValueError, match="tolerances"):
        SolverOptions(rtol=0.0)
    with pytest.raises(ProtocolError, match="before the start"):
        simulate("default", 48.0, [SetGFR(-1.0, 10.0)])
    with pytest.raises(ValueError, match="unknown configuration"):
        simulate("nonsense", 48.0)


def test_solver_failure_is_a_value_or_a_clear_error():
    """The SBML encoding fails at GFR 5 mL/min after about a year: a status and a message, or SimulationError."""
    r = simulate("reference", 2 * 8766.0, [SetGFR(0.0, 5.0)], output_interval_h=24 * 7, check=False)
    assert not r.ok and "non-finite" in r.message
    with pytest.raises(SimulationError, match=r"failed after t = \d+"):
        simulate("reference", 2 * 8766.0, [SetGFR(0.0, 5.0)], output_interval_h=24 * 7)


def test_events_closer_than_the_time_resolution_act_together():
    """Two events 1e-308 days apart (found by the property test of issue 15) used to leave a segment shorter than
    the time resolution: "step size fell below the resolution of time". They now act at the same restart, and an
    event a hair before the end of the run is one that cannot act."""
    from ckdmbd.scenario import parse_scenario, run_scenario

    binder = ('[[events]]\ntype = "phosphate_binder"\ntime = "{t}"\ndose = "{dose} g/day"\nadherence = 1.0\n'
              'binder = "calcium_carbonate"\n')
    head = '[scenario]\nname = "close"\nconfiguration = "default"\nduration = "3 days"\n'
    close = run_scenario(parse_scenario(head + binder.format(t="0 days", dose=0) + binder.format(
        t="1.11254e-308 days", dose=2.4) + binder.format(t="3 days", dose=0).replace('"3 days"', '"71.99999999999 h"')))
    same = run_scenario(parse_scenario(head + binder.format(t="0 days", dose=2.4)))
    assert close.ok and same.ok
    assert np.allclose(close.y[-1], same.y[-1], rtol=1e-9, atol=1e-12)  # the 2.4 g/day acted from t = 0
