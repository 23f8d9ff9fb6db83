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

import itertools
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ckdmbd import units
from ckdmbd.protocol import (
    ACTIVE_VITAMIN_D,
    BINDERS,
    MAX_CINACALCET_MG_PER_DAY,
    MAX_ETELCALCETIDE_MG,
    MAX_NUTRITIONAL_IU_PER_DAY,
    NUTRITIONAL_VITAMIN_D,
    ActiveVitaminD,
    Adherence,
    Cinacalcet,
    DepositExcision,
    Diet,
    Etelcalcetide,
    Event,
    GFRDecline,
    GraftExcision,
    Hemodialysis,
    IntravenousVitaminD,
    KidneyTransplant,
    NutritionalVitaminD,
    Parathyroidectomy,
    PhosphateBinder,
    ProtocolError,
    SetGFR,
    SetParathyroidTissue,
    TeriparatideDoses,
    event_start_h,
)

BUILTIN_PACKAGE = "ckdmbd.scenarios"
MAX_FILE_BYTES = 1_000_000


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
    history_h: float = 0.0
    """Length of the simulated history before t = 0 (events at negative times happen in it)."""
    observations: tuple[Observation, ...] = ()
    """Values reported for the patient (a case report, labs), shown beside the model's in the report."""
    calcification_sites: tuple = ()
    """Predisposed soft-tissue sites (``ckdmbd.calcification_sites.CalcificationSite``); none: no deposit grows."""


@dataclass(frozen=True)
class Observation:
    """A reported value: quantity (a time-series column), time, value in the column's unit, and how it was
    reported (text as in the source) with a note."""

    quantity: str
    column: str
    time_h: float
    value: float
    unit: str
    reported: str
    note: str = ""


OBSERVABLE = {
    # quantity -> (column, unit of the column, molar mass g/mol for mass-concentration input, or None)
    "calcium": ("calcium_mmol_L", "mmol/L", units.CALCIUM_G_PER_MOL),
    "ionized_calcium": ("ionized_calcium_mmol_L", "mmol/L", units.CALCIUM_G_PER_MOL),
    "phosphate": ("phosphate_mmol_L", "mmol/L", units.PHOSPHORUS_G_PER_MOL),
    "pth": ("pth_pmol_L", "pmol/L", units.INTACT_PTH_G_PER_MOL),
    "deposit_diameter": ("deposit_diameter_cm", "cm", None),
}


def _observation(raw: Any, where: str) -> Observation:
    _fields(raw, where, {"quantity", "time", "value"}, {"reported", "note"})
    quantity = raw["quantity"]
    if not isinstance(quantity, str) or quantity not in OBSERVABLE:
        raise ScenarioError(f"{where}.quantity: {show(quantity)} is not one of {', '.join(OBSERVABLE)}")
    column, unit, molar_mass = OBSERVABLE[quantity]
    text = raw["value"]
    if molar_mass is None:
        value = parse_quantity(text, unit, f"{where}.value")
    else:  # molar concentration as such, or a mass concentration through the molar mass
        try:
            value = parse_quantity(text, unit, f"{where}.value")
        except ScenarioError:
            target = "pmol/L" if unit == "pmol/L" else "mmol/L"
            mass_unit = "pg/mL" if unit == "pmol/L" else "mg/dL"
            mass = parse_quantity(text, mass_unit, f"{where}.value")
            value = mass / molar_mass * (1000.0 if target == "pmol/L" else 10.0)
    for key in ("reported", "note"):
        if key in raw and not isinstance(raw[key], str):
            raise ScenarioError(f"{where}.{key}: {raw[key]!r} must be a text")
    time = parse_quantity(raw["time"], "h", f"{where}.time")
    reported = clean_text(raw.get("reported", text))  # a text: checked above, or the value that parsed
    return Observation(quantity, column, time, value, unit, reported, clean_text(raw.get("note", "")))


@cache
def _registry():
    """One pint registry per process, loaded from pint's on-disk cache when possible (0.2 s instead of 0.4 s of
    start-up for every command that reads a scenario)."""
    import pint

    try:
        return pint.UnitRegistry(cache_folder=":auto:")
    except (OSError, ImportError):  # read-only home or no platformdirs: build it the slow way
        return pint.UnitRegistry()


# A quantity is exactly one number and one unit ("12 h", "2.4 g/day", "-1 year", "1e3 mg/day"). The strict form
# keeps pint's expression evaluator away from the text: "1,5 h" (read as 15 h), "1 day 2" (48 h), "10**10**10 h"
# (never finishes) or "1/0 h" are rejected instead of misread.
# Linear time (issue 16): every repetition inside the unit starts with a separator (an operator, or blanks), so a
# run of letters can be split only one way; the old optional separator let the engine try every split of
# "mmm...m1" (2^n: 120 s for 40 letters). Over-long text is refused before the expression is tried at all.
_QUANTITY = re.compile(
    r"\s*(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
    r"[ \t]*(?P<unit>[^\W\d]+(?:(?:[ \t]*[/*·][ \t]*|[ \t]+)[^\W\d]+)*)?\s*"
)
_HOURS_PER = {unit: factor for names, factor in (
    (("h", "hour", "hours", "hr"), 1.0), (("min", "minute", "minutes"), 1.0 / 60.0),
    (("d", "day", "days"), units.HOURS_PER_DAY), (("week", "weeks"), units.DAYS_PER_WEEK * units.HOURS_PER_DAY),
    (("month", "months"), units.HOURS_PER_YEAR / 12.0), (("year", "years"), units.HOURS_PER_YEAR)) for unit in names}
"""Hours per unit of the time units scenarios use, from :mod:`ckdmbd.units` (a Julian year of 365.25 days, a month
of a twelfth of it, as pint defines them): ``number * factor`` equals pint's conversion to hours bit for bit
(tests/test_scenario.py checks it against pint for every unit here), so :func:`parse_quantity` reads these without
loading pint."""
MAX_QUANTITY_CHARS = 64  # "2.5 mg per day" is 14; anything this long is not a quantity
MAX_MAGNITUDE = 1e12  # in the target unit (1e12 h is 114 million years): beyond is no input, and overflows later
MAX_DURATION_H = 100 * units.HOURS_PER_YEAR  # a run, a history or a schedule end: longer than any patient


