"""Fuzzing the inputs (issue 16): seeded mutations of every built-in scenario and of the example lab files, and random
quantities, each parsed under a time limit. Every case must either succeed or raise one of the project's own input
errors (ScenarioError, ProtocolError, LabError) with a one-line message; a traceback of any other kind, a hang or a
multi-line message is a finding. Parsing only: nothing is simulated.

The campaign is deterministic (fixed seeds) and bounded (a few thousand cases, well under a minute). Run as a script
to print the count of cases tried and mishandled per class::

    PYTHONPATH=src python tests/test_fuzz_inputs.py
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pytest

from ckdmbd.labs import LabError, check_labs, parse_csv, parse_fhir
from ckdmbd.protocol import ProtocolError
from ckdmbd.scenario import ScenarioError, builtin_names, parse_quantity, parse_scenario, with_overrides

OWN_ERRORS = (ScenarioError, ProtocolError, LabError)
CASE_LIMIT_S = float(os.environ.get("CKDMBD_FUZZ_LIMIT_S", "5"))
"""Per case; the slowest legitimate case parses in well under 0.1 s (on a loaded machine ~1 s)."""
SEED = 16  # the number


class HangError(Exception):
    """A case ran past :data:`CASE_LIMIT_S`."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`HangError` in the block after ``seconds`` (SIGALRM; the regular-expression engine and Python code
    check for signals, so a backtracking match is interrupted too)."""
    if not hasattr(signal, "setitimer"):  # pragma: no cover - not POSIX: no limit
        yield
        return

    def expire(signum, frame):
        raise HangError(f"more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Tally:
    """Cases tried and mishandled (with the first few examples) for one class of input."""

    tried: int = 0
    mishandled: int = 0
    examples: list[str] = field(default_factory=list)

    def run(self, label: str, case: Callable[[], object]) -> None:
        self.tried += 1
        problem = None
        start = time.perf_counter()
        try:
            with time_limit(CASE_LIMIT_S):
                case()
        except OWN_ERRORS as exc:
            message = str(exc)
            if "\n" in message or not message.strip():
                problem = f"message not one line: {message[:80]!r}"
        except HangError:
            problem = f"hang (> {CASE_LIMIT_S:g} s)"
        except RecursionError:
            problem = "RecursionError"
        except Exception as exc:  # any other exception is what the campaign looks for
            problem = f"{exc.__class__.__name__}: {str(exc)[:80]}"
        if problem is not None:
            self.mishandled += 1
            if len(self.examples) < 5:
                self.examples.append(f"{label}: {problem} ({time.perf_counter() - start:.2f} s)")


# --- values that have broken parsers ---------------------------------------------------------------------------------
def nasty_values(rng: random.Random) -> list[Any]:
    quantity = rng.choice(["12 h", "1 year", "2.4 g/day", "20 ug", "140 mL/min", "1.5 mmol/L", "30 pmol/L"])
    number, _, unit = quantity.partition(" ")
    return [
        10**rng.randint(16, 5000), -(10**30), 0, -1, 1, 2**63, 1e300, -1e300, math.nan, math.inf, -math.inf, 0.0,
        5e-324, True, False, "", " ", "x" * rng.randint(65, 3000), "30 " + "m" * rng.randint(20, 60) + "1",
        "1" * rng.randint(300, 5000) + " h", f"1e{rng.randint(300, 400)} {unit}", f"-{quantity}", f"{number}",
        f"{number} {unit}{unit}", f"{number} kg", f"nan {unit}", f"inf {unit}", f"{number} {unit} {unit}",
        f"{number}{unit}", f"{number} {unit}\x1b[31m", "\x00", "\u202e", "🦴", f"{number}e999 {unit}",
        [quantity], [[[]]], {"a": quantity}, {}, [], [1, 2, 3], quantity, quantity.upper(), f"{number} /{unit}",
        f"{float(number) * 10 ** rng.randint(2, 12):g} {unit}", "MONtag", ["Mon"] * 50, ["Mon", "Mon"],
    ]


# --- a small TOML writer (the standard library only reads TOML) ------------------------------------------------------
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**4000 else "1" + "0" * 4400  # keep within int->str conversion
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)  # \uXXXX escapes are valid TOML basic strings
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def to_toml(doc: dict) -> str:
    """``doc`` as TOML: top-level values, then tables, then arrays of tables (those of a scenario file)."""
    lines = [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict | list)
             or (isinstance(v, list) and not all(isinstance(i, dict) for i in v))]
    for key, value in doc.items():
        if isinstance(value, dict):
            lines += [f"[{json.dumps(key)}]", *(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())]
    for key, value in doc.items():
        if isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
            for item in value:
                lines += [f"[[{json.dumps(key)}]]", *(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in item.items())]
    return "\n".join(lines) + "\n"


def _leaves(value: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _set(doc: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _delete(doc: Any, path: tuple) -> None:
    for key in path[:-1]:
        doc = doc[key]
    del doc[path[-1]]


def mutate_document(doc: dict, rng: random.Random) -> dict:
    """One to three structural mutations of a parsed document (a deep copy)."""
    doc = json.loads(json.dumps(doc, default=str))  # tomllib gives only JSON-like values (dates come as text)
    for _ in range(rng.randint(1, 3)):
        leaves = [p for p in _leaves(doc) if p]
        if not leaves:
            break
        path = rng.choice(leaves)
        action = rng.random()
        if action < 0.7:
            _set(doc, path, rng.choice(nasty_values(rng)))
        elif action < 0.8:
            _delete(doc, path)
        elif action < 0.9:
            _set(doc, (*path[:-1], rng.choice(["extra", "tyme", "type", "time", "until", "count"])),
                 rng.choice(nasty_values(rng)))
        else:
            events = doc.get("events")
            if isinstance(events, list) and events:
                if rng.random() < 0.5:
                    events.insert(rng.randrange(len(events) + 1), dict(rng.choice(events)))
                else:
                    rng.shuffle(events)
    return doc


def mutate_text(text: str, rng: random.Random) -> str:
    """Byte-level damage: flipped, dropped, repeated or inserted characters."""
    chars = list(text)
    for _ in range(rng.randint(1, 8)):
        if not chars:
            break
        i = rng.randrange(len(chars))
        action = rng.random()
        if action < 0.3:
            chars[i] = chr(rng.choice([0, 7, 27, 34, 39, 44, 46, 61, 91, 93, 123, 125, rng.randint(32, 0x2FFF)]))
        elif action < 0.5:
            del chars[i]
        elif action < 0.7:
            chars[i:i] = chars[i:i + rng.randint(1, 40)] * rng.randint(2, 50)
        else:
            chars.insert(i, rng.choice(["[", "]", "{", "}", '"', "'", "\n", "=", ",", "[[", "#", "\\", "9" * 60]))
    return "".join(chars)


# --- the classes of the campaign -------------------------------------------------------------------------------------
def builtin_texts() -> dict[str, str]:
    base = resources.files("ckdmbd.scenarios")
    return {name: base.joinpath(f"{name}.toml").read_text(encoding="utf-8") for name in builtin_names()}


def example_lab_texts() -> dict[str, str]:
    base = resources.files("ckdmbd.examples")
    return {p.name: p.read_text(encoding="utf-8") for p in base.iterdir() if p.name.endswith((".csv", ".json"))}


def warm_up() -> None:
    """Load pint's registry and the FHIR models before any case is timed (seconds on a loaded machine)."""
    parse_quantity("1 h", "h", "warm-up")
    for name, text in example_lab_texts().items():
        _lab_case(text, name)()


