"""Kidney failure on haemodialysis (issue #3): each check cites the measurement it is held against."""

import numpy as np
import pytest

from ckdmbd.protocol import Diet, Hemodialysis, SetGFR
from ckdmbd.scenario import load_scenario, run_scenario
from ckdmbd.sessions import session_output_times, session_table
from ckdmbd.simulation import simulate
from ckdmbd.units import HOURS_PER_YEAR

YEAR = HOURS_PER_YEAR


@pytest.fixture(scope="module")
def adherent():
    sc = load_scenario("hemodialysis-adherent")
    frame = run_scenario(sc).to_frame()
    return sc, frame, session_table(frame, sc.events)


@pytest.fixture(scope="module")
def nonadherent():
    sc = load_scenario("hemodialysis-nonadherent")
    frame = run_scenario(sc).to_frame()
    return sc, frame, session_table(frame, sc.events)


def _session_curve(frame, sessions, k):
    """Phosphate from the start of session k to 6 h after its end, as (hours since start, mmol/L)."""
    t = frame["time_days"].to_numpy() * 24.0
    start = sessions["start_day"].iloc[k] * 24.0
    sel = (t >= start - 1e-6) & (t <= start + 10.0 + 1e-6)
    return t[sel] - start, frame["phosphate_mmol_L"].to_numpy()[sel]


