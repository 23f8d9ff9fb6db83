"""Lab series from FHIR R4 JSON: a Bundle of LOINC-coded Observation resources with UCUM units.

Observations are validated with ``fhir.resources.R4B`` (FHIR 4.3; its Observation and Bundle match R4's; from
fhir.resources 7 the package's default models are R5). Entries of other resource types (Patient, Specimen, ...)
are skipped without validation; Observations with status ``entered-in-error`` or ``cancelled`` are skipped too.

What is read from each Observation:

- the analyte: the first ``code.coding`` with system ``http://loinc.org`` whose code is in the analyte table
  (Observations without one are an error, or skipped with ``skip_unknown=True``, before anything else is read);
- the time: ``effectiveDateTime`` or ``effectiveInstant`` (a full date or date-time; ``effectivePeriod`` and partial
  dates such as ``2001-07`` are rejected); date-times are converted to UTC, a date is read as 00:00 UTC;
- the value: ``valueQuantity.value`` with the UCUM ``valueQuantity.code`` (``valueQuantity.unit``, the display
  text, only when there is no code); ``valueQuantity.system``, if given, must be ``http://unitsofmeasure.org``;
  a ``comparator`` (``<0.5``) is rejected;
- the reference range: the first ``referenceRange`` without a ``type`` or of type ``normal``; a bound without a
  unit is in the result's unit;
- pre-/post-dialysis: ``specimen.display`` reading ``pre-dialysis`` or ``post-dialysis`` (also ``pre``/``post``;
  any other text describes the specimen and is ignored) -- ckdmbd's convention, as FHIR has no standard element;
- the note: the texts of ``note``.

Errors (:class:`LabError`) name the file, the entry (``entry[3] (Observation/ca-1)``, 0-based as in FHIRPath),
the element and the value.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd

from ckdmbd.labs.analytes import LOINC, LOINC_SYSTEM, lookup
from ckdmbd.labs.errors import LabError, show
from ckdmbd.labs.io_csv import MAX_ROWS, plausible_time, read_text
from ckdmbd.labs.series import RawSample, build_series, error, sample_context, unknown_analyte

UCUM_SYSTEM = "http://unitsofmeasure.org"
SKIPPED_STATUS = ("entered-in-error", "cancelled")
REFERENCE_RANGE_NORMAL = "normal"  # http://terminology.hl7.org/CodeSystem/referencerange-meaning


def read_fhir(path: str | Path, *, sort: bool = False, skip_unknown: bool = False) -> pd.DataFrame:
    return parse_fhir(read_text(path), str(path), sort=sort, skip_unknown=skip_unknown)


def parse_fhir(text: str, source: str = "<fhir>", *, sort: bool = False, skip_unknown: bool = False) -> pd.DataFrame:
    """The lab series in the FHIR JSON ``text`` (see the module docstring); ``source`` names the file in messages."""
    data = _load_json(text, source)
    indices, bundle = _validate(data, source)
    if len(indices) > MAX_ROWS:
        raise LabError(f"{source}: {len(indices)} Observation entries, more than {MAX_ROWS}; too many for one "
                       f"patient's series")
    raws, skipped = [], []
    for index, entry in zip(indices, bundle.entry or (), strict=True):
        obs = entry.resource
        if obs.status in SKIPPED_STATUS:
            continue
        where = _where(index, obs.id)
        found = _loinc(obs)
        if found is None or lookup(found[1]) is None:
            if not skip_unknown:
                raise unknown_analyte(source, where, *found) if found else _no_loinc(obs, source, where)
            skipped.append(f"{where}: {found[1] if found else obs.code.text or 'no LOINC code'}")
            continue
        raws.append(_sample(obs, where, found, source))
    if not raws and not skipped:
        raise LabError(f"{source}: the Bundle has no Observation entries to read")
    return build_series(raws, source, sort=sort, skipped=skipped)


def _load_json(text: str, source: str) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabError(f"{source}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise LabError(f"{source}: not a FHIR Bundle: objects or arrays nested too deeply") from None
    except ValueError:  # an integer of more than 4300 digits
        raise LabError(f"{source}: not a FHIR Bundle: a number with too many digits") from None
    if not isinstance(data, dict):
        raise LabError(f"{source}: not a FHIR resource: the file holds a JSON {type(data).__name__}, "
                       "expected a Bundle object")
    kind = data.get("resourceType")
    if kind != "Bundle":
        raise LabError(f"{source}: resourceType {show(kind)}: expected a Bundle (of Observation resources)")
    return data


def _validate(data: dict, source: str):
    """The Bundle, validated with only its Observation entries, and each kept entry's index in the file."""
    from fhir.resources.R4B.bundle import Bundle

    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise LabError(f"{source}: entry {show(entries)}: expected a list of entries")
    indices = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise LabError(f"{source}: entry[{i}] {show(entry)}: expected an object")
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") == "Observation":
            indices.append(i)
    kept = {**data, "entry": [entries[i] for i in indices]}
    if not indices:
        kept.pop("entry")
    try:
        return indices, Bundle.model_validate(kept)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise LabError(f"{source}: {_validation_message(exc, indices, entries)}") from None
    except RecursionError:
        raise LabError(f"{source}: not a FHIR Bundle: objects or arrays nested too deeply") from None