def scenario_structure(tally: Tally, per_scenario: int, seed: int = SEED) -> None:
    for name, text in builtin_texts().items():
        rng = random.Random(f"{seed}-structure-{name}")
        doc = tomllib.loads(text)
        for k in range(per_scenario):
            mutated = to_toml(mutate_document(doc, rng))
            tally.run(f"{name} structure #{k}", lambda m=mutated: parse_scenario(m, "fuzz.toml"))


def scenario_text(tally: Tally, per_scenario: int, seed: int = SEED) -> None:
    for name, text in builtin_texts().items():
        rng = random.Random(f"{seed}-text-{name}")
        for k in range(per_scenario):
            mutated = mutate_text(text, rng)
            tally.run(f"{name} text #{k}", lambda m=mutated: parse_scenario(m, "fuzz.toml"))


def scenario_overrides(tally: Tally, per_scenario: int, seed: int = SEED) -> None:
    """``--duration`` and ``--output-interval`` on every built-in scenario."""
    from ckdmbd.scenario import load_scenario

    for name in builtin_names():
        rng = random.Random(f"{seed}-overrides-{name}")
        sc = load_scenario(name)
        for k in range(per_scenario):
            values = [v for v in nasty_values(rng) if isinstance(v, str)]
            values += [f"{rng.uniform(0.01, 120):.3g} {rng.choice(['days', 'weeks', 'years', 'months', 'h'])}"] * 8
            duration = rng.choice([None, *values])
            interval = rng.choice([None, "1 day", "1 week", "1 h", *values])
            tally.run(f"{name} --duration {duration!r:.30} --output-interval {interval!r:.30} #{k}",
                      lambda d=duration, i=interval, s=sc: with_overrides(s, d, i))


