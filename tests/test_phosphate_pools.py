"""Phosphate compartments of the default configuration (issue 10, item 1): a finite rapidly exchangeable pool
and slowly exchanging cells, so that the plasma remembers the interdialytic gap. Each check cites what it holds
the model against."""

import numpy as np
import pytest

from ckdmbd.model.configurations import model, parameters
from ckdmbd.protocol import Diet, Hemodialysis, SetGFR
from ckdmbd.simulation import simulate
from ckdmbd.units import HOURS_PER_YEAR

WEEK = 168.0
HISTORY = 2 * HOURS_PER_YEAR  # long enough for the cell pool (ECF-side time constant ~2 weeks) and the glands
WEEKS = 3


def _session_start(week: int, weekday: int) -> float:
    return week * WEEK + weekday * 24.0 + 8.0  # Mon/Wed/Fri 08:00-12:00, t = 0 is Monday 00:00


@pytest.fixture(scope="module")
def anuric_without_binders():
    """An anuric patient two years into thrice-weekly 4-h dialysis, 1,000 mg phosphorus a day, no binders; the
    phosphate at each session's start and end and 1, 3, 4, 6, 24 and 48 h after each session's start or end."""
    events = [SetGFR(-HISTORY, 0.0), Diet(-HISTORY, 900.0, 1000.0), Hemodialysis(-HISTORY, WEEKS * WEEK + 24.0)]
    times = set()
    for week in range(WEEKS):
        for day in (0, 2, 4):
            s = _session_start(week, day)
            times.update({s, s + 1.0, s + 3.0, s + 4.0, s + 7.0, s + 10.0, s + 28.0, s + 52.0})
    t = np.array(sorted(x for x in times if x <= WEEKS * WEEK))
    frame = simulate("default", WEEKS * WEEK, events, start_h=-HISTORY, output_times_h=t).to_frame()
    hours = frame["time_days"].to_numpy() * 24.0
    p = frame["phosphate_mmol_L"].to_numpy()
    return lambda h: float(p[np.argmin(np.abs(hours - h))])


def test_long_interdialytic_gap_raises_monday_phosphate(anuric_without_binders):
    """Sigrist 2005: 1.59 vs 1.45 mmol/L after the long vs the midweek gap (+0.14); COSMOS: 5.5 vs 5.2 mg/dL
    (+0.10 mmol/L). Issue 10 accepts +0.05 to +0.25 mmol/L in an anuric patient without binders."""
    at = anuric_without_binders
    monday = np.mean([at(_session_start(w, 0)) for w in (1, 2)])
    wednesday = np.mean([at(_session_start(w, 2)) for w in (1, 2)])
    friday = np.mean([at(_session_start(w, 4)) for w in (1, 2)])
    assert 0.05 <= monday - wednesday <= 0.25, f"Monday - Wednesday {monday - wednesday:+.3f} mmol/L"
    assert monday > friday  # both midweek gaps are shorter than the weekend's


def test_rebound_takes_hours_to_days(anuric_without_binders):
    """Stremke 2022 (controlled 900 mg/day diet, no binders): 5 of 13 patients back above 90 % of the pre-dialysis
    value within 24 h, 94 +- 11 % (range 63-113 %) at 48 h. Issue 10: at most 92 % at 24 h."""
    at = anuric_without_binders
    for week in (1, 2):
        wed, fri = _session_start(week, 2), _session_start(week, 4)
        pre = at(wed)
        six, day = at(wed + 10.0) / pre, at(wed + 28.0) / pre
        assert six < day <= 0.92, f"6 h {six:.1%}, 24 h {day:.1%} of the pre-dialysis value"
        assert six > 0.6  # the rapidly exchangeable pool gives most of the fall back within hours
        two_days = at(fri + 52.0) / at(fri)  # Friday's session: 48 h after its end is still before Monday's
        assert 0.83 <= two_days <= 1.05, f"48 h {two_days:.1%}"  # Stremke's mean +- 1 SD
        assert two_days > at(fri + 28.0) / at(fri)  # still rising on the second day


def test_pool_sizes():
    """The rapidly exchangeable pool is finite: a few sessions' removal (20-30 mmol each, Wang 2012), so that a
    session lowers it measurably; the cells hold PR's 3,226 mmol and exchange slowly. ECF plus the pool form the
    30-120 L equilibrium volume that the weekly cycle needs (absorbed ~11 mmol/day over V raises [P] by A/V a day;
    the long gap adds about A/(3V): Sigrist's +0.14 mM needs ~30 L, Daugirdas 2018's distal pool is 3x body
    water, ~120 L)."""
    p = parameters("default")
    m = model("default")
    y0 = m.initial_state(p)
    pool = y0[m.state_index("exchangeable_phosphate")]
    cells = y0[m.state_index("intracellular_phosphate")]
    ecf = y0[m.state_index("ecf_phosphate")]
    assert pool == pytest.approx(p["exchangeable_phosphate_volume"] * ecf / p["V1"])  # at the ECF concentration
    assert 2 * 30.0 <= pool <= 6 * 20.0
    assert cells == pytest.approx(3226.0) and cells > 25 * pool
    assert 30.0 <= p["V1"] + p["exchangeable_phosphate_volume"] <= 120.0
    # cells: ECF-side time constant of a week or more, unlike PR's 51.8 L/h (16 min)
    assert (p["V1"] + p["exchangeable_phosphate_volume"]) / p["T49"] > WEEK
    # the pool refills the plasma at the published mobilisation clearance (Agar 2011: 45-208 mL/min)
    assert 45.0 <= p["phosphate_mobilisation_clearance"] * 1000.0 / 60.0 <= 208.0


def test_healthy_baseline_is_an_exact_steady_state_of_the_pools():
    """At the healthy baseline the ECF, the rapid pool and the cells are all at 1.2 mM: both exchanges cancel
    exactly. Over a year without events the pools only follow the default configuration's own baseline drift
    (< 1e-4, inherited from the SBML's initial state; see test_corrections)."""
    p = parameters("default")
    m = model("default")
    y0 = m.initial_state(p)
    dydt = np.zeros_like(y0)
    m.generated.rhs(0.0, y0, m.parameter_vector(p), dydt)
    for name in ("exchangeable_phosphate", "intracellular_phosphate"):
        assert dydt[m.state_index(name)] == 0.0, name
    frame = simulate("default", HOURS_PER_YEAR, output_interval_h=30 * 24.0).to_frame()
    for name in ("exchangeable_phosphate", "intracellular_phosphate"):
        np.testing.assert_allclose(frame[name], y0[m.state_index(name)], rtol=1e-4)
    np.testing.assert_allclose(frame["phosphate_mmol_L"], 1.2, rtol=1e-4)


def test_reference_keeps_one_intracellular_pool():
    """BIOMD0000000613 has no rapid pool: the reference configuration is unchanged."""
    assert "exchangeable_phosphate" not in model("reference").state_names
    assert parameters("reference")["T49"] == 51.8
