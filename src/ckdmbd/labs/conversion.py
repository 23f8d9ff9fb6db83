"""Units of lab results, in one place: UCUM unit codes are read with pint and converted to the analyte's canonical
unit; mass and molar concentrations are converted through the analyte's molar mass (pint's ``chemistry`` context).

Accepted: a unit code of the form ``unit`` or ``unit/unit`` with UCUM spellings pint also understands (``mg/dL``,
``mmol/L``, ``mmol/l``, ``pg/mL``, ``pmol/L``, ``ng/L``, ``ng/mL``, ``nmol/L``, ``U/L``, ``ukat/L``, ``g/dL``,
``g/L``). Rejected with a message: UCUM annotations and arbitrary units (``{RU}/mL``, ``[IU]/L``: not convertible),
unknown units (``mEq/L``), and units of another dimension than the analyte's (phosphate in ``U/L``).
"""

from __future__ import annotations

import re
from functools import cache

from ckdmbd.labs.analytes import ACTIVITY, KIND_NAMES, MASS, MOLES, Analyte

# a unit, or a unit over a unit; letters only (no numbers, powers, spaces or UCUM's "." products): it keeps pint's
# expression evaluator away from the text and covers every unit a lab reports these analytes in
_UNIT = re.compile(r"[A-Za-zµμ]+(?:/[A-Za-zµμ]+)?")


class UnitError(Exception):
    """A unit that cannot be read or converted; the message says why, without the location (the reader adds it)."""


@cache
def registry():
    """This module's pint registry (from pint's on-disk cache when possible)."""
    import pint

    try:
        return pint.UnitRegistry(cache_folder=":auto:")
    except (OSError, ImportError):  # pragma: no cover - read-only home or no platformdirs
        return pint.UnitRegistry()


@cache
def parse_unit(text: str):
    """A UCUM unit code as a pint unit; :class:`UnitError` if it is not one this module accepts."""
    if not text.strip():
        raise UnitError("no unit given")
    if any(c in text for c in "{}[]"):
        raise UnitError("UCUM annotations and arbitrary units ({...}, [IU]) cannot be converted; "
                        "give the result in a unit such as mg/dL, mmol/L, pg/mL or U/L")
    if _UNIT.fullmatch(text.strip()) is None:
        raise UnitError("not a unit code of the form 'mg/dL' or 'U/L'")
    try:
        return registry().parse_units(text.strip())
    except Exception:  # pint raises several kinds (UndefinedUnitError, ...)
        raise UnitError("unknown unit") from None


def unit_kind(text: str) -> str | None:
    """MASS, MOLES or ACTIVITY (per volume), or None for anything else (raises :class:`UnitError` if unreadable)."""
    dim = registry().get_dimensionality(parse_unit(text))
    length, mass, substance, time = (dim.get(k, 0) for k in ("[length]", "[mass]", "[substance]", "[time]"))
    if len(dim) > 4 or length != -3:
        return None
    if (mass, substance, time) == (1, 0, 0):
        return MASS
    if (mass, substance, time) == (0, 1, 0):
        return MOLES
    if (mass, substance, time) == (0, 1, -1):
        return ACTIVITY
    return None


def convert(analyte: Analyte, value: float, unit: str, target: str) -> float:
    """``value`` in ``unit`` expressed in ``target``, through the molar mass where the kinds differ."""
    have, want = unit_kind(unit), unit_kind(target)
    ureg = registry()
    quantity = ureg.Quantity(value, parse_unit(unit))
    if have is not None and have == want:
        return float(quantity.to(parse_unit(target)).magnitude)
    if {have, want} == {MASS, MOLES} and analyte.molar_mass is not None:
        mw = ureg.Quantity(analyte.molar_mass, "g/mol")
        return float(quantity.to(parse_unit(target), "chemistry", mw=mw).magnitude)
    use = " or ".join(analyte.units)
    if have is None:
        raise UnitError(f"not a concentration (use {use} for {analyte.name})")
    raise UnitError(f"a unit of {KIND_NAMES[have]}, which cannot express {analyte.name} (use {use})")


def to_canonical(analyte: Analyte, value: float, unit: str) -> float:
    return convert(analyte, value, unit, analyte.unit)


def from_canonical(analyte: Analyte, value: float, unit: str) -> float:
    return convert(analyte, value, analyte.unit, unit)
