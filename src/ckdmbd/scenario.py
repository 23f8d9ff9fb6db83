"""Scenario files: a human-readable TOML description of a patient and a timeline, with a unit on every number.

::

    [scenario]
    name = "teriparatide-20ug"
    description = "..."
    configuration = "default"        # or "reference" (BIOMD0000000613 exactly)
    duration = "1 year"
    output_interval = "1 day"

    [patient]                        # optional, clinical units
    gfr = "100 mL/min"
    diet_calcium = "964 mg/day"
    diet_phosphorus = "325 mg/day"

    [[events]]
    type = "teriparatide"            # teriparatide | set_gfr | gfr_decline | parathyroidectomy
    time = "12 h"
    dose = "20 ug"
    interval = "24 h"
    count = 3

Quantities are parsed with pint (``"18 months"``, ``"2.4 g/day"``); a number without a unit, a unit of the wrong
dimension, a negative dose, an unknown field or an event after the end is a :class:`ScenarioError` whose message
names the field, the value and what was expected.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ckdmbd import units
from ckdmbd.protocol import Event, GFRDecline, Parathyroidectomy, ProtocolError, SetGFR, TeriparatideDoses

BUILTIN_PACKAGE = "ckdmbd.scenarios"


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the field, the value and what was expected."""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    configuration: str
    duration_h: float
    output_interval_h: float
    parameter_overrides: dict[str, float] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    source: str = "<memory>"


@cache
def _registry():
    import pint

    return pint.UnitRegistry()


# A quantity is exactly one number and one unit ("12 h", "2.4 g/day", "-1 year", "1e3 mg/day"). The strict form
# keeps pint's expression evaluator away from the text: "1,5 h" (read as 15 h), "1 day 2" (48 h), "10**10**10 h"
# (never finishes) or "1/0 h" are rejected instead of misread.
_QUANTITY = re.compile(
    r"\s*(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
    r"\s*(?P<unit>[^\W\d]+(?:[ \t]*[/*·]?[ \t]*[^\W\d]+)*)?\s*"
)


