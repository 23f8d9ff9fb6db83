"""The physiological range of every parameter (issue 15), declared in ``parameters/ranges.toml`` and checked before a
run: a value outside its range warns with one line naming the parameter, its value and the range; a value outside
its hard limits (not finite, negative for a non-negative quantity, a fraction outside [0, 1]) is refused with a
:class:`ParameterRangeError`, as the other parameter errors are.

Why: populations, fits and sensitivity analyses move parameters away from their published values. A range says how
far a value may plausibly go for a human patient, with its source, so that a sampled or fitted set that leaves it
is visible, and the robustness test (``tests/test_robustness.py``) can sample patients across ranges rather than by
blind factors.

Ranges are kept in their own file, keyed by symbol, rather than beside each value, so that they can be reviewed as
one table; ``[ranges_peterson_riggs]`` replaces an entry for the reference and corrected configurations where the
default configuration changed Peterson & Riggs' value (T49, T55).
"""

from __future__ import annotations

import math
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ckdmbd.citations import CITATIONS
from ckdmbd.parameters import ParameterError

RANGES_FILE = "ranges.toml"


class ParameterRangeError(ParameterError):
    """A value outside its hard limits (one line: parameter, value, limits)."""


class ParameterRangeWarning(UserWarning):
    """A value outside its physiological range (one line: parameter, value, range, source)."""


@dataclass(frozen=True)
class Range:
    """``low``-``high`` in ``unit`` (the parameter's own unit); ``limits`` the values that are refused outside;
    ``sample``: whether the robustness test samples it (false for switches, treatment inputs set by events and
    references)."""

    name: str
    low: float
    high: float
    unit: str
    source: str
    description: str
    limits: tuple[float, float]
    sample: bool = True

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def allowed(self, value: float) -> bool:
        return math.isfinite(value) and self.limits[0] <= value <= self.limits[1]


def _parse_entry(name: str, entry: object, where: str) -> Range:
    if not isinstance(entry, dict):
        raise ParameterError(f"{where}: expected a table with low, high, unit, source, description")
    missing = [k for k in ("low", "high", "unit", "source", "description") if k not in entry]
    if missing:
        raise ParameterError(f"{where}: missing {', '.join(missing)}")
    low, high = float(entry["low"]), float(entry["high"])
    if not low <= high:
        raise ParameterError(f"{where}: low {low:g} is above high {high:g}")
    source, description = str(entry["source"]), str(entry["description"])
    if source != "assumed" and source not in CITATIONS:
        raise ParameterError(f"{where}: source {source!r} is not a known citation key")
    if source == "assumed" and not description.startswith("assumed:"):
        raise ParameterError(f"{where}: an assumed range must say why ('assumed: ...')")
    default_limits = (0.0, math.inf) if low >= 0.0 else (-math.inf, math.inf)
    limits = tuple(float(x) for x in entry.get("limits", default_limits))
    if len(limits) != 2 or not limits[0] <= low <= high <= limits[1]:
        raise ParameterError(f"{where}: limits {limits} must contain the range [{low:g}, {high:g}]")
    return Range(name, low, high, str(entry["unit"]), source, description, limits, bool(entry.get("sample", True)))


@cache
def _tables() -> tuple[dict[str, Range], dict[str, Range]]:
    text = resources.files("ckdmbd.parameters").joinpath(RANGES_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    tables = []
    for table in ("ranges", "ranges_peterson_riggs"):
        tables.append({name: _parse_entry(name, entry, f"{RANGES_FILE}: {table}.{name}")
                       for name, entry in data.get(table, {}).items()})
    return tables[0], tables[1]


def ranges(configuration: str = "default") -> dict[str, Range]:
    """The declared range of each parameter (symbol -> :class:`Range`) as it applies to ``configuration``."""
    common, peterson_riggs = _tables()
    return common if configuration == "default" else {**common, **peterson_riggs}


def missing_ranges(names: Iterable[str], configuration: str = "default") -> list[str]:
    """The names among ``names`` without a declared range."""
    declared = ranges(configuration)
    return [n for n in names if n not in declared]


def _text(r: Range, value: float, bounds: tuple[float, float], what: str) -> str:
    unit = "" if r.unit == "1" else f" {r.unit}"
    return f"{r.name} = {value:.6g}{unit} is outside its {what} {bounds[0]:.6g} to {bounds[1]:.6g}{unit}"


def check_parameter_ranges(values: Mapping[str, float], configuration: str = "default",
                           names: Iterable[str] | None = None, warn: bool = True) -> list[str]:
    """Refuse (:class:`ParameterRangeError`) the first value outside its hard limits; return, and warn
    (:class:`ParameterRangeWarning`, one line each) unless ``warn`` is false, the values outside their
    physiological range. ``names``: only these (by default every parameter of ``values`` that has a range)."""
    declared = ranges(configuration)
    outside = []
    for name in (values if names is None else names):
        r = declared.get(name)
        if r is None:
            continue
        value = float(values[name])
        if not r.allowed(value):
            raise ParameterRangeError(f"parameters refused: {_text(r, value, r.limits, 'limits')} "
                                      f"({r.description.split(';')[0]})")
        if not r.contains(value):
            line = (f"parameter {_text(r, value, (r.low, r.high), 'physiological range')} (source: {r.source})")
            outside.append(line)
            if warn:
                warnings.warn(line, ParameterRangeWarning, stacklevel=2)
    return outside


def scenario_range_warnings(scenario) -> list[str]:
    """The one-line warnings for a scenario's parameter overrides outside their ranges (the CLI prints them as
    ``ckdmbd: warning:`` lines); a value outside its hard limits raises :class:`ParameterRangeError`."""
    return check_parameter_ranges(scenario.parameter_overrides, scenario.configuration, warn=False)