def test_session_phosphate_falls_steeply_then_plateaus(adherent):
    """Elias 2018: -47 +- 14 % at 1 h and -45 +- 11 % at 4 h; issue #3 accepts -35 to -60 % at both."""
    _sc, frame, sessions = adherent
    hours, p = _session_curve(frame, sessions, len(sessions) // 2)
    pre = p[0]
    at = {h: p[np.argmin(np.abs(hours - h))] for h in (1.0, 2.0, 3.0, 4.0)}
    for h in (1.0, 4.0):
        assert 0.35 <= 1.0 - at[h] / pre <= 0.60, f"reduction at {h} h: {1 - at[h] / pre:.0%}"
    # steep then flat: more than half of the 4-h fall happens in the first hour, less than 15 % in the last
    total = pre - at[4.0]
    assert (pre - at[1.0]) > 0.5 * total
    assert (at[3.0] - at[4.0]) < 0.15 * total


def test_session_removes_20_to_30_mmol_and_phosphate_rebounds(adherent):
    """Wang 2012 (15-30 mmol per 4-h low-flux session), ASAIO Trans 1991 (20-28 mmol); rebound after the end as in
    Agar 2011 (refilling from the intracellular pool, time constant V/K_M of about 2 h)."""
    _sc, frame, sessions = adherent
    assert sessions["phosphate_removed_mmol"].between(20.0, 30.0).all()
    hours, p = _session_curve(frame, sessions, len(sessions) // 2)
    end = np.argmin(np.abs(hours - 4.0))
    after = p[end:]
    assert np.all(np.diff(after) > 0)  # rises throughout the 6 h after the session
    post, pre = p[end], p[0]
    recovered = (p[np.argmin(np.abs(hours - 7.0))] - post) / (pre - post)
    assert 0.5 < recovered < 1.0  # most of the fall recovered within 3 h, not overshooting


def test_on_dialysis_column_marks_sessions_every_15_minutes(adherent):
    _sc, frame, sessions = adherent
    on = frame["on_dialysis"].to_numpy()
    t = frame["time_days"].to_numpy() * 24.0
    inside = t[on == 1.0]
    assert len(sessions) >= 150  # Mon/Wed/Fri for a year
    gaps = np.diff(inside)
    assert np.max(gaps[gaps < 1.0]) <= 0.25 + 1e-9  # resolved at least every 15 minutes
    assert set(np.unique(on)) == {0.0, 1.0}


def test_predialysis_phosphate_with_and_without_binders(adherent, nonadherent):
    """Pill-bottle monitoring: 1.54 mmol/L adherent vs 1.71 mmol/L non-adherent; issue #3: near 1.5 with binders,
    1.7-2.2 without."""
    pre_adherent = adherent[2]["pre_phosphate_mmol_L"].mean()
    pre_nonadherent = nonadherent[2]["pre_phosphate_mmol_L"].mean()
    assert 1.3 <= pre_adherent <= 1.65
    assert 1.7 <= pre_nonadherent <= 2.2
    assert pre_nonadherent > pre_adherent + 0.15


def test_predialysis_values_are_clinically_plausible(nonadherent):
    _sc, frame, sessions = nonadherent
    assert sessions["pre_calcium_mmol_L"].between(2.0, 2.6).all()
    assert sessions["pre_ionized_calcium_mmol_L"].between(1.0, 1.35).all()
    assert frame["fgf23_pg_mL"].iloc[-1] > 150.0  # raised many-fold on dialysis (median ~760 pg/mL, assay-dependent)
    assert frame["calcitriol_pmol_L"].max() < 60.0  # calcitriol deficiency of kidney failure


def test_high_calcium_bath_raises_ionised_calcium_and_suppresses_pth():
    """Pirklbauer 2021: dialysate calcium 1.75 mmol/L, intact PTH 277 -> 51 pg/mL (-75 %) by the end of the
    session; issue #3 accepts -60 to -85 %. The patient has been on a 1.5 mmol/L bath before."""
    history = 3 * YEAR
    events = [SetGFR(-history, 0.0), Diet(-history, 900.0, 1000.0), Hemodialysis(-history, 0.0),
              Hemodialysis(0.0, 14 * 24.0, dialysate_calcium_mM=1.75)]
    result = simulate("default", 14 * 24.0, events, start_h=-history, output_interval_h=24.0,
                      extra_output_times_h=session_output_times(events, 14 * 24.0))
    sessions = session_table(result.to_frame(), events)
    first = sessions.iloc[0]
    assert first["post_ionized_calcium_mmol_L"] > first["pre_ionized_calcium_mmol_L"] + 0.05
    fall = 1.0 - first["post_pth_pmol_L"] / first["pre_pth_pmol_L"]
    assert 0.60 <= fall <= 0.85, f"PTH fall {fall:.0%}"
    assert 8.0 <= first["calcium_gained_mmol"] <= 16.0  # Pirklbauer: 488 mg (12 mmol) gained


def test_untreated_patient_develops_secondary_hyperparathyroidism_as_glands_grow():
    """From the start of dialysis without binders, PTH climbs over months to years above 2x the upper normal limit
    of 6.1 pmol/L (KDIGO target 2-9x ULN) while the parathyroid tissue grows (hyperplasia)."""
    events = [SetGFR(0.0, 0.0), Diet(0.0, 900.0, 1000.0), Hemodialysis(0.0, 3 * YEAR)]
    result = simulate("default", 3 * YEAR, events, output_interval_h=24.0 * 7)
    frame = result.to_frame()
    years = frame["time_days"] / 365.25
    pth = frame["pth_pmol_L"]
    tissue = frame["parathyroid_tissue_native"]
    at = lambda y: int(np.argmin(np.abs(years - y)))  # noqa: E731
    assert pth[at(0.5)] < pth[at(1.0)] < pth[at(3.0)]
    assert pth[at(3.0)] > 2 * 6.1
    assert tissue[at(3.0)] > 2.5 * tissue[0]  # hyperplasia over years (t1/2 of growth ~ months)
    assert tissue[at(0.25)] < 1.5 * tissue[0]  # ... not within weeks


def test_mass_balance_closes_with_dialysis(nonadherent):
    _sc, frame, _sessions = nonadherent
    for el in ("calcium", "phosphate"):
        body = frame[f"{el}_body_mmol"].to_numpy()
        assert np.max(np.abs(frame[f"{el}_imbalance_mmol"])) / body[0] < 1e-6
    assert frame["ledger_dialysate_phosphate"].iloc[-1] - frame["ledger_dialysate_phosphate"].iloc[0] > 3000.0
