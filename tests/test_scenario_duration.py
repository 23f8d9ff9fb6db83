"""A run made longer or shorter than its file (``--duration``, or labs past the scenario's end in ``fit``) keeps its
open-ended schedules and prescriptions running to the new end (issue 16: ``--duration "50 years"`` used to stop
dialysis at day 364 and exit 0 with calcium 0.67 mmol/L)."""

from ckdmbd.protocol import Hemodialysis
from ckdmbd.scenario import PRESCRIPTIONS, load_scenario, parse_scenario, with_duration, with_overrides
from ckdmbd.units import HOURS_PER_DAY, HOURS_PER_YEAR


def _schedules(sc):
    return [e for e in sc.events if isinstance(e, Hemodialysis)]


def test_longer_duration_keeps_dialysing_to_the_new_end():
    sc = with_overrides(load_scenario("hemodialysis-nonadherent"), "3 years")
    assert sc.duration_h == 3 * HOURS_PER_YEAR
    assert [s.end_h for s in _schedules(sc)] == [3 * HOURS_PER_YEAR]


def test_shorter_duration_ends_the_schedule_with_the_run():
    sc = with_overrides(load_scenario("hemodialysis-adherent"), "6 months")
    assert [s.end_h for s in _schedules(sc)] == [sc.duration_h]


def test_prescriptions_and_their_session_schedules_follow_the_new_end():
    base = load_scenario("hemodialysis-etelcalcetide")
    sc = with_duration(base, 2 * base.duration_h)
    drugs = [e for e in sc.events if isinstance(e, PRESCRIPTIONS)]
    assert drugs and all(d.until_h == 2 * base.duration_h for d in drugs)
    for drug in drugs:
        for schedule in getattr(drug, "schedules", ()):
            assert schedule.end_h == 2 * base.duration_h


def test_an_explicit_until_is_kept():
    text = """
[scenario]
name = "x"
configuration = "default"
duration = "1 year"
[[events]]
type = "set_gfr"
time = "0 days"
gfr = "0 mL/min"
[[events]]
type = "hemodialysis"
time = "0 days"
until = "200 days"
days = ["Mon", "Wed", "Fri"]
session = "4 h"
phosphate_clearance = "140 mL/min"
dialysate_calcium = "1.5 mmol/L"
"""
    sc = with_duration(parse_scenario(text), 2 * HOURS_PER_YEAR)
    assert [s.end_h for s in _schedules(sc)] == [200 * HOURS_PER_DAY]


def test_sessions_are_generated_through_the_longer_run():
    from ckdmbd.sessions import sessions

    sc = with_overrides(load_scenario("hemodialysis-nonadherent"), "3 years")
    starts = [s for s, _e in sessions(sc.events) if s >= 0]
    assert max(starts) > sc.duration_h - 7 * HOURS_PER_DAY
    assert 150 * 3 < len(starts) < 160 * 3  # three sessions a week for three years