def show(value: Any, limit: int = 40) -> str:
    """``value`` as it appears in a message: its repr cut to ``limit`` characters, safe for any value (the repr of
    a 5,000-digit integer raises ValueError) and without control characters (they would reach the terminal)."""
    try:
        text = repr(value)
    except ValueError:
        text = "<a whole number of more than 4300 digits>"
    text = _CONTROL.sub("?", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def parse_quantity(value: Any, target_unit: str, where: str, *, allow_negative: bool = False) -> float:
    """Parse ``"12 h"``-style text into a float in ``target_unit``; errors name ``where`` and the value."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        example = show(value) if len(show(value)) <= 20 else "1"
        raise ScenarioError(f"{where}: {show(value)} needs a unit, e.g. \"{example} {target_unit}\"")
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: expected a quantity as text such as \"1 {target_unit}\", got {show(value)}")
    if len(value) > MAX_QUANTITY_CHARS:
        raise ScenarioError(f"{where}: {show(value)} is too long for a quantity ({len(value)} characters, at most "
                            f"{MAX_QUANTITY_CHARS}); expected a number and a unit, e.g. \"1 {target_unit}\"")
    match = _QUANTITY.fullmatch(value)
    if match is None:
        raise ScenarioError(f"{where}: cannot read {value!r} as a quantity; expected a number and a unit, "
                            f"e.g. \"1 {target_unit}\"")
    if match["unit"] is None:
        raise ScenarioError(f"{where}: {value!r} has no unit; expected a quantity in {target_unit}")
    factor = _HOURS_PER.get(match["unit"]) if target_unit == "h" else None
    if factor is not None:  # a plain time unit: pint's own factor, without loading pint (~0.2 s of a cold start)
        magnitude = float(match["number"]) * factor
    else:
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
    if abs(magnitude) > MAX_MAGNITUDE:
        raise ScenarioError(f"{where}: {value!r} is out of range (at most {MAX_MAGNITUDE:g} {target_unit})")
    if magnitude < 0 and not allow_negative:
        raise ScenarioError(f"{where}: {value!r} must not be negative")
    return magnitude


MAX_OUTPUT_ROWS = 1_000_000  # rows of timeseries.csv; more is a typo in the duration or the output interval
MAX_DOSES = 100_000  # doses in one teriparatide event (a daily dose for 270 years)
MAX_TERIPARATIDE_UG = 100.0  # per injection: 5x the licensed 20 ug (trials went to 40 ug); beyond is an input error


def _fields(table: Any, where: str, required: set[str], optional: set[str]) -> None:
    """``table`` must be a table with all of ``required`` and nothing outside ``required | optional``.
    ``where`` is the table's dotted path ("" for the top level of the file)."""
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: expected a table ([{where}]), got a {type(table).__name__} ({table!r:.60})")
    path = (lambda key: f"{where}.{key}") if where else str
    missing = sorted(required - table.keys())
    if missing:
        raise ScenarioError(f"{path(missing[0])}: missing; this field is required")
    unknown = sorted(table.keys() - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise ScenarioError(f"{path(unknown[0])}: unknown field (allowed {'in ' + where if where else 'tables'}: "
                            f"{allowed})")


MIN_AUTOGRAFT = 1e-4  # of normal gland mass (~0.015 mg): below it a graft is nothing (forearm grafts: ~0.05-0.15)


def _event(raw: Any, where: str) -> Event:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: expected a table ([[events]]), got a {type(raw).__name__} ({raw!r:.60})")
    if "type" not in raw:
        raise ScenarioError(f"{where}.type: missing; each event needs a type ({', '.join(EVENT_TYPES)})")
    kind = raw["type"]
    def time() -> float:  # read where the event's fields are known; a missing time is a field error, not KeyError
        if "time" not in raw:
            raise ScenarioError(f"{where}.time: missing; this field is required")
        return parse_quantity(raw["time"], "h", f"{where}.time", allow_negative=True)

    if kind == "teriparatide":
        _fields(raw, where, {"type", "time", "dose"}, {"interval", "count"})
        count = raw.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_DOSES:
            raise ScenarioError(f"{where}.count: {count!r} must be a whole number from 1 to {MAX_DOSES}")
        dose = parse_quantity(raw["dose"], "ug", f"{where}.dose")
        if dose <= 0:
            raise ScenarioError(f"{where}.dose: {raw['dose']!r} must be positive")
        if dose > MAX_TERIPARATIDE_UG:
            raise ScenarioError(f"{where}.dose: {raw['dose']!r} is implausible (at most {MAX_TERIPARATIDE_UG:g} ug "
                                f"per injection; the licensed dose is 20 ug)")
        interval = parse_quantity(raw.get("interval", "24 h"), "h", f"{where}.interval")
        if interval <= 0:
            raise ScenarioError(f"{where}.interval: {raw.get('interval')!r} must be positive")
        return TeriparatideDoses(time(), dose, interval, count)
    if kind == "set_gfr":
        _fields(raw, where, {"type", "time", "gfr"}, set())
        return SetGFR(time(), _gfr(raw["gfr"], f"{where}.gfr"))
    if kind == "gfr_decline":
        _fields(raw, where, {"type", "time", "from", "to", "over"}, set())
        start = _gfr(raw["from"], f"{where}.from")
        end = parse_quantity(raw["to"], "mL/min", f"{where}.to")
        over = parse_quantity(raw["over"], "h", f"{where}.over")
        if start <= 0:
            raise ScenarioError(f"{where}.from: {raw['from']!r} must be positive")
        if end <= 0 or end > start:
            raise ScenarioError(f"{where}.to: {raw['to']!r} must be positive and at most from ({raw['from']!r})")
        if over <= 0:
            raise ScenarioError(f"{where}.over: {raw['over']!r} must be positive")
        return GFRDecline(time(), start, end, over)
    if kind == "parathyroidectomy":
        _fields(raw, where, {"type", "time"}, {"fraction_removed", "autograft"})
        frac = raw.get("fraction_removed", 1.0)
        if isinstance(frac, bool) or not isinstance(frac, int | float) or not 0 < frac <= 1:
            raise ScenarioError(f"{where}.fraction_removed: {frac!r} must be a number in (0, 1]")
        graft = raw.get("autograft", 0.0)
        if (isinstance(graft, bool) or not isinstance(graft, int | float) or not 0 <= graft <= 2
                or 0 < graft < MIN_AUTOGRAFT):  # a vanishing graft is its own reference mass: 1/5e-324 overflows
            raise ScenarioError(f"{where}.autograft: {graft!r} must be 0 (no graft) or a number in "
                                f"[{MIN_AUTOGRAFT:g}, 2] (tissue mass relative to normal glands)")
        return Parathyroidectomy(time(), float(frac), float(graft))
    if kind == "graft_excision":
        _fields(raw, where, {"type", "time"}, set())
        return GraftExcision(time())
    if kind == "parathyroid_tissue":
        _fields(raw, where, {"type", "time", "mass"}, set())
        mass = raw["mass"]
        if isinstance(mass, bool) or not isinstance(mass, int | float) or not 0 < mass <= 100:
            raise ScenarioError(f"{where}.mass: {mass!r} must be a number in (0, 100] (x normal gland mass)")
        return SetParathyroidTissue(time(), float(mass))
    if kind == "hemodialysis":
        return _hemodialysis(raw, where, time())
    if kind == "phosphate_binder":
        _fields(raw, where, {"type", "time", "dose"}, {"adherence", "binder"})
        adherence = _fraction(raw, "adherence", where)
        binder = raw.get("binder", "pbe")
        if not isinstance(binder, str) or binder not in BINDERS:
            raise ScenarioError(f"{where}.binder: unknown binder {show(binder)} (expected {', '.join(BINDERS)})")
        dose = parse_quantity(raw["dose"], "g/day", f"{where}.dose")
        if dose > 30:
            raise ScenarioError(f"{where}.dose: {raw['dose']!r} is implausible (at most 30 g/day)")
        return PhosphateBinder(time(), dose, adherence, binder)
    if kind == "adherence":
        _fields(raw, where, {"type", "time", "binders"}, set())
        return Adherence(time(), _fraction(raw, "binders", where))
    if kind == "active_vitamin_d":
        return _active_vitamin_d(raw, where, time())
    if kind == "nutritional_vitamin_d":
        return _nutritional_vitamin_d(raw, where, time())
    if kind == "cinacalcet":
        _fields(raw, where, {"type", "time", "dose"}, {"clock"})
        dose = parse_quantity(raw["dose"], "mg/day", f"{where}.dose")
        if dose > MAX_CINACALCET_MG_PER_DAY:
            raise ScenarioError(f"{where}.dose: {raw['dose']!r} is implausible "
                                f"(at most {MAX_CINACALCET_MG_PER_DAY:g} mg/day)")
        return Cinacalcet(time(), dose, clock_h=_clock(raw, where))
    if kind == "etelcalcetide":
        _fields(raw, where, {"type", "time", "dose"}, set())
        dose = _per_session(raw, where, "mg", "5 mg")
        if dose > MAX_ETELCALCETIDE_MG:
            raise ScenarioError(f"{where}.dose: {raw['dose']!r} is implausible "
                                f"(at most {MAX_ETELCALCETIDE_MG:g} mg per session)")
        return Etelcalcetide(time(), dose)
    if kind == "deposit_excision":
        _fields(raw, where, {"type", "time"}, {"fraction_removed"})
        frac = raw.get("fraction_removed", 0.5)
        if isinstance(frac, bool) or not isinstance(frac, int | float) or not 0 < frac <= 1:
            raise ScenarioError(f"{where}.fraction_removed: {frac!r} must be a number in (0, 1]")
        return DepositExcision(time(), float(frac))
    if kind == "diet":
        _fields(raw, where, {"type", "time"}, {"calcium", "phosphorus"})
        if "calcium" not in raw and "phosphorus" not in raw:
            raise ScenarioError(f"{where}: a diet event needs calcium and/or phosphorus")
        amounts = {}
        for key in ("calcium", "phosphorus"):
            if key in raw:
                amounts[key] = _diet(raw[key], f"{where}.{key}")
        return Diet(time(), amounts.get("calcium"), amounts.get("phosphorus"))
    if kind == "kidney_transplant":
        _fields(raw, where, {"type", "time", "graft_gfr"}, {"delayed_function"})
        graft = parse_quantity(raw["graft_gfr"], "mL/min", f"{where}.graft_gfr")
        if not 0 < graft <= 150:
            raise ScenarioError(f"{where}.graft_gfr: {raw['graft_gfr']!r} must be above 0 and at most 150 mL/min")
        delay = 0.0
        if "delayed_function" in raw:
            delay = parse_quantity(raw["delayed_function"], "h", f"{where}.delayed_function")
            if delay > 90 * units.HOURS_PER_DAY:
                raise ScenarioError(f"{where}.delayed_function: {raw['delayed_function']!r} must be at most 90 days")
        return KidneyTransplant(time(), graft, delay)
    raise ScenarioError(f"{where}.type: unknown event type {kind!r} (expected {', '.join(EVENT_TYPES)})")


MAX_GFR_ML_MIN = 200.0
"""assumed: a GFR above 200 mL/min is no patient's (hyperfiltration in pregnancy or early diabetes reaches ~150-180
mL/min; the healthy model patient has 100): beyond is a typo or a unit error."""
MAX_DIET_MG_PER_DAY = 10_000.0
"""assumed: 10 g/day of calcium or phosphorus is 4x the adult tolerable upper intake levels (calcium 2.5 g/day,
IOM 2011; phosphorus 4 g/day, IOM 1997) and several times any habitual diet; beyond is an input error (and
"1e300 mg/day" overflowed the integrator)."""


def _gfr(value: Any, where: str) -> float:
    """A GFR in mL/min, at most :data:`MAX_GFR_ML_MIN`."""
    gfr = parse_quantity(value, "mL/min", where)
    if gfr > MAX_GFR_ML_MIN:
        raise ScenarioError(f"{where}: {show(value)} is implausible (at most {MAX_GFR_ML_MIN:g} mL/min)")
    return gfr


def _diet(value: Any, where: str) -> float:
    """A dietary intake in mg/day, at most :data:`MAX_DIET_MG_PER_DAY`."""
    amount = parse_quantity(value, "mg/day", where)
    if amount > MAX_DIET_MG_PER_DAY:
        raise ScenarioError(f"{where}: {show(value)} is implausible (at most 10 g/day)")
    return amount


EVENT_TYPES = ("teriparatide", "set_gfr", "gfr_decline", "parathyroidectomy", "parathyroid_tissue", "graft_excision",
               "hemodialysis",
               "phosphate_binder", "adherence", "active_vitamin_d", "cinacalcet", "deposit_excision", "diet",
               "nutritional_vitamin_d", "etelcalcetide", "kidney_transplant")


def _fraction(raw: dict, key: str, where: str) -> float:
    value = raw.get(key, 1.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ScenarioError(f"{where}.{key}: {value!r} must be a number in [0, 1]")
    return float(value)
_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_WEEKDAY_NAMES = {**_WEEKDAYS, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
                  "saturday": 5, "sunday": 6}  # a three-letter abbreviation or the full English name, nothing else


def _hemodialysis(raw: dict, where: str, start: float) -> Hemodialysis:
    _fields(raw, where, {"type", "time"},
            {"until", "days", "session", "start_clock", "phosphate_clearance", "dialysate_calcium", "ultrafiltration"})
    until = parse_quantity(raw["until"], "h", f"{where}.until", allow_negative=True) if "until" in raw else math.inf
    if math.isfinite(until) and abs(until) > MAX_DURATION_H:
        raise ScenarioError(f"{where}.until: {show(raw['until'])} is beyond any run (at most 100 years)")
    days = raw.get("days", ["Mon", "Wed", "Fri"])
    if not isinstance(days, list) or not days or not all(isinstance(d, str) and d.strip().lower() in _WEEKDAY_NAMES
                                                        for d in days):
        raise ScenarioError(f"{where}.days: {days!r} must be a list of weekdays such as [\"Mon\", \"Wed\", \"Fri\"]")
    session = parse_quantity(raw.get("session", "4 h"), "h", f"{where}.session")
    if not 0.5 <= session <= 12:
        raise ScenarioError(f"{where}.session: {raw.get('session')!r} must be between 30 min and 12 h")
    clock = parse_quantity(raw.get("start_clock", "8 h"), "h", f"{where}.start_clock")
    if clock + session > 24:
        raise ScenarioError(f"{where}.start_clock: {raw.get('start_clock')!r} plus the session must end by midnight")
    clearance = None
    if "phosphate_clearance" in raw:
        clearance = parse_quantity(raw["phosphate_clearance"], "mL/min", f"{where}.phosphate_clearance")
        if not 20 <= clearance <= 400:
            raise ScenarioError(f"{where}.phosphate_clearance: {raw['phosphate_clearance']!r} must be 20-400 mL/min")
    bath = None
    if "dialysate_calcium" in raw:
        bath = parse_quantity(raw["dialysate_calcium"], "mmol/L", f"{where}.dialysate_calcium")
        if not 0.5 <= bath <= 2.5:
            raise ScenarioError(f"{where}.dialysate_calcium: {raw['dialysate_calcium']!r} must be 0.5-2.5 mmol/L")
    weekdays = tuple(sorted({_WEEKDAY_NAMES[d.strip().lower()] for d in days}))
    uf = _ultrafiltration(raw.get("ultrafiltration", "auto"), f"{where}.ultrafiltration")
    return Hemodialysis(start, until, weekdays, session, clock, clearance, bath, uf)


def _ultrafiltration(value: Any, where: str) -> str | float:
    """"auto", "none", or a volume per session ("2.5 L"; "2.5 kg" of weight means the same litres of water)."""
    if value in ("auto", "none"):
        return value
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: {value!r} must be \"auto\", \"none\" or a volume per session such as "
                            f"\"2.5 L\"")
    try:
        litres = parse_quantity(value, "L", where)
    except ScenarioError:
        litres = parse_quantity(value, "kg", where)  # weight removed: 1 kg of ultrafiltrate is 1 L of water
    if litres > 10:
        raise ScenarioError(f"{where}: {value!r} is implausible (at most 10 L per session)")
    return litres


def _event_last_h(ev: Event) -> float:
    """When the last action of ``ev`` that must fall inside the run happens (a GFR decline may outlast the run:
    the end of the decline is then simply not reached)."""
    if isinstance(ev, TeriparatideDoses):
        return ev.start_h + (ev.count - 1) * ev.interval_h
    if isinstance(ev, GFRDecline | KidneyTransplant):
        return event_start_h(ev)  # a decline or a graft's recovery may outlast the run
    if isinstance(ev, Hemodialysis):
        return ev.start_h  # sessions are generated inside the schedule and the run
    if isinstance(ev, Parathyroidectomy | GraftExcision | SetParathyroidTissue):
        return ev.time_h  # their actions depend on the model's structure, and all happen at once
    if isinstance(ev, PRESCRIPTIONS):
        return ev.time_h  # repeated doses are generated inside the run (closed by _close_prescriptions)
    return max((a.time_h for a in ev.actions()), default=event_start_h(ev))


def _hours(h: float) -> str:
    return f"{h:.6g} h" if h < 48 else f"{h / units.HOURS_PER_DAY:.6g} days"


def _check_output_rows(duration_h: float, interval_h: float, where: str, value: Any, events: Any = ()) -> None:
    """At most :data:`MAX_OUTPUT_ROWS` rows, counting the 15-minute samples of every dialysis session (issue 16:
    60 years of daily 12-h sessions wrote 1.2 million rows past the limit)."""
    rows = duration_h / interval_h + 1
    if rows > MAX_OUTPUT_ROWS:
        raise ScenarioError(f"{where}: {show(value)} gives {rows:.3g} output rows over {_hours(duration_h)} "
                            f"(at most {MAX_OUTPUT_ROWS}); choose a longer output interval")
    from ckdmbd.sessions import REBOUND_SAMPLES_H, SESSION_RESOLUTION_H

    for ev in events:
        if isinstance(ev, Hemodialysis):
            days = max(0.0, min(ev.end_h, duration_h) - max(ev.start_h, 0.0)) / units.HOURS_PER_DAY
            per_session = ev.session_h / SESSION_RESOLUTION_H + 1 + len(REBOUND_SAMPLES_H)
            rows += days * len(ev.weekdays) / 7 * per_session
    if rows > MAX_OUTPUT_ROWS:
        raise ScenarioError(f"{where}: {show(value)} gives about {rows:.3g} output rows over {_hours(duration_h)} "
                            f"with the dialysis sessions' {SESSION_RESOLUTION_H * 60:g}-minute samples (at most "
                            f"{MAX_OUTPUT_ROWS}); choose a shorter duration")


_PATIENT_FIELDS = {
    # field -> (parameter, unit in the file, conversion to model units)
    "gfr": ("GFR_0", "mL/min", units.ml_min_to_l_h),
    "diet_calcium": ("OralCa", "mg/day", lambda mg_day: mg_day / units.CALCIUM_G_PER_MOL / units.HOURS_PER_DAY),
    "diet_phosphorus": ("OralPhos", "mg/day",
                        lambda mg_day: mg_day / units.PHOSPHORUS_G_PER_MOL / units.HOURS_PER_DAY),
    "vitamin_d_25": ("vitamin_d_25_untreated_nmol_L", "nmol/L", float),  # untreated 25(OH)D (default configuration)
    "fetuin_a": ("fetuin_a_g_L", "g/L", float),  # serum fetuin-A, the calcification inhibitor
}
_PATIENT_LIMITS = {"fetuin_a_g_L": (0.05, 3.0)}  # (exclusive low, high) in model units: outside is not physical
_PATIENT_BODY_FIELDS = {
    # field -> (parameter, unit in the file, plausible range in that unit, conversion to model units)
    "albumin": ("patient_albumin_g_L", "g/L", (5.0, 80.0), float),
    "weight": ("body_weight_kg", "kg", (20.0, 300.0), float),
    "height": ("body_height_cm", "cm", (100.0, 250.0), float),
    "age": ("body_age_years", "year", (18.0, 110.0), float),  # Watson 1980: adults
    # the mean gain per interval of a thrice-weekly schedule (56 h on average) as a constant net intake rate
    "interdialytic_weight_gain": ("net_fluid_intake_L_per_h", "kg", (0.0, 10.0), lambda kg: kg / 56.0),
    "net_fluid_intake": ("net_fluid_intake_L_per_h", "L/day", (0.0, 10.0), lambda l_day: l_day / units.HOURS_PER_DAY),
}
PH_RANGE = (6.8, 7.8)  # compatible with life; the log-linear ionised-calcium adjustment is meant for 7.2-7.6


def _patient_body(patient: dict) -> dict[str, float]:
    """Albumin, pH, body size (Watson total body water) and fluid intake of the patient; each checked against a
    plausible range, errors naming the field and the value."""
    out: dict[str, float] = {}
    if "interdialytic_weight_gain" in patient and "net_fluid_intake" in patient:
        raise ScenarioError("patient.net_fluid_intake: give either interdialytic_weight_gain or net_fluid_intake, "
                            "not both")
    for key, (param, unit, (low, high), convert) in _PATIENT_BODY_FIELDS.items():
        if key not in patient:
            continue
        value = parse_quantity(patient[key], unit, f"patient.{key}")
        if not low <= value <= high:
            raise ScenarioError(f"patient.{key}: {patient[key]!r} is outside the plausible {low:g}-{high:g} {unit}")
        out[param] = convert(value)
    if "ph" in patient:
        ph = patient["ph"]
        if isinstance(ph, bool) or not isinstance(ph, int | float) or not PH_RANGE[0] <= ph <= PH_RANGE[1]:
            raise ScenarioError(f"patient.ph: {ph!r} must be a number from {PH_RANGE[0]} to {PH_RANGE[1]} "
                                f"(plasma pH, e.g. 7.40)")
        out["blood_ph"] = float(ph)
    if "sex" in patient:
        sex = patient["sex"]
        if sex not in ("male", "female"):
            raise ScenarioError(f"patient.sex: {sex!r} must be \"male\" or \"female\" (selects the Watson "
                                f"total-body-water equation)")
        out["body_sex_male"] = 1.0 if sex == "male" else 0.0
    return out


MAX_NESTING = 16  # tables and arrays inside each other; a scenario needs 3 ([[events]] with a days array)
MAX_WHOLE_NUMBER = 10**15  # larger integers are no count, mass or fraction; their repr fails beyond 4300 digits


def _check_document(value: Any, where: str, depth: int = 0) -> None:
    """Refuse what no field accepts before any field is read: nesting deeper than :data:`MAX_NESTING` and whole
    numbers beyond :data:`MAX_WHOLE_NUMBER` (messages then never show an unprintable value)."""
    if depth > MAX_NESTING:
        raise ScenarioError(f"{where}: tables or arrays nested more than {MAX_NESTING} deep")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_document(item, f"{where}.{key}" if where else str(key), depth + 1)
    elif isinstance(value, list):
        for k, item in enumerate(value):
            _check_document(item, f"{where}[{k}]", depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WHOLE_NUMBER:
        raise ScenarioError(f"{where}: a whole number of about {int(value.bit_length() * 0.30103) + 1} digits is out "
                            f"of range")


def clean_text(text: str) -> str:
    """``text`` without control characters other than newline and tab: escape sequences in a description or a note
    must not reach the terminal (issue 16)."""
    return _TEXT_CONTROL.sub("", text)


_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NAME_FORBIDDEN = re.compile(r"[/\\\x00-\x1f\x7f]")


def parse_scenario(text: str, source: str = "<memory>") -> Scenario:
    """Validate and convert a scenario document; every error names the field."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not a valid TOML file ({exc})") from None
    except RecursionError:
        raise ScenarioError(f"{source}: not a scenario file: arrays or tables nested too deeply") from None
    except ValueError:  # an integer of more than 4300 digits (Python's limit on int(text))
        long = re.search(r"\d{4000,}", text)
        line = f"line {text.count(chr(10), 0, long.start()) + 1}: " if long else ""
        raise ScenarioError(f"{source}: {line}a number with too many digits") from None
    _check_document(doc, "")
    from ckdmbd.compose import parameter_overrides, resolve

    doc = resolve(doc, source)  # extends, named events (issue 12)
    _fields(doc, "", {"scenario"}, {"patient", "events", "observations", "calcification_sites", "parameters"})
    head = doc["scenario"]
    _fields(head, "scenario", {"name", "duration"}, {"description", "configuration", "output_interval", "history"})
    name = head["name"]
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(f"scenario.name: {name!r} must be a non-empty text")
    if _NAME_FORBIDDEN.search(name) or name.strip().startswith("."):
        raise ScenarioError(f"scenario.name: {name!r} must not start with '.' or contain '/', '\\' or control "
                            f"characters (it names the default output folder)")
    description = head.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(f"scenario.description: {show(description)} must be a text")
    description = clean_text(description)
    configuration = head.get("configuration", "default")
    if configuration not in ("default", "corrected", "reference"):
        raise ScenarioError(f"scenario.configuration: {configuration!r} must be 'default', 'corrected' or 'reference'")
    history = parse_quantity(head["history"], "h", "scenario.history") if "history" in head else 0.0
    if history > 50 * units.HOURS_PER_YEAR:
        raise ScenarioError(f"scenario.history: {head['history']!r} is longer than 50 years")
    duration = parse_quantity(head["duration"], "h", "scenario.duration")
    if duration <= 0:
        raise ScenarioError(f"scenario.duration: {head['duration']!r} must be positive")
    interval_text = head.get("output_interval", "1 day")
    interval = parse_quantity(interval_text, "h", "scenario.output_interval")
    if interval <= 0 or interval > duration:
        raise ScenarioError(
            f"scenario.output_interval: {interval_text!r} must be positive and at most the duration "
            f"({head['duration']!r})")
    _check_output_rows(duration, interval, "scenario.output_interval", interval_text)
    if duration > MAX_DURATION_H:
        raise ScenarioError(f"scenario.duration: {show(head['duration'])} is longer than 100 years")
    overrides: dict[str, float] = {}
    patient = doc.get("patient", {})
    _fields(patient, "patient", set(), set(_PATIENT_FIELDS) | set(_PATIENT_BODY_FIELDS) | {"ph", "sex"})
    for key, value in patient.items():
        if key in _PATIENT_FIELDS:
            param, unit, convert = _PATIENT_FIELDS[key]
            overrides[param] = convert(parse_quantity(value, unit, f"patient.{key}"))
            low, high = _PATIENT_LIMITS.get(param, (-math.inf, math.inf))
            if key == "gfr" and _gfr(value, "patient.gfr") <= 0.0:  # the kidney derives its constants from it
                raise ScenarioError(f"patient.gfr: {show(value)} must be positive (the patient's GFR before any "
                                    f"event; kidney failure is a set_gfr event, e.g. to 0 mL/min)")
            if key in ("diet_calcium", "diet_phosphorus"):
                _diet(value, f"patient.{key}")
            if not low < overrides[param] <= high:
                raise ScenarioError(f"patient.{key}: {value!r} is not physical (expected more than {low:g} and at "
                                    f"most {high:g} {unit})")
    overrides.update(_patient_body(patient))
    raw_events = doc.get("events", [])
    if not isinstance(raw_events, list):
        raise ScenarioError("events: expected an array of tables ([[events]]), "
                            f"got a {type(raw_events).__name__}")
    events = []
    previous = -math.inf
    for k, raw in enumerate(raw_events):
        where = f"events[{k}]"
        ev = _event(raw, where)
        start = event_start_h(ev)
        if start < previous:
            raise ScenarioError(f"{where}.time: {raw['time']!r} is earlier than the event before it "
                                f"(events must be in time order)")
        if start >= duration:
            raise ScenarioError(f"{where}.time: {raw['time']!r} is at or after the end of the run "
                                f"({head['duration']!r})")
        if start < -history:
            raise ScenarioError(f"{where}.time: {raw['time']!r} is before the start of the simulated history "
                                f"(scenario.history = {head.get('history', '0 h')!r})")
        try:
            last = _event_last_h(ev)
        except ProtocolError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        if last >= duration:
            raise ScenarioError(f"{where}: the event runs until {_hours(last)}, at or after the end of the run "
                                f"({head['duration']!r})")
        previous = start
        events.append(ev)
    if any(isinstance(e, Hemodialysis) for e in events) and configuration != "default":
        raise ScenarioError("scenario.configuration: haemodialysis needs the 'default' configuration")
    needs_default = (GraftExcision, PhosphateBinder, Adherence, DepositExcision, Diet, SetParathyroidTissue,
                     KidneyTransplant, *PRESCRIPTIONS)
    if any((isinstance(e, Parathyroidectomy) and e.autograft_mass > 0) or isinstance(e, needs_default)
           for e in events) and configuration != "default":
        raise ScenarioError("scenario.configuration: autografts, binders, drugs, diet events and deposits need the "
                            "'default' configuration")
    from ckdmbd.calcification_sites import parse_sites

    sites, site_overrides, onsets = parse_sites(doc.get("calcification_sites", []), history, duration)
    if (sites or "fetuin_a_g_L" in overrides) and configuration != "default":
        raise ScenarioError("scenario.configuration: calcification sites and fetuin-A need the 'default' "
                            "configuration")
    overrides.update(site_overrides)
    for onset in onsets:  # in time order among the events (after those at the same time)
        at = next((k for k, e in enumerate(events) if event_start_h(e) > onset.time_h), len(events))
        events.insert(at, onset)
    hd = [e for e in events if isinstance(e, Hemodialysis)]
    transplants = [e.dialysis_end_h for e in events if isinstance(e, KidneyTransplant)]
    for before, after in itertools.pairwise(hd):
        if math.isfinite(before.end_h) and before.end_h > after.start_h:
            raise ScenarioError(f"events: a hemodialysis schedule runs until {_hours(before.end_h)}, after the next "
                                f"schedule starts (at {_hours(after.start_h)}); schedules must not overlap (give "
                                f"the first an earlier 'until', or leave it out: a schedule ends when the next starts)")
    events = [e if not isinstance(e, Hemodialysis) else _close_schedule(e, hd, duration, transplants)
              for e in events]
    events = _close_prescriptions(events, [e for e in events if isinstance(e, Hemodialysis)], duration)
    _check_output_rows(duration, interval, "scenario.duration", head["duration"], events)
    if "vitamin_d_25_untreated_nmol_L" in overrides and not 5 <= overrides["vitamin_d_25_untreated_nmol_L"] <= 150:
        raise ScenarioError(f"patient.vitamin_d_25: {patient['vitamin_d_25']!r} must be 5-150 nmol/L")
    overrides.update(parameter_overrides(doc, configuration))  # [parameters] by readable name, last (issue 12)
    raw_obs = doc.get("observations", [])
    if not isinstance(raw_obs, list):
        raise ScenarioError("observations: expected an array of tables ([[observations]])")
    observations = tuple(_observation(raw, f"observations[{k}]") for k, raw in enumerate(raw_obs))
    late = [o for o in observations if o.time_h > duration]
    if late:
        raise ScenarioError(f"observations: a {late[0].quantity} value lies after the end of the run")
    return Scenario(name.strip(), description, configuration, duration, interval, overrides, tuple(events), source,
                    history, observations, sites)


def _close_schedule(ev: Hemodialysis, schedules: list[Hemodialysis], duration: float,
                    transplant_ends: list[float] = ()) -> Hemodialysis:
    """An open-ended schedule runs until the next schedule starts, else until the end of the run; every schedule
    ends when a kidney transplant has taken over (after any delayed graft function)."""
    end = ev.end_h
    if not math.isfinite(end):
        later = [s.start_h for s in schedules if s.start_h > ev.start_h]
        end = min(later) if later else duration
    ends = [t for t in transplant_ends if t > ev.start_h]
    if ends:
        end = min(end, min(ends))
    return ev if end == ev.end_h else replace(ev, end_h=end)


def with_overrides(sc: Scenario, duration: str | None = None, output_interval: str | None = None) -> Scenario:
    """``sc`` with the duration and/or output interval given on the command line (``--duration``,
    ``--output-interval``), checked as strictly as the file's own values: errors name the option."""
    duration_h, interval_h = sc.duration_h, sc.output_interval_h
    if duration is not None:
        duration_h = parse_quantity(duration, "h", "--duration", allow_negative=True)
        if duration_h <= 0:
            raise ScenarioError(f"--duration: {duration!r} must be positive")
    if output_interval is not None:
        interval_h = parse_quantity(output_interval, "h", "--output-interval", allow_negative=True)
        if interval_h <= 0:
            raise ScenarioError(f"--output-interval: {output_interval!r} must be positive")
        if interval_h > duration_h:
            raise ScenarioError(f"--output-interval: {output_interval!r} is longer than the duration "
                                f"({_hours(duration_h)})")
        _check_output_rows(duration_h, interval_h, "--output-interval", output_interval)
    elif duration is not None:
        if interval_h > duration_h:
            raise ScenarioError(f"--duration: {duration!r} is shorter than the scenario's output interval "
                                f"({_hours(interval_h)}); give a shorter --output-interval as well")
        _check_output_rows(duration_h, interval_h, "--duration", duration)
    if duration_h > MAX_DURATION_H:
        raise ScenarioError(f"--duration: {show(duration)} is longer than 100 years")
    if duration is not None:
        sc = with_duration(sc, duration_h)
        for k, ev in enumerate(sc.events):
            start, last = event_start_h(ev), _event_last_h(ev)
            if start >= duration_h:
                raise ScenarioError(f"--duration: {duration!r} ends the run before events[{k}] starts "
                                    f"(at {_hours(start)})")
            if last >= duration_h:
                raise ScenarioError(f"--duration: {duration!r} ends the run before events[{k}] is over "
                                    f"(it runs until {_hours(last)})")
    if duration is not None or output_interval is not None:  # with the sessions' samples, in the new run
        option, value = ("--duration", duration) if duration is not None else ("--output-interval", output_interval)
        _check_output_rows(duration_h, interval_h, option, value, sc.events)
    return replace(sc, duration_h=duration_h, output_interval_h=interval_h)


def with_duration(sc: Scenario, duration_h: float) -> Scenario:
    """``sc`` run for ``duration_h``, with every open-ended schedule and prescription (closed at parse time to the
    old end of the run: an explicit ``until`` at or after the end is refused) ending at the new end instead.

    Why: a dialysis schedule without ``until`` means "for the whole run"; closing it at the file's duration and then
    running longer silently stopped dialysis (issue 16: 50 years of ``hemodialysis-nonadherent`` dialysed for one)."""
    old = sc.duration_h
    if duration_h == old:
        return sc
    reopened: dict[int, Hemodialysis] = {}
    events = list(sc.events)
    for k, ev in enumerate(events):
        if isinstance(ev, Hemodialysis) and ev.end_h == old:
            reopened[id(ev)] = events[k] = replace(ev, end_h=duration_h)
    for k, ev in enumerate(events):
        if isinstance(ev, PRESCRIPTIONS):
            changes: dict[str, Any] = {}
            if ev.until_h == old:
                changes["until_h"] = duration_h
            schedules = getattr(ev, "schedules", None)
            if schedules:
                changes["schedules"] = tuple(reopened.get(id(s), s) for s in schedules)
            if changes:
                events[k] = replace(ev, **changes)
    return replace(sc, duration_h=duration_h, events=tuple(events) if isinstance(sc.events, tuple) else events)


def builtin_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files(BUILTIN_PACKAGE).iterdir() if p.name.endswith(".toml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or a scenario file by path."""
    text_name = str(name_or_path)
    if text_name in builtin_names():
        res = resources.files(BUILTIN_PACKAGE).joinpath(f"{text_name}.toml")
        return parse_scenario(res.read_text(encoding="utf-8"), f"{text_name}.toml")
    path = Path(name_or_path)
    try:
        exists, is_dir, is_file = path.exists(), path.is_dir(), path.is_file()
    except OSError as exc:  # a folder on the way without search permission, a name too long
        raise ScenarioError(f"cannot read scenario file {text_name!r}: {exc.strerror or exc.__class__.__name__}") \
            from None
    if not exists:
        raise ScenarioError(
            f"no built-in scenario or file named {text_name!r} (built-ins: {', '.join(builtin_names())})")
    if is_dir:
        raise ScenarioError(f"cannot read scenario file {text_name!r}: it is a folder")
    if not is_file:
        raise ScenarioError(f"cannot read scenario file {text_name!r}: not a regular file")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"cannot read scenario file {text_name!r}: larger than {MAX_FILE_BYTES} bytes, "
                                f"too large for a scenario file")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"cannot read scenario file {text_name!r}: not UTF-8 text (is it a TOML file?)") from None
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario file {text_name!r}: {exc.strerror or exc.__class__.__name__}") \
            from None
    return parse_scenario(text, str(path))


def run_scenario(sc: Scenario, progress=None, **options):
    """Simulate a scenario: its history before t = 0, then the run, with dialysis sessions resolved every
    15 minutes in the output. ``options`` go to :func:`ckdmbd.simulation.simulate` (solver, check, ...)."""
    from ckdmbd.sessions import session_output_times
    from ckdmbd.simulation import simulate

    if progress is not None:
        options.update(progress=progress, progress_chunk_h=(sc.duration_h + sc.history_h) / 50)
    return simulate(sc.configuration, sc.duration_h, sc.events, output_interval_h=sc.output_interval_h,
                    parameters=sc.parameter_overrides, start_h=-sc.history_h,
                    extra_output_times_h=session_output_times(sc.events, sc.duration_h), **options)


def scenario_text(name_or_path: str | Path) -> str:
    """The TOML text of a built-in scenario or a scenario file (for writing a modified copy)."""
    text_name = str(name_or_path)
    if text_name in builtin_names():
        return resources.files(BUILTIN_PACKAGE).joinpath(f"{text_name}.toml").read_text(encoding="utf-8")
    return Path(name_or_path).read_text(encoding="utf-8")


# --- prescriptions: vitamin D and calcimimetics (issue 9) ------------------------------------------------------------
PRESCRIPTIONS = (ActiveVitaminD, IntravenousVitaminD, NutritionalVitaminD, Cinacalcet, Etelcalcetide)
_FAMILY = {ActiveVitaminD: "active_vitamin_d", IntravenousVitaminD: "active_vitamin_d",
           NutritionalVitaminD: "nutritional_vitamin_d", Cinacalcet: "cinacalcet", Etelcalcetide: "etelcalcetide"}
_IU = re.compile(r"\bIU\b")
_PER = re.compile(r"(?:/|\bper\b)\s*(?P<unit>[^\W\d]+)\s*$")


def _clock(raw: dict, where: str) -> float | None:
    """Optional clock time of daily doses ("20 h" = 8 pm)."""
    if "clock" not in raw:
        return None
    clock = parse_quantity(raw["clock"], "h", f"{where}.clock")
    if clock >= units.HOURS_PER_DAY:
        raise ScenarioError(f"{where}.clock: {raw['clock']!r} must be a time of day in [0 h, 24 h)")
    return clock


def _per_session(raw: dict, where: str, unit: str, example: str) -> float:
    """A dose given at the end of each dialysis session: an amount, not a rate."""
    try:
        return parse_quantity(raw["dose"], unit, f"{where}.dose")
    except ScenarioError as exc:
        if "not convertible" not in str(exc):
            raise
        raise ScenarioError(f"{where}.dose: {raw['dose']!r} must be an amount per dialysis session, "
                            f"e.g. \"{example}\"") from None


def _active_vitamin_d(raw: dict, where: str, start: float) -> ActiveVitaminD | IntravenousVitaminD:
    _fields(raw, where, {"type", "time", "dose"}, {"drug", "route", "clock"})
    drug = raw.get("drug", "calcitriol")
    if not isinstance(drug, str) or drug not in ACTIVE_VITAMIN_D:
        raise ScenarioError(f"{where}.drug: unknown active vitamin D {show(drug)} "
                            f"(expected {', '.join(ACTIVE_VITAMIN_D)})")
    spec = ACTIVE_VITAMIN_D[drug]
    route = raw.get("route", "oral")
    if route not in ("oral", "iv"):
        raise ScenarioError(f"{where}.route: {route!r} must be 'oral' (daily) or 'iv' (after each dialysis session)")
    if route == "iv":
        if spec.iv_state is None:
            raise ScenarioError(f"{where}.route: no intravenous form of {drug} is modelled (i.v.: calcitriol, "
                                f"paricalcitol)")
        if "clock" in raw:
            raise ScenarioError(f"{where}.clock: i.v. doses are given at the end of each dialysis session")
        dose = _per_session(raw, where, "ug", "2 ug")
        if dose > spec.max_iv_ug:
            raise ScenarioError(f"{where}.dose: {raw['dose']!r} is implausible (at most {spec.max_iv_ug:g} ug "
                                f"of {drug} per session)")
        return IntravenousVitaminD(start, dose, drug)
    dose = parse_quantity(raw["dose"], "ug/day", f"{where}.dose")
    if dose > spec.max_oral_ug_per_day:
        raise ScenarioError(f"{where}.dose: {raw['dose']!r} is implausible "
                            f"(at most {spec.max_oral_ug_per_day:g} ug/day of {drug})")
    return ActiveVitaminD(start, dose, drug, clock_h=_clock(raw, where))


def _nutritional_vitamin_d(raw: dict, where: str, start: float) -> NutritionalVitaminD:
    """Dose as a rate in IU (or a mass) per day, week or month: "800 IU/day", "20000 IU/week", "25 ug/day". The
    time unit of the rate is also the dosing interval (pint has no IU: 1 IU of vitamin D = 0.025 ug)."""
    _fields(raw, where, {"type", "time", "dose"}, {"drug", "clock"})
    drug = raw.get("drug", "cholecalciferol")
    if not isinstance(drug, str) or drug not in NUTRITIONAL_VITAMIN_D:
        raise ScenarioError(f"{where}.drug: unknown nutritional vitamin D {show(drug)} "
                            f"(expected {', '.join(NUTRITIONAL_VITAMIN_D)})")
    text = raw["dose"]
    if not isinstance(text, str):
        raise ScenarioError(f"{where}.dose: {text!r} needs a unit, e.g. \"20000 IU/week\"")
    in_iu = _IU.search(text) is not None
    try:
        rate = parse_quantity(_IU.sub("ug", text), "ug/day", f"{where}.dose")
    except ScenarioError:
        raise ScenarioError(f"{where}.dose: {text!r} must be a dose per day, week or month, "
                            f"e.g. \"20000 IU/week\" or \"25 ug/day\"") from None
    iu_per_day = rate if in_iu else rate * 40.0
    per = _PER.search(text)
    if per is None:
        raise ScenarioError(f"{where}.dose: {text!r} must name its dosing interval, e.g. \"20000 IU/week\"")
    interval = parse_quantity(f"1 {per['unit']}", "h", f"{where}.dose")
    if not units.HOURS_PER_DAY <= interval <= 31 * units.HOURS_PER_DAY:
        raise ScenarioError(f"{where}.dose: {text!r} must be given per day, week or month")
    if iu_per_day > MAX_NUTRITIONAL_IU_PER_DAY:
        raise ScenarioError(f"{where}.dose: {text!r} is implausible "
                            f"(at most {MAX_NUTRITIONAL_IU_PER_DAY:g} IU/day on average)")
    return NutritionalVitaminD(start, iu_per_day, drug, interval, clock_h=_clock(raw, where))


def _close_prescriptions(events: list, schedules: list[Hemodialysis], duration: float) -> list:
    """An open prescription runs until the next event of its kind (active vitamin D, nutritional vitamin D,
    cinacalcet, etelcalcetide) or the end of the run; drugs given at dialysis get the scenario's (closed) dialysis
    schedules, whose session ends are their injection times."""
    out = list(events)
    for k, ev in enumerate(out):
        if not isinstance(ev, PRESCRIPTIONS):
            continue
        family = _FAMILY[type(ev)]
        later = [e.time_h for e in out[k + 1:] if isinstance(e, PRESCRIPTIONS) and _FAMILY[type(e)] == family]
        changes: dict[str, Any] = {"until_h": later[0] if later else duration}
        if isinstance(ev, IntravenousVitaminD | Etelcalcetide):
            if not schedules:
                raise ScenarioError(f"events[{k}]: {family} i.v. is given at the end of dialysis sessions; the "
                                    f"scenario has no hemodialysis event")
            changes["schedules"] = tuple(schedules)
        out[k] = replace(ev, **changes)
    return out
