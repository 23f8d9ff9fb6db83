"""A lab series: one row per result, every value in its analyte's canonical unit, built the same way from every
file format (the readers only turn rows or entries into :class:`RawSample`), so a CSV file and a FHIR bundle with
the same data give the same series.

Columns of the series (a pandas DataFrame, sorted by time, then by analyte in :data:`ANALYTES` order):

=============== =======================================================================================
time            the sampling time (UTC, no zone), or NaT for a series given in days
day             days since the first sample (ISO times), or the ``day`` number as given
analyte         key of :data:`ckdmbd.labs.analytes.ANALYTES` ("calcium", "phosphate", "pth", ...)
value, unit     the value in the canonical unit (mmol/L, pmol/L, g/L, U/L, nmol/L)
reported_value  the value and unit as reported (``reported_unit`` as in the file)
ref_low/high    the reference range in the canonical unit (NaN: open end)
ref_source      "reported" (came with the result) or "default" (the documented default table)
sample          "pre-dialysis", "post-dialysis" or None (not stated)
note            free text from the file
where           the row or entry it came from ("line 7", "entry[3] (Observation/ca-1)")
=============== =======================================================================================

Time convention: a file gives either ISO 8601 dates or date-times (``2001-07-02``, ``2001-07-02T08:00:00Z``; an
offset is converted to UTC, a time without offset is read as UTC) or day numbers (``day``: days from any origin
the file chooses, e.g. day 0 = presentation). For each analyte, samples must come in time order; a second sample of
the same analyte at the same time is a duplicate. Both are errors unless ``sort=True`` (then only duplicates are).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from ckdmbd.labs.analytes import ANALYTES, KIND_NAMES, Analyte, known_loinc, known_names, lookup
from ckdmbd.labs.conversion import UnitError, to_canonical, unit_kind
from ckdmbd.labs.errors import LabError, show

PRE = "pre-dialysis"
POST = "post-dialysis"
_CONTEXTS = {"pre": PRE, "pre-dialysis": PRE, "predialysis": PRE, "pre dialysis": PRE, "pre-hd": PRE,
             "post": POST, "post-dialysis": POST, "postdialysis": POST, "post dialysis": POST, "post-hd": POST}

_LOINC_CODE = re.compile(r"\d{1,7}-\d")
COLUMNS = ("time", "day", "analyte", "value", "unit", "reported_value", "reported_unit", "ref_low", "ref_high",
           "ref_source", "sample", "note", "where")


def sample_context(text: str | None) -> str | None:
    """``PRE``/``POST`` for the accepted spellings, None for an empty text; ``KeyError`` for anything else."""
    if text is None or not text.strip():
        return None
    return _CONTEXTS[" ".join(text.strip().lower().split())]


def context_spellings() -> str:
    return ", ".join(sorted(_CONTEXTS))


@dataclass(frozen=True)
class RawSample:
    """One result as read from a file, before analyte lookup, unit conversion and ordering checks."""

    where: str  # "line 7", "entry[3] (Observation/ca-1)"
    fields: Mapping[str, str]  # logical field (analyte, value, unit, time, ref_low, ref_high) -> the file's name
    analyte: str  # key, alias or LOINC code
    value: float
    unit: str
    time: datetime | None = None  # naive, UTC
    day: float | None = None
    ref_low: tuple[float, str] | None = None  # (value, unit) as reported
    ref_high: tuple[float, str] | None = None
    sample: str | None = None  # PRE, POST or None
    note: str = ""


def error(source: str, where: str, field_name: str, value: object, problem: str) -> LabError:
    return LabError(f"{source}: {where}, {field_name} {show(value)}: {problem}")


def _when(raw: RawSample) -> str:
    return raw.time.isoformat() if raw.time is not None else f"day {raw.day:g}"


def _convert(source: str, raw: RawSample, analyte: Analyte, name: str, value: float, unit: str) -> float:
    try:
        return to_canonical(analyte, value, unit)
    except UnitError as exc:
        raise error(source, raw.where, raw.fields.get(name, name), unit, str(exc)) from None


def _check_property(source: str, raw: RawSample, analyte: Analyte, prop: str | None) -> None:
    """A LOINC code fixes whether the result is a mass, molar or activity concentration: the unit must match."""
    if prop is None:
        return
    try:
        kind = unit_kind(raw.unit)
    except UnitError as exc:
        raise error(source, raw.where, raw.fields["unit"], raw.unit, str(exc)) from None
    if kind is not None and kind != prop:
        code = raw.analyte.strip()
        other = [c for c, p in analyte.loinc.items() if p == kind]
        hint = f"use LOINC {other[0]} for {KIND_NAMES[kind]}" if other else f"use a unit of {KIND_NAMES[prop]}"
        raise error(source, raw.where, raw.fields["unit"], raw.unit,
                    f"LOINC {code} is {analyte.name} as {KIND_NAMES[prop]}, but the unit is {KIND_NAMES[kind]} "
                    f"({hint})")


def unknown_analyte(source: str, where: str, field_name: str, text: str) -> LabError:
    if _LOINC_CODE.fullmatch(text.strip()):
        problem = f"unknown LOINC code (known: {known_loinc()})"
    else:
        problem = f"unknown analyte (known: {known_names()}, or their LOINC codes)"
    return error(source, where, field_name, text, problem)


def _row(source: str, raw: RawSample) -> dict:
    found = lookup(raw.analyte)
    if found is None:
        raise unknown_analyte(source, raw.where, raw.fields["analyte"], raw.analyte)
    analyte, prop = found
    if not math.isfinite(raw.value):
        raise error(source, raw.where, raw.fields["value"], raw.value, "not a finite number")
    if raw.value < 0:
        raise error(source, raw.where, raw.fields["value"], raw.value, "a concentration cannot be negative")
    _check_property(source, raw, analyte, prop)
    value = _convert(source, raw, analyte, "unit", raw.value, raw.unit)
    low = None if raw.ref_low is None else _convert(source, raw, analyte, "ref_low", *raw.ref_low)
    high = None if raw.ref_high is None else _convert(source, raw, analyte, "ref_high", *raw.ref_high)
    if low is not None and high is not None and low > high:
        raise error(source, raw.where, raw.fields.get("ref_low", "ref_low"), raw.ref_low[0],
                    f"the reference range's low end is above its high end ({raw.ref_high[0]:g})")
    reported = low is not None or high is not None
    if not reported:
        low, high = analyte.reference.low, analyte.reference.high
    return {
        "time": raw.time, "day": raw.day, "analyte": analyte.key, "value": value, "unit": analyte.unit,
        "reported_value": raw.value, "reported_unit": raw.unit,
        "ref_low": math.nan if low is None else low, "ref_high": math.nan if high is None else high,
        "ref_source": "reported" if reported else "default", "sample": raw.sample, "note": raw.note,
        "where": raw.where,
    }


def _check_order(source: str, raws: list[RawSample], rows: list[dict], sort: bool) -> None:
    """Per analyte: no two samples at the same time; unless ``sort``, each later in the file than the one before."""
    seen: dict[tuple[str, object], RawSample] = {}
    last: dict[str, RawSample] = {}
    for raw, row in zip(raws, rows, strict=True):
        t = raw.time if raw.time is not None else raw.day
        field_name = raw.fields["time"]
        key = (row["analyte"], t)
        if key in seen:
            raise error(source, raw.where, field_name, _when(raw),
                        f"duplicate sample: {row['analyte']} at this time is already given in {seen[key].where}")
        seen[key] = raw
        before = last.get(row["analyte"])
        if not sort and before is not None:
            t_before = before.time if before.time is not None else before.day
            if t < t_before:
                raise error(source, raw.where, field_name, _when(raw),
                            f"out of order: earlier than the {row['analyte']} sample in {before.where} "
                            f"({_when(before)}); list each analyte's samples in time order, or sort them (--sort)")
        last[row["analyte"]] = raw


def build_series(raws: Iterable[RawSample], source: str, *, sort: bool = False,
                 skipped: Iterable[str] = ()) -> pd.DataFrame:
    """The lab series of ``raws`` (see the module docstring); :class:`LabError` names the row or entry at fault.

    ``skipped``: the results a reader left out (analytes outside the table), kept in ``frame.attrs["skipped"]``.
    """
    raws, skipped = list(raws), list(skipped)
    if not raws:
        raise LabError(f"{source}: no results of known analytes in the file" if skipped else
                       f"{source}: no lab results in the file")
    kinds = {raw.time is None for raw in raws}
    if len(kinds) > 1:  # the readers prevent this; a guard for RawSample lists built by hand
        raise LabError(f"{source}: mixes ISO times and day numbers")
    rows = [_row(source, raw) for raw in raws]
    _check_order(source, raws, rows, sort)
    order = {key: i for i, key in enumerate(ANALYTES)}
    days = raws[0].time is None
    rows.sort(key=lambda r: (r["day"] if days else r["time"], order[r["analyte"]]))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["time"] = pd.to_datetime(frame["time"])
    if not days:
        frame["day"] = (frame["time"] - frame["time"].min()) / pd.Timedelta(days=1)
    frame["day"] = frame["day"].astype(float)
    frame.attrs["source"] = source
    frame.attrs["time_kind"] = "day" if days else "datetime"
    frame.attrs["skipped"] = skipped
    return frame