def _validation_message(exc: ValueError, indices: list[int], entries: list) -> str:
    errors = exc.errors() if hasattr(exc, "errors") else []
    if not errors:
        return f"not a valid FHIR R4 Bundle ({exc})"
    first = errors[0]
    loc = list(first.get("loc", ()))
    where = "Bundle"
    if len(loc) >= 2 and loc[0] == "entry" and isinstance(loc[1], int) and loc[1] < len(indices):
        index = indices[loc[1]]
        where = _where(index, entries[index].get("resource", {}).get("id"))
        loc = loc[3:] if loc[2:3] == ["resource"] else loc[2:]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "(resource)"
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    value = f" {show(first['input'])}" if "input" in first and first["input"] is not None else ""
    return f"{where}, {path}{value}: {message}{more}"


def _where(index: int, resource_id: Any) -> str:
    return f"entry[{index}]" + (f" (Observation/{resource_id})" if resource_id else "")


def _when(obs, source: str, where: str) -> datetime:
    when = obs.effectiveDateTime if obs.effectiveDateTime is not None else obs.effectiveInstant
    if when is None:
        present = [name for name in ("effectivePeriod", "effectiveTiming") if getattr(obs, name, None) is not None]
        problem = f"{present[0]} is not supported; give effectiveDateTime" if present else \
            "missing; each Observation needs its sampling time"
        raise error(source, where, "effectiveDateTime", None, problem)
    if isinstance(when, datetime):
        return plausible_time(when, source, where, "effectiveDateTime", str(when))
    if isinstance(when, date):
        return plausible_time(datetime.combine(when, time()), source, where, "effectiveDateTime", str(when))
    raise error(source, where, "effectiveDateTime", str(when), "not a full date (a year or year-month only)")


def _unit(quantity, source: str, where: str, element: str, default: str | None = None) -> str:
    if quantity.system is not None and quantity.system != UCUM_SYSTEM:
        raise error(source, where, f"{element}.system", quantity.system, f"not UCUM ({UCUM_SYSTEM})")
    unit = quantity.code if quantity.code is not None else quantity.unit
    if unit is None:
        if default is not None:
            return default
        raise error(source, where, f"{element}.code", None, "missing: the result has no unit")
    return unit


def _reference(obs, source: str, where: str, unit: str) -> tuple[dict, dict]:
    """(low, high) as (value, unit) or None, and the elements they came from."""
    ranges = obs.referenceRange or []
    for k, rr in enumerate(ranges):
        codes = [c.code for c in (rr.type.coding or [])] if rr.type is not None else [REFERENCE_RANGE_NORMAL]
        if REFERENCE_RANGE_NORMAL not in codes:
            continue
        bounds, fields = {}, {}
        for end in ("low", "high"):
            q = getattr(rr, end)
            fields[f"ref_{end}"] = f"referenceRange[{k}].{end}"
            bounds[f"ref_{end}"] = None if q is None or q.value is None else (
                float(q.value), _unit(q, source, where, fields[f"ref_{end}"], default=unit))
        return bounds, fields
    return {"ref_low": None, "ref_high": None}, {}


def _value_absent(obs) -> str:
    present = [name for name in type(obs).model_fields if name.startswith("value") and getattr(obs, name) is not None]
    if present:
        return f"missing: the result is a {present[0]}, not a valueQuantity"
    if obs.dataAbsentReason is not None:
        reason = obs.dataAbsentReason.text or next((c.code for c in obs.dataAbsentReason.coding or []), "")
        return f"missing (dataAbsentReason {reason!r})"
    return "missing: the Observation has no value"


def _loinc(obs) -> tuple[str, str] | None:
    """(element, code) of the first LOINC coding whose code is in the analyte table, else of the first LOINC coding;
    None without LOINC codings."""
    loinc = [(f"code.coding[{k}].code", c.code) for k, c in enumerate(obs.code.coding or [])
             if c.system == LOINC_SYSTEM and c.code]
    return next((item for item in loinc if item[1] in LOINC), loinc[0] if loinc else None)


def _no_loinc(obs, source: str, where: str) -> LabError:
    systems = sorted({c.system or "(none)" for c in obs.code.coding or []})
    return error(source, where, "code.coding", obs.code.text or systems, f"no LOINC coding (system {LOINC_SYSTEM})")


def _sample(obs, where: str, code: tuple[str, str], source: str) -> RawSample:
    """The RawSample of an Observation; ``code``: (element, LOINC code) from :func:`_loinc`."""
    when = _when(obs, source, where)
    quantity = obs.valueQuantity
    if quantity is None:
        raise error(source, where, "valueQuantity", None, _value_absent(obs))
    if quantity.value is None:
        raise error(source, where, "valueQuantity.value", None, "missing")
    if quantity.comparator is not None:
        raise error(source, where, "valueQuantity.comparator", quantity.comparator,
                    "censored values (<, >) are not supported")
    unit = _unit(quantity, source, where, "valueQuantity")
    unit_field = "valueQuantity.code" if quantity.code is not None else "valueQuantity.unit"
    bounds, ref_fields = _reference(obs, source, where, unit)
    display = obs.specimen.display if obs.specimen is not None else None
    try:
        context = sample_context(display)
    except KeyError:  # a specimen description ("Serum"), not a dialysis context
        context = None
    return RawSample(
        where=where,
        fields={"analyte": code[0], "value": "valueQuantity.value", "unit": unit_field,
                "time": "effectiveDateTime" if obs.effectiveDateTime is not None else "effectiveInstant",
                **ref_fields},
        analyte=code[1], value=float(quantity.value), unit=unit, time=when,
        ref_low=bounds["ref_low"], ref_high=bounds["ref_high"], sample=context,
        note=" ".join(n.text for n in obs.note or [] if n.text),
    )
