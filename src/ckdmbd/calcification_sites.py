"""Predisposed calcification sites in a scenario file: ``[[calcification_sites]]``.

A patient grows a soft-tissue deposit only where the scenario declares a predisposed site (see
``ckdmbd.physiology.calcification``); none by default. One site per scenario (the model has one deposit state; a
second site is refused with a one-line error)::

    [[calcification_sites]]
    name = "left gluteal region"          # required
    onset = "0 days"                      # when the nidus appears (default: the start of the simulated history)
    threshold = "3.6 mmol^2/L^2"          # apparent solubility product of the precursor, total Ca x total P
                                          #   (also in mg^2/dL^2: 45 mg^2/dL^2 = 3.6 mmol^2/L^2)
    growth_rate = "0.0583 mmol^(1/3)/h"   # per surface, content^(2/3), at zero fetuin-A
    dissolution_rate = "0.02 mmol^(1/3)/h"
    nidus = "0.1 mg"                      # mineral of the nidus
    mineral_fraction = 0.021              # volume fraction of mineral in the mass (sets its diameter)
    milieu_time = "72 h"                  # how fast the site's tissue fluid follows plasma Ca x P
    transition_width = 0.15               # width in ln(Ca x P / threshold) over which growth turns on
    growth_order = 1                      # order of growth in the driving force (2: apatite-like)

Every field but ``name`` defaults to ``src/ckdmbd/parameters/calcification.toml``. Errors name the field and the
value (a :class:`ckdmbd.scenario.ScenarioError`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ckdmbd import units
from ckdmbd.physiology.calcification import HAP_G_PER_MOL_CA
from ckdmbd.protocol import CalcificationSiteOnset

SITE_PARAMETERS = {
    # scenario field -> model parameter
    "threshold": "deposit_ksp_mM2",
    "growth_rate": "deposit_growth_rate",
    "dissolution_rate": "deposit_dissolution_rate",
    "nidus": "deposit_nucleus_mmol",
    "mineral_fraction": "deposit_mineral_fraction",
    "milieu_time": "deposit_milieu_time_h",
    "transition_width": "deposit_transition_width",
    "growth_order": "deposit_growth_order",
}
FIELDS = {"name", "onset", *SITE_PARAMETERS}

_CA_X_P_MG2_DL2_PER_MM2 = units.CALCIUM_G_PER_MOL * units.PHOSPHORUS_G_PER_MOL / 100.0  # 12.41
# units the generic parser cannot read (powers): exact spellings -> factor to the model unit
_PRODUCT_UNITS = {"mmol^2/L^2": 1.0, "mM^2": 1.0, "mg^2/dL^2": 1.0 / _CA_X_P_MG2_DL2_PER_MM2}
_RATE_UNITS = {"mmol^(1/3)/h": 1.0, "mmol^(1/3)/day": 1.0 / units.HOURS_PER_DAY}
_NUMBER_UNIT = re.compile(r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S+)\s*")


@dataclass(frozen=True)
class CalcificationSite:
    """A declared site: its name, when its nidus appears (None: from the start) and its parameter values."""

    name: str
    onset_h: float | None
    parameters: dict[str, float]


def _error(message: str):
    from ckdmbd.scenario import ScenarioError

    return ScenarioError(message)


def _power_quantity(value: Any, allowed: dict[str, float], where: str) -> float:
    spellings = ", ".join(allowed)
    if not isinstance(value, str):
        raise _error(f"{where}: expected a quantity as text such as \"1 {next(iter(allowed))}\", got {value!r}")
    match = _NUMBER_UNIT.fullmatch(value)
    if match is None or match[2] not in allowed:
        raise _error(f"{where}: cannot read {value!r}; expected a number and one of the units {spellings}")
    return float(match[1]) * allowed[match[2]]


def _number(raw: dict, key: str, where: str, low: float, high: float) -> float:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _error(f"{where}.{key}: {value!r} must be a number")
    if not low < value <= high:
        raise _error(f"{where}.{key}: {value!r} must be in ({low:g}, {high:g}]")
    return float(value)


def _positive(value: float, raw_value: Any, where: str, high: float, unit: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise _error(f"{where}: {raw_value!r} must be positive")
    if value > high:
        raise _error(f"{where}: {raw_value!r} is implausible (at most {high:g} {unit})")
    return value


def parse_site(raw: Any, where: str) -> CalcificationSite:
    """One ``[[calcification_sites]]`` table; every error names the field and the value."""
    from ckdmbd.scenario import _fields, parse_quantity

    _fields(raw, where, {"name"}, FIELDS - {"name"})
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise _error(f"{where}.name: {name!r} must be a non-empty text")
    onset = parse_quantity(raw["onset"], "h", f"{where}.onset", allow_negative=True) if "onset" in raw else None
    values: dict[str, float] = {}
    if "threshold" in raw:
        w = f"{where}.threshold"
        values["deposit_ksp_mM2"] = _positive(_power_quantity(raw["threshold"], _PRODUCT_UNITS, w),
                                              raw["threshold"], w, 20.0, "mmol^2/L^2")
    for key in ("growth_rate", "dissolution_rate"):
        if key in raw:
            w = f"{where}.{key}"
            rate = _power_quantity(raw[key], _RATE_UNITS, w)
            if rate < 0 or (key == "growth_rate" and rate == 0):
                raise _error(f"{w}: {raw[key]!r} must be {'positive' if key == 'growth_rate' else 'non-negative'}")
            values[SITE_PARAMETERS[key]] = rate
    if "nidus" in raw:
        w = f"{where}.nidus"
        mg = parse_quantity(raw["nidus"], "mg", w)
        values["deposit_nucleus_mmol"] = _positive(mg, raw["nidus"], w, 1000.0, "mg") / HAP_G_PER_MOL_CA
    if "mineral_fraction" in raw:
        values["deposit_mineral_fraction"] = _number(raw, "mineral_fraction", where, 0.0, 1.0)
    if "milieu_time" in raw:
        w = f"{where}.milieu_time"
        values["deposit_milieu_time_h"] = _positive(parse_quantity(raw["milieu_time"], "h", w), raw["milieu_time"],
                                                    w, 365 * 24.0, "h")
    if "transition_width" in raw:
        values["deposit_transition_width"] = _number(raw, "transition_width", where, 0.0, 1.0)
    if "growth_order" in raw:
        values["deposit_growth_order"] = _number(raw, "growth_order", where, 0.0, 4.0)
    return CalcificationSite(name.strip(), onset, values)


def parse_sites(raw_sites: Any, history_h: float, duration_h: float
                ) -> tuple[tuple[CalcificationSite, ...], dict[str, float], list[CalcificationSiteOnset]]:
    """The scenario's sites, the parameter overrides they imply and their onset events."""
    if not isinstance(raw_sites, list):
        raise _error("calcification_sites: expected an array of tables ([[calcification_sites]]), "
                     f"got a {type(raw_sites).__name__}")
    if len(raw_sites) > 1:
        raise _error(f"calcification_sites: {len(raw_sites)} sites declared; the model supports one predisposed "
                     f"site per patient")
    sites = tuple(parse_site(raw, f"calcification_sites[{k}]") for k, raw in enumerate(raw_sites))
    overrides: dict[str, float] = {}
    events: list[CalcificationSiteOnset] = []
    for k, site in enumerate(sites):
        overrides.update(site.parameters)
        if site.onset_h is None:
            overrides["deposit_site_active"] = 1.0
            continue
        where = f"calcification_sites[{k}].onset"
        if site.onset_h < -history_h:
            raise _error(f"{where}: {raw_sites[k]['onset']!r} is before the start of the simulated history")
        if site.onset_h >= duration_h:
            raise _error(f"{where}: {raw_sites[k]['onset']!r} is at or after the end of the run")
        events.append(CalcificationSiteOnset(site.onset_h, site.name))
    return sites, overrides, events
