"""Scenario files: every malformed input is a ScenarioError that names the field; units convert exactly."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ckdmbd import units
from ckdmbd.protocol import GFRDecline, Parathyroidectomy, TeriparatideDoses
from ckdmbd.scenario import (
    ScenarioError,
    builtin_names,
    load_scenario,
    parse_quantity,
    parse_scenario,
    with_overrides,
)

HEAD = '[scenario]\nname = "t"\nduration = "10 days"\n'


def doc(*, head: str = HEAD, patient: str = "", events: str = "") -> str:
    return head + (f"[patient]\n{patient}\n" if patient else "") + events


def ev(body: str) -> str:
    return f"[[events]]\n{body}\n"


TERI = 'type = "teriparatide"\ntime = "12 h"\n'
DECLINE = 'type = "gfr_decline"\ntime = "0 h"\nover = "5 days"\n'
PTX = 'type = "parathyroidectomy"\ntime = "1 day"\n'
HD_HEAD = '[scenario]\nname = "t"\nconfiguration = "default"\nduration = "10 days"\n'
HD = 'type = "hemodialysis"\ntime = "0 h"\n'

# (id, scenario text, the field the message must name)
MALFORMED = [
    ("not-toml", "this is = = not toml [", "not a valid TOML"),
    ("scenario-not-a-table", 'scenario = "x"\n', "scenario"),
    ("unknown-top-level-table", HEAD + '[patinet]\ngfr = "60 mL/min"\n', "patinet"),
    ("missing-scenario-table", '[patient]\ngfr = "60 mL/min"\n', "scenario"),
    ("missing-name", '[scenario]\nduration = "10 days"\n', "scenario.name"),
    ("empty-name", '[scenario]\nname = " "\nduration = "10 days"\n', "scenario.name"),
    ("name-is-a-path", '[scenario]\nname = "../../etc"\nduration = "10 days"\n', "scenario.name"),
    ("name-not-text", '[scenario]\nname = 5\nduration = "10 days"\n', "scenario.name"),
    ("description-not-text", HEAD + "description = 5\n", "scenario.description"),
    ("missing-duration", '[scenario]\nname = "t"\n', "scenario.duration"),
    ("duration-without-unit-number", '[scenario]\nname = "t"\nduration = 10\n', "scenario.duration"),
    ("duration-without-unit-text", '[scenario]\nname = "t"\nduration = "10"\n', "scenario.duration"),
    ("duration-wrong-dimension", '[scenario]\nname = "t"\nduration = "10 kg"\n', "scenario.duration"),
    ("duration-negative", '[scenario]\nname = "t"\nduration = "-1 year"\n', "scenario.duration"),
    ("duration-zero", '[scenario]\nname = "t"\nduration = "0 days"\n', "scenario.duration"),
    ("duration-decimal-comma", '[scenario]\nname = "t"\nduration = "1,5 days"\n', "scenario.duration"),
    ("duration-expression", '[scenario]\nname = "t"\nduration = "10**10**10 h"\n', "scenario.duration"),
    ("duration-unknown-unit", '[scenario]\nname = "t"\nduration = "10 fortnites"\n', "scenario.duration"),
    ("duration-infinite", '[scenario]\nname = "t"\nduration = "1e999 h"\n', "scenario.duration"),
    ("duration-not-a-string", '[scenario]\nname = "t"\nduration = [10, "days"]\n', "scenario.duration"),
    ("unknown-scenario-field", HEAD + "seed = 1\n", "scenario.seed"),
    ("unknown-configuration", HEAD + 'configuration = "fancy"\n', "scenario.configuration"),
    ("output-interval-zero", HEAD + 'output_interval = "0 s"\n', "scenario.output_interval"),
    ("output-interval-longer-than-run", HEAD + 'output_interval = "11 days"\n', "scenario.output_interval"),
    ("output-interval-too-many-rows", HEAD + 'output_interval = "0.1 s"\n', "scenario.output_interval"),
    ("patient-not-a-table", 'patient = "healthy"\n' + HEAD, "patient"),
    ("patient-negative-gfr", doc(patient='gfr = "-5 mL/min"'), "patient.gfr"),
    ("patient-gfr-wrong-unit", doc(patient='gfr = "5 mg/day"'), "patient.gfr"),
    ("patient-diet-not-a-rate", doc(patient='diet_calcium = "1000 mg"'), "patient.diet_calcium"),
    ("patient-unknown-field", doc(patient='shoe_size = "44 cm"'), "patient.shoe_size"),
    ("events-not-an-array", 'events = "teriparatide"\n' + HEAD, "events"),
    ("events-key-inside-scenario", HEAD + 'events = "teriparatide"\n', "scenario.events"),
    ("event-not-a-table", "events = [1, 2]\n" + HEAD, "events[0]"),
    ("event-without-type", doc(events=ev('time = "1 day"')), "events[0].type"),
    ("unknown-event-type", doc(events=ev('type = "vitamin_d"\ntime = "1 day"')), "events[0].type"),
    ("event-unknown-field", doc(events=ev(TERI + 'dose = "20 ug"\nroute = "sc"')), "events[0].route"),
    ("event-without-time", doc(events=ev('type = "teriparatide"\ndose = "20 ug"')), "events[0].time"),
    ("event-negative-time", doc(events=ev('type = "parathyroidectomy"\ntime = "-1 day"')), "events[0].time"),
    ("dose-wrong-unit", doc(events=ev(TERI + 'dose = "20 mL"')), "events[0].dose"),
    ("dose-without-unit", doc(events=ev(TERI + "dose = 20")), "events[0].dose"),
    ("dose-negative", doc(events=ev(TERI + 'dose = "-20 ug"')), "events[0].dose"),
    ("dose-zero", doc(events=ev(TERI + 'dose = "0 ug"')), "events[0].dose"),
    ("dose-boolean", doc(events=ev(TERI + "dose = true")), "events[0].dose"),
    ("count-zero", doc(events=ev(TERI + 'dose = "20 ug"\ncount = 0')), "events[0].count"),
    ("count-not-integer", doc(events=ev(TERI + 'dose = "20 ug"\ncount = 2.5')), "events[0].count"),
    ("count-text", doc(events=ev(TERI + 'dose = "20 ug"\ncount = "3"')), "events[0].count"),
    ("count-absurd", doc(events=ev(TERI + 'dose = "20 ug"\ncount = 1000000000000')), "events[0].count"),
    ("interval-zero", doc(events=ev(TERI + 'dose = "20 ug"\ninterval = "0 h"')), "events[0].interval"),
    ("doses-run-past-the-end", doc(events=ev(TERI + 'dose = "20 ug"\ncount = 11')), "events[0]"),
    ("last-dose-exactly-at-the-end",
     doc(events=ev('type = "teriparatide"\ntime = "0 h"\ndose = "20 ug"\ninterval = "5 days"\ncount = 3')),
     "events[0]"),
    ("event-after-the-end", doc(events=ev('type = "parathyroidectomy"\ntime = "11 days"')), "events[0].time"),
    ("event-at-the-end", doc(events=ev('type = "parathyroidectomy"\ntime = "10 days"')), "events[0].time"),
    ("events-out-of-order",
     doc(events=ev('type = "set_gfr"\ntime = "5 days"\ngfr = "30 mL/min"') + ev(PTX)), "events[1].time"),
    ("fraction-removed-above-one", doc(events=ev(PTX + "fraction_removed = 1.5")), "events[0].fraction_removed"),
    ("fraction-removed-zero", doc(events=ev(PTX + "fraction_removed = 0")), "events[0].fraction_removed"),
    ("fraction-removed-text", doc(events=ev(PTX + 'fraction_removed = "1"')), "events[0].fraction_removed"),
    ("fraction-removed-nan", doc(events=ev(PTX + "fraction_removed = nan")), "events[0].fraction_removed"),
    ("set-gfr-not-a-quantity", doc(events=ev('type = "set_gfr"\ntime = "1 day"\ngfr = "fast"')), "events[0].gfr"),
    ("gfr-decline-rising", doc(events=ev(DECLINE + 'from = "16 mL/min"\nto = "100 mL/min"')), "events[0].to"),
    ("gfr-decline-from-zero", doc(events=ev(DECLINE + 'from = "0 mL/min"\nto = "0 mL/min"')), "events[0].from"),
    ("gfr-decline-zero-over",
     doc(events=ev('type = "gfr_decline"\ntime = "0 h"\nover = "0 s"\nfrom = "100 mL/min"\nto = "16 mL/min"')),
     "events[0].over"),
    ("second-event-bad", doc(events=ev(PTX) + ev('type = "set_gfr"\ntime = "2 days"\ngfr = 30')), "events[1].gfr"),
    # issue 16: accepted silently before
    ("weekday-misspelt", doc(head=HD_HEAD, events=ev(HD + 'days = ["MONtag", "Wed", "Fri"]')), "events[0].days"),
    ("teriparatide-5-kg", doc(events=ev(TERI + 'dose = "5 kg"')), "events[0].dose"),
    ("overlapping-schedules",
     doc(head=HD_HEAD, events=ev(HD + 'until = "8 days"') + ev(HD.replace('"0 h"', '"2 days"'))), "overlap"),
]


@pytest.mark.parametrize(("text", "field"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_scenario_names_the_field(text: str, field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text)
    message = str(info.value)
    assert field in message, message
    assert "\n" not in message, message


def test_the_corpus_is_large() -> None:
    assert len(MALFORMED) >= 20
    assert len({c[0] for c in MALFORMED}) == len(MALFORMED)


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_scenarios_parse(name: str) -> None:
    sc = load_scenario(name)
    assert sc.name == name
    assert sc.description
    assert sc.configuration in ("default", "reference")
    assert 0 < sc.output_interval_h <= sc.duration_h


def test_builtins_are_there() -> None:
    assert {"ckd-progression", "parathyroidectomy", "peterson-riggs-2010", "teriparatide-20ug"} <= set(builtin_names())


def test_builtin_values() -> None:
    teri = load_scenario("teriparatide-20ug")
    assert (teri.duration_h, teri.output_interval_h) == (240.0, 1.0)
    assert teri.events == (TeriparatideDoses(12.0, 20.0, 24.0, 3),)
    ckd = load_scenario("ckd-progression")
    assert ckd.duration_h == pytest.approx(10 * units.HOURS_PER_YEAR, rel=1e-12)
    assert ckd.events == (GFRDecline(0.0, 100.0, 16.0, pytest.approx(10 * units.HOURS_PER_YEAR, rel=1e-12)),)
    assert load_scenario("parathyroidectomy").events == (Parathyroidectomy(168.0, 1.0),)


def test_units_convert() -> None:
    text = doc(
        head='[scenario]\nname = " mine "\nduration = "18 months"\noutput_interval = "1 week"\n',
        patient='gfr = "60 mL/min"\ndiet_calcium = "2.4 g/day"\ndiet_phosphorus = "1000 mg/day"',
        events=ev('type = "teriparatide"\ntime = "0.5 day"\ndose = "0.02 mg"\ninterval = "1 day"\ncount = 2'),
    )
    sc = parse_scenario(text)
    assert sc.name == "mine"
    assert sc.configuration == "default"
    assert sc.duration_h == pytest.approx(18 * 30.4375 * 24, rel=1e-12)
    assert sc.output_interval_h == pytest.approx(168.0, rel=1e-12)
    assert sc.parameter_overrides["GFR_0"] == pytest.approx(3.6, rel=1e-12)  # 60 mL/min = 3.6 L/h
    assert sc.parameter_overrides["OralCa"] == pytest.approx(2400 / 40.078 / 24, rel=1e-12)
    assert sc.parameter_overrides["OralPhos"] == pytest.approx(1000 / 30.974 / 24, rel=1e-12)
    (teri,) = sc.events
    assert (teri.start_h, teri.dose_ug, teri.interval_h, teri.count) == pytest.approx((12.0, 20.0, 24.0, 2))


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("12 h", "h", 12.0),
        ("  1.5 days ", "h", 36.0),
        ("1 year", "h", 8766.0),
        ("18 months", "h", 18 * 30.4375 * 24),
        ("90 min", "h", 1.5),
        (".5 h", "h", 0.5),
        ("1e3 mg/day", "mg/day", 1000.0),
        ("2.4 g/day", "mg/day", 2400.0),
        ("2.4 g / day", "mg/day", 2400.0),
        ("100 mg per day", "mg/day", 100.0),
        ("20 ug", "ug", 20.0),
        ("20 µg", "ug", 20.0),
        ("0.02 mg", "ug", 20.0),
        ("6 L/h", "mL/min", 100.0),
        ("+3 h", "h", 3.0),
    ],
)
def test_parse_quantity(text: str, unit: str, expected: float) -> None:
    assert parse_quantity(text, unit, "x") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "text",
    ["1,5 h", "1.5.2 h", "1 day 2", "2 1 h", "1 h\n2", "[1] h", "h", "year", "1 year +", "1/0 h", "(", "1 h)", "-",
     "10 ** 10 ** 10 h", "1 h ** 10 ** 10", "3 * 4 h", "1_000 h", "0x10 h", "'1 h'", "1 h #", "nan h", "inf h", "",
     "1 kg", "1 percent", "1 degC", "1 fortnites", "5", "1e999 h"],
)
def test_parse_quantity_rejects_rather_than_misreads(text: str) -> None:
    with pytest.raises(ScenarioError, match=r"^where: "):
        parse_quantity(text, "h", "where")


def test_parse_quantity_negative() -> None:
    with pytest.raises(ScenarioError, match="must not be negative"):
        parse_quantity("-1 h", "h", "x")
    assert parse_quantity("-1 h", "h", "x", allow_negative=True) == -1.0


def test_overrides() -> None:
    teri = load_scenario("teriparatide-20ug")
    sc = with_overrides(teri, "61 h", "30 min")
    assert (sc.duration_h, sc.output_interval_h, sc.events) == (61.0, 0.5, teri.events)
    assert with_overrides(teri) == teri
    # a GFR decline may outlast the run: the run simply stops during the decline
    ckd = with_overrides(load_scenario("ckd-progression"), "30 days")
    assert ckd.duration_h == 720.0


@pytest.mark.parametrize(
    ("name", "duration", "interval", "message"),
    [
        ("teriparatide-20ug", "-1 year", None, "--duration: '-1 year' must be positive"),
        ("teriparatide-20ug", "0 days", None, "--duration: '0 days' must be positive"),
        ("teriparatide-20ug", "5", None, "--duration: '5' has no unit"),
        ("teriparatide-20ug", "5 mL", None, "--duration: '5 mL' is not convertible"),
        ("teriparatide-20ug", None, "0 s", "--output-interval: '0 s' must be positive"),
        ("teriparatide-20ug", "5 days", "6 days", "--output-interval: '6 days' is longer than the duration"),
        ("teriparatide-20ug", None, "1 ms", "--output-interval: '1 ms' gives"),
        ("peterson-riggs-2010", "12 h", None, "--duration: '12 h' is shorter than the scenario's output interval"),
        ("peterson-riggs-2010", "10000 years", None, "--duration: '10000 years' gives"),
        ("teriparatide-20ug", "12 h", "1 h", "--duration: '12 h' ends the run before events[0] starts"),
        ("teriparatide-20ug", "60 h", None, "--duration: '60 h' ends the run before events[0] is over"),
        ("parathyroidectomy", "7 days", None, "--duration: '7 days' ends the run before events[0] starts"),
    ],
)
def test_bad_overrides(name: str, duration: str | None, interval: str | None, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        with_overrides(load_scenario(name), duration, interval)
    assert str(info.value).startswith(message), str(info.value)


def test_load_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(doc(events=ev(PTX)), encoding="utf-8")
    sc = load_scenario(path)
    assert sc.source == str(path)
    assert sc.events == (Parathyroidectomy(24.0, 1.0),)
    assert load_scenario(str(path)) == sc


def test_load_scenario_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ScenarioError, match=r"no built-in scenario or file named 'nope' \(built-ins: ckd-progression"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="it is a folder"):
        load_scenario(tmp_path)
    garbage = tmp_path / "garbage.toml"
    garbage.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ScenarioError, match="not UTF-8 text"):
        load_scenario(garbage)
    big = tmp_path / "big.toml"
    big.write_text(HEAD + "#" * 2_000_000)
    with pytest.raises(ScenarioError, match="too large"):
        load_scenario(big)
    if Path("/dev/null").exists():
        with pytest.raises(ScenarioError, match="not a regular file"):
            load_scenario("/dev/null")
    # the tests may run as root, who can read anything: simulate a file without read permission
    locked = tmp_path / "locked.toml"
    locked.write_text(HEAD)

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ScenarioError, match=r"cannot read scenario file '.*locked\.toml': Permission denied"):
        load_scenario(locked)


def test_messages_are_one_line() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc(events=ev(TERI + 'dose = "20\\nug"')))
    assert "\n" not in str(info.value)
    assert "events[0].dose" in str(info.value)


def test_scenario_is_exact_about_the_end() -> None:
    # three doses at 12, 36, 60 h: a run of 60 h would silently drop the last one, 60.5 h includes it
    body = TERI + 'dose = "20 ug"\ncount = 3'
    with pytest.raises(ScenarioError, match=r"events\[0\]: the event runs until 2.5 days"):
        parse_scenario(doc(head='[scenario]\nname = "t"\nduration = "60 h"\noutput_interval = "1 h"\n',
                           events=ev(body)))
    sc = parse_scenario(doc(head='[scenario]\nname = "t"\nduration = "60.5 h"\noutput_interval = "1 h"\n',
                            events=ev(body)))
    assert math.isclose(sc.duration_h, 60.5)


def test_weekdays_by_full_name_or_abbreviation() -> None:
    from ckdmbd.protocol import Hemodialysis

    text = doc(head=HD_HEAD, events=ev(HD + 'days = ["Monday", "wed", " Fri "]'))
    (schedule,) = [e for e in parse_scenario(text).events if isinstance(e, Hemodialysis)]
    assert schedule.weekdays == (0, 2, 4)


def test_an_event_without_a_type_lists_every_event_type():
    from ckdmbd.scenario import EVENT_TYPES

    with pytest.raises(ScenarioError) as info:
        parse_scenario('[scenario]\nname = "x"\nduration = "30 days"\n[[events]]\ntime = "1 day"\n')
    message = str(info.value)
    assert message.startswith("events[0].type: missing")
    assert all(kind in message for kind in EVENT_TYPES) and len(EVENT_TYPES) >= 16


def test_time_units_read_without_pint_equal_pints_conversion():
    # parse_quantity reads plain time units from a table (no pint at a cold start): the same hours as pint, bit for
    # bit, for every unit in the table and numbers of every kind a scenario writes
    import random

    import pint

    from ckdmbd.scenario import _HOURS_PER, _registry, parse_quantity

    ureg = _registry()
    rng = random.Random(11)
    numbers = ["0", "1", "2.5", "1e3", "0.25", "-1", *(repr(rng.uniform(0, 1000)) for _ in range(200)),
               *(str(rng.randint(0, 100_000)) for _ in range(50))]
    for unit in _HOURS_PER:
        assert isinstance(ureg.parse_units(unit), pint.Unit)
        for number in numbers:
            expected = float(ureg.Quantity(float(number), ureg.parse_units(unit)).to("h").magnitude)
            assert parse_quantity(f"{number} {unit}", "h", "t", allow_negative=True) == expected, (number, unit)