def _lab_case(text: str, source: str) -> Callable[[], object]:
    def case():
        parse = parse_fhir if source.endswith(".json") else parse_csv
        return check_labs(parse(text, source))
    return case


def _csv_cells(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        cells = lines[i].split(",")
        j = rng.randrange(len(cells))
        value = rng.choice([*nasty_values(rng), "0001-01-01", "9999-12-31T23:59:59-12:00", "2001-02-30", "1e308",
                            "-1", "mg/dl", "µmol/L", "pre-dialysis", "\x1b[2J", '"a,b"'])
        if not isinstance(value, str):
            value = repr(value) if isinstance(value, float) else json.dumps(value)
        cells[j] = value
        lines[i] = ",".join(cells)
    return "\n".join(lines) + "\n"


def lab_files(tally: Tally, per_file: int, seed: int = SEED) -> None:
    for name, text in example_lab_texts().items():
        rng = random.Random(f"{seed}-labs-{name}")
        for k in range(per_file):
            if name.endswith(".json"):
                if rng.random() < 0.7:
                    mutated = json.dumps(mutate_document(json.loads(text), rng))
                else:
                    mutated = mutate_text(text, rng)
            else:
                mutated = _csv_cells(text, rng) if rng.random() < 0.7 else mutate_text(text, rng)
            tally.run(f"{name} #{k}", _lab_case(mutated, name))


QUANTITY_ALPHABET = "0123456789 .eE+-/*·^()_,hdaymsgLlµuμnpMoOIUkK\t\n\x00ñ🦴"


def quantities(tally: Tally, count: int, seed: int = SEED) -> None:
    """Random strings for the quantity parser (each must parse to a finite number or be refused)."""
    rng = random.Random(f"{seed}-quantities")
    for k in range(count):
        size = rng.choice([1, 3, 8, 20, 40, 63, 64, 65, 200])
        text = "".join(rng.choice(QUANTITY_ALPHABET) for _ in range(size))
        if rng.random() < 0.3:
            text = f"{rng.choice(['1', '30', '2.5', '1e5'])} {'m' * rng.randint(1, 60)}{rng.choice(['', '1', '/'])}"
        unit = rng.choice(["h", "mg/day", "ug", "mL/min", "mmol/L"])

        def case(t=text, u=unit):
            value = parse_quantity(t, u, "x", allow_negative=True)
            assert math.isfinite(value), value
        tally.run(f"quantity {text!r:.40} #{k}", case)


CLASSES: dict[str, tuple[Callable[[Tally, int], None], int]] = {
    # class -> (generator, cases per built-in scenario / per example file / in all)
    "scenario structure": (scenario_structure, 40),
    "scenario text": (scenario_text, 20),
    "--duration/--output-interval": (scenario_overrides, 10),
    "lab files": (lab_files, 120),
    "quantities": (quantities, 1000),
}


def campaign(scale: float = 1.0) -> dict[str, Tally]:
    warm_up()
    tallies = {}
    for name, (generate, count) in CLASSES.items():
        tallies[name] = Tally()
        generate(tallies[name], max(1, int(count * scale)))
    return tallies


@pytest.mark.parametrize("name", list(CLASSES))
def test_fuzz_class_has_no_traceback_and_no_hang(name: str) -> None:
    generate, count = CLASSES[name]
    tally = Tally()
    warm_up()
    start = time.perf_counter()
    generate(tally, count)
    assert tally.tried >= count
    assert tally.mishandled == 0, "\n".join(tally.examples)
    assert time.perf_counter() - start < 60


def test_the_fuzzer_finds_what_it_looks_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # the campaign's own check: a parser that raises the wrong error, hangs or writes two lines is counted
    warm_up()
    parse_quantity("1 kg", "kg", "warm-up")
    monkeypatch.setattr(sys.modules[__name__], "CASE_LIMIT_S", 1.0)
    tally = Tally()
    tally.run("type error", lambda: [] + None)
    tally.run("two lines", lambda: (_ for _ in ()).throw(ScenarioError("a\nb")))
    tally.run("hang", lambda: time.sleep(CASE_LIMIT_S + 1))
    tally.run("fine", lambda: parse_quantity("1 h", "h", "x"))
    tally.run("refused", lambda: parse_quantity("1 kg", "h", "x"))
    assert (tally.tried, tally.mishandled) == (5, 3), tally.examples


try:  # property-based tests of the quantity parser where hypothesis is installed (pip install -e ".[test]")
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - the seeded random strings above cover the parser without it
    given = None

if given is not None:
    UNITS = st.sampled_from(["h", "day", "days", "week", "year", "min", "mg/day", "g / day", "mg per day", "ug", "µg",
                             "mL/min", "L/h", "mmol/L", "pmol/L"])
    NUMBERS = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e9),
                        st.floats(min_value=-1e9, max_value=-1e-6))

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(st.text(max_size=120))
    def test_any_text_is_a_number_or_a_scenario_error(text: str) -> None:
        with time_limit(CASE_LIMIT_S):
            try:
                value = parse_quantity(text, "h", "x", allow_negative=True)
            except ScenarioError as exc:
                assert "\n" not in str(exc)
            else:
                assert math.isfinite(value)

    @settings(max_examples=100, deadline=None, derandomize=True, database=None)
    @given(NUMBERS, UNITS)
    def test_number_and_unit_always_read(number: float, unit: str) -> None:
        text = f"{number!r} {unit}"
        try:
            value = parse_quantity(text, "h", "x", allow_negative=True)
        except ScenarioError as exc:
            # a rate or a mass is no time; |x| beyond 1e12 h is out of range; the text may exceed 64 characters
            assert any(why in str(exc) for why in ("not convertible", "out of range", "too long")), str(exc)
        else:
            assert math.isfinite(value) and (value == 0) == (number == 0)

    @settings(max_examples=50, deadline=None, derandomize=True, database=None)
    @given(st.integers(min_value=1, max_value=200), st.sampled_from(["1", "/", " ", "*", ""]))
    def test_letter_runs_are_linear(letters: int, tail: str) -> None:
        start = time.perf_counter()
        with pytest.raises(ScenarioError):
            parse_quantity("30 " + "m" * letters + tail + "1", "h", "x")
        assert time.perf_counter() - start < 0.5