def parse_quantity(value: Any, target_unit: str, where: str, *, allow_negative: bool = False) -> float:
    """Parse ``"12 h"``-style text into a float in ``target_unit``; errors name ``where`` and the value."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ScenarioError(f"{where}: {value!r} needs a unit, e.g. \"{value} {target_unit}\"")
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: expected a quantity as text such as \"1 {target_unit}\", got {value!r}")
    match = _QUANTITY.fullmatch(value)
    if match is None:
        raise ScenarioError(f"{where}: cannot read {value!r} as a quantity; expected a number and a unit, "
                            f"e.g. \"1 {target_unit}\"")
    if match["unit"] is None:
        raise ScenarioError(f"{where}: {value!r} has no unit; expected a quantity in {target_unit}")
    ureg = _registry()
    try:
        unit = ureg.parse_units(match["unit"])
    except Exception as exc:  # pint raises many kinds (UndefinedUnitError, AttributeError, ...)
        raise ScenarioError(f"{where}: {value!r} has an unknown unit {match['unit']!r} "
                            f"({exc.__class__.__name__})") from None
    try:
        magnitude = float(ureg.Quantity(float(match["number"]), unit).to(target_unit).magnitude)
    except Exception:  # DimensionalityError, OffsetUnitCalculusError, ...
        raise ScenarioError(f"{where}: {value!r} is not convertible to {target_unit}") from None
    if not math.isfinite(magnitude):
        raise ScenarioError(f"{where}: {value!r} is not a finite number")
    if magnitude < 0 and not allow_negative:
        raise ScenarioError(f"{where}: {value!r} must not be negative")
    return magnitude


def _fields(table: dict, where: str, required: set[str], optional: set[str]) -> None:
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: expected a table, got {table!r}")
    missing = sorted(required - table.keys())
    if missing:
        raise ScenarioError(f"{where}: missing field {missing[0]!r}")
    unknown = sorted(table.keys() - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise ScenarioError(f"{where}: unknown field {unknown[0]!r} (allowed: {allowed})")


def _event(raw: dict, where: str) -> Event:
    if not isinstance(raw, dict) or "type" not in raw:
        raise ScenarioError(f"{where}: each event needs a 'type'")
    kind = raw["type"]
    time = lambda: parse_quantity(raw["time"], "h", f"{where}.time")  # noqa: E731
    if kind == "teriparatide":
        _fields(raw, where, {"type", "time", "dose"}, {"interval", "count"})
        count = raw.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ScenarioError(f"{where}.count: {count!r} must be a whole number >= 1")
        dose = parse_quantity(raw["dose"], "ug", f"{where}.dose")
        if dose <= 0:
            raise ScenarioError(f"{where}.dose: {raw['dose']!r} must be positive")
        interval = parse_quantity(raw.get("interval", "24 h"), "h", f"{where}.interval")
        if interval <= 0:
            raise ScenarioError(f"{where}.interval: {raw.get('interval')!r} must be positive")
        return TeriparatideDoses(time(), dose, interval, count)
    if kind == "set_gfr":
        _fields(raw, where, {"type", "time", "gfr"}, set())
        return SetGFR(time(), parse_quantity(raw["gfr"], "mL/min", f"{where}.gfr"))
    if kind == "gfr_decline":
        _fields(raw, where, {"type", "time", "from", "to", "over"}, set())
        start = parse_quantity(raw["from"], "mL/min", f"{where}.from")
        end = parse_quantity(raw["to"], "mL/min", f"{where}.to")
        over = parse_quantity(raw["over"], "h", f"{where}.over")
        if start <= 0 or end <= 0 or end > start:
            raise ScenarioError(f"{where}: GFR decline needs 0 < to <= from, got from {raw['from']!r} to {raw['to']!r}")
        if over <= 0:
            raise ScenarioError(f"{where}.over: {raw['over']!r} must be positive")
        return GFRDecline(time(), start, end, over)
    if kind == "parathyroidectomy":
        _fields(raw, where, {"type", "time"}, {"fraction_removed"})
        frac = raw.get("fraction_removed", 1.0)
        if isinstance(frac, bool) or not isinstance(frac, int | float) or not 0 < frac <= 1:
            raise ScenarioError(f"{where}.fraction_removed: {frac!r} must be a number in (0, 1]")
        return Parathyroidectomy(time(), float(frac))
    raise ScenarioError(
        f"{where}.type: unknown event type {kind!r} (expected teriparatide, set_gfr, gfr_decline, parathyroidectomy)")


_PATIENT_FIELDS = {
    # field -> (parameter, unit in the file, conversion to model units)
    "gfr": ("GFR_0", "mL/min", units.gfr_l_per_h),
    "diet_calcium": ("OralCa", "mg/day", lambda mg_day: mg_day / units.CALCIUM_G_PER_MOL / units.HOURS_PER_DAY),
    "diet_phosphorus": ("OralPhos", "mg/day",
                        lambda mg_day: mg_day / units.PHOSPHORUS_G_PER_MOL / units.HOURS_PER_DAY),
}


def parse_scenario(text: str, source: str = "<memory>") -> Scenario:
    """Validate and convert a scenario document; every error names the field."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not a valid TOML file ({exc})") from None
    _fields(doc, "scenario file", {"scenario"}, {"patient", "events"})
    head = doc["scenario"]
    _fields(head, "scenario", {"name", "duration"}, {"description", "configuration", "output_interval"})
    name = head["name"]
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(f"scenario.name: {name!r} must be a non-empty text")
    configuration = head.get("configuration", "default")
    if configuration not in ("default", "reference"):
        raise ScenarioError(f"scenario.configuration: {configuration!r} must be 'default' or 'reference'")
    duration = parse_quantity(head["duration"], "h", "scenario.duration")
    if duration <= 0:
        raise ScenarioError(f"scenario.duration: {head['duration']!r} must be positive")
    interval = parse_quantity(head.get("output_interval", "1 day"), "h", "scenario.output_interval")
    if interval <= 0 or interval > duration:
        raise ScenarioError(
            f"scenario.output_interval: {head.get('output_interval')!r} must be positive and at most the duration")
    overrides: dict[str, float] = {}
    patient = doc.get("patient", {})
    _fields(patient, "patient", set(), set(_PATIENT_FIELDS))
    for key, value in patient.items():
        param, unit, convert = _PATIENT_FIELDS[key]
        overrides[param] = convert(parse_quantity(value, unit, f"patient.{key}"))
    raw_events = doc.get("events", [])
    if not isinstance(raw_events, list):
        raise ScenarioError("events: expected an array of tables ([[events]])")
    events = []
    previous = -math.inf
    for k, raw in enumerate(raw_events):
        where = f"events[{k}]"
        ev = _event(raw, where)
        start = getattr(ev, "time_h", getattr(ev, "start_h", 0.0))
        if start < previous:
            raise ScenarioError(f"{where}.time: {raw.get('time')!r} is earlier than the event before it")
        if start >= duration:
            raise ScenarioError(f"{where}.time: {raw.get('time')!r} is at or after the end of the run "
                                f"({head['duration']!r})")
        try:
            late = [a.time_h for a in ev.actions() if a.time_h > duration]
        except ProtocolError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        if late and not isinstance(ev, GFRDecline):
            raise ScenarioError(f"{where}: the event runs past the end of the run ({head['duration']!r})")
        previous = start
        events.append(ev)
    return Scenario(name.strip(), str(head.get("description", "")), configuration, duration, interval, overrides,
                    tuple(events), source)


def builtin_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files(BUILTIN_PACKAGE).iterdir() if p.name.endswith(".toml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or a scenario file by path."""
    text_name = str(name_or_path)
    if text_name in builtin_names():
        res = resources.files(BUILTIN_PACKAGE).joinpath(f"{text_name}.toml")
        return parse_scenario(res.read_text(encoding="utf-8"), f"{text_name}.toml")
    path = Path(name_or_path)
    if not path.exists():
        raise ScenarioError(
            f"no built-in scenario or file named {text_name!r} (built-ins: {', '.join(builtin_names())})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read scenario file {text_name!r}: {exc.__class__.__name__}") from None
    return parse_scenario(text, str(path))