if given is not None:  # issue 15: structured scenarios, the parser's acceptance against the declared hard limits
    import warnings

    from ckdmbd.parameter_ranges import ParameterRangeWarning, check_parameter_ranges
    from ckdmbd.protocol import BINDERS

    def _quantity(low: float, high: float, unit: str):
        return st.floats(min_value=low, max_value=high, allow_nan=False).map(lambda x: f"{x:.6g} {unit}")

    TIMES = _quantity(0.0, 10.0, "days")
    DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    def _events(wide: bool):
        """Event strategies; ``wide``: bounds beyond what the parser accepts (to test refusals), else within the
        accepted inputs (to test that what is accepted simulates)."""
        def w(low: float, high: float, wide_low: float, wide_high: float) -> tuple[float, float]:
            return (wide_low, wide_high) if wide else (low, high)

        return st.one_of(
            st.fixed_dictionaries({"type": st.just("phosphate_binder"), "time": TIMES,
                                   "dose": _quantity(*w(0, 30, -1, 40), "g/day"),
                                   "adherence": st.floats(*w(0, 1, -.5, 1.5)),
                                   "binder": st.sampled_from([*BINDERS, *(["chalk"] if wide else [])])}),
            st.fixed_dictionaries({"type": st.just("hemodialysis"), "time": TIMES,
                                   "days": st.lists(st.sampled_from([*DAYS, *(["Xyz"] if wide else [])]),
                                                    min_size=0 if wide else 1, max_size=7, unique=not wide),
                                   "session": _quantity(*w(0.5, 8, 0, 14), "h"),
                                   "phosphate_clearance": _quantity(*w(20, 400, 0, 500), "mL/min"),
                                   "dialysate_calcium": _quantity(*w(0.5, 2.5, 0, 3), "mmol/L")}),
            st.fixed_dictionaries({"type": st.just("diet"), "time": TIMES,
                                   "calcium": _quantity(*w(0, 10000, -100, 12000), "mg/day"),
                                   "phosphorus": _quantity(*w(0, 10000, -100, 12000), "mg/day")}),
            st.fixed_dictionaries({"type": st.just("active_vitamin_d"), "time": TIMES,
                                   "drug": st.sampled_from(["calcitriol", "alfacalcidol", "paricalcitol",
                                                            *(["vitamin_x"] if wide else [])]),
                                   "dose": _quantity(*w(0.01, 10, 0, 60), "ug/day")}),
            st.fixed_dictionaries({"type": st.just("cinacalcet"), "time": TIMES,
                                   "dose": _quantity(*w(1, 300, -10, 500), "mg/day")}),
            st.fixed_dictionaries({"type": st.just("etelcalcetide"), "time": TIMES,
                                   "dose": _quantity(*w(0.5, 20, -1, 40), "mg")}),
            st.fixed_dictionaries({"type": st.just("parathyroidectomy"), "time": TIMES,
                                   "fraction_removed": st.floats(*w(0, 1, -0.2, 1.2)),
                                   "autograft": st.floats(*w(0, 2, -0.5, 3.0))}),
            st.fixed_dictionaries({"type": st.just("set_gfr"), "time": TIMES,
                                   "gfr": _quantity(*w(0, 200, -10, 300), "mL/min")}),
        )

    def _patient(wide: bool):
        def q(low: float, high: float, wide_low: float, wide_high: float, unit: str):
            return _quantity(wide_low, wide_high, unit) if wide else _quantity(low, high, unit)

        return st.fixed_dictionaries({}, optional={
            "diet_calcium": q(0, 10000, -100, 12000, "mg/day"), "diet_phosphorus": q(0, 10000, -100, 12000, "mg/day"),
            "gfr": q(0, 200, -10, 300, "mL/min"), "weight": q(20, 300, 0, 400, "kg"),
            "albumin": q(5, 80, 0, 100, "g/L"), "ph": st.floats(6.5, 8.0) if wide else st.floats(6.8, 7.8),
            "fetuin_a": q(0.06, 3, 0, 4, "g/L"), "vitamin_d_25": q(5, 150, -5, 400, "nmol/L")})

    EVENTS, PATIENT = _events(True), _patient(True)

    def _scenario_toml(patient: dict, events: list[dict], days: int) -> str:
        lines = ["[scenario]", 'name = "fuzz"', 'configuration = "default"', f'duration = "{days} days"', "",
                 "[patient]", *(f"{k} = {_toml_value(v)}" for k, v in patient.items())]
        for event in events:
            lines += ["", "[[events]]", *(f"{k} = {_toml_value(v)}" for k, v in event.items())]
        return "\n".join(lines) + "\n"

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(PATIENT, st.lists(EVENTS, max_size=5))
    def test_an_accepted_scenario_never_sets_a_parameter_outside_its_limits(patient: dict, events: list) -> None:
        """Any structured scenario is accepted or refused with one line; what the parser accepts lies within the
        hard limits of parameters/ranges.toml (the range check before a run never has to refuse it)."""
        text = _scenario_toml(patient, events, 30)
        with time_limit(CASE_LIMIT_S):
            try:
                sc = parse_scenario(text)
            except OWN_ERRORS as exc:
                assert "\n" not in str(exc)
                return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ParameterRangeWarning)
            check_parameter_ranges(sc.parameter_overrides)  # raises ParameterRangeError if not

    @pytest.mark.slow
    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(_patient(False), st.lists(_events(False), max_size=4))
    def test_an_accepted_scenario_simulates_without_failure(patient: dict, events: list) -> None:
        """What the parser accepts simulates for two weeks without a solver failure or a negative amount (slow:
        each example compiles nothing but simulates ~0.2-1 s)."""
        from ckdmbd.scenario import run_scenario

        events = sorted(events, key=lambda e: float(e["time"].split()[0]))  # in time order, as the parser asks
        try:
            sc = parse_scenario(_scenario_toml(patient, events, 14))
        except OWN_ERRORS:
            return
        from ckdmbd.parameters import ParameterError

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ParameterRangeWarning)
            try:
                result = run_scenario(sc, check=False)
            except ParameterError as exc:  # refused before the run, in one line ([patient] gfr = 0, which the
                assert "\n" not in str(exc)  # kidney derivation refused here, is now the parser's; issue 15)
                return
        assert result.ok, (result.message, result.failed_at_h, sc.parameter_overrides, events)


if __name__ == "__main__":  # the counts for the closing note of issue 16
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    for name, tally in campaign(scale).items():
        print(f"{name:32s} tried {tally.tried:5d}  mishandled {tally.mishandled:4d}")
        for example in tally.examples:
            print(f"    {example}")
