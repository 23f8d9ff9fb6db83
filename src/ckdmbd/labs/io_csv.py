"""Lab series from CSV files in long format: one result per row.

::

    # lines whose first cell starts with "#" are comments; blank lines are skipped
    time,analyte,value,unit,ref_low,ref_high,sample,note
    2001-07-02T08:00:00Z,calcium,2.12,mmol/L,2.10,2.60,pre-dialysis,
    2001-07-02T08:00:00Z,phosphate,6.6,mmol/L,0.87,1.45,,as reported

Columns (names case-insensitive, any order):

- ``time`` (ISO 8601 date or date-time) **or** ``day`` (a number of days from an origin of the file's choosing);
- ``analyte``: a key of the analyte table (``calcium``, ``ionized_calcium``, ``phosphate``, ``pth``, ``albumin``,
  ``alp``, ``vitamin_d_25oh``, ``calcitriol``), an alias, or a LOINC code;
- ``value``: a plain number (no ``<``, no decimal comma); ``unit``: a UCUM code (``mmol/L``, ``mg/dL``, ...);
- optional ``ref_low``, ``ref_high``: the reference range reported with the result, in the row's unit (either end
  may be empty); without both, the default range of the analyte table applies;
- optional ``sample``: ``pre-dialysis`` / ``post-dialysis`` (also ``pre``, ``post``) or empty;
- optional ``note``: free text.

Rows of analytes outside the table are an error, or skipped with ``skip_unknown=True`` (listed in
``frame.attrs["skipped"]``).

Errors (:class:`LabError`) name the file, the line, the column and the value.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ckdmbd.labs.analytes import lookup
from ckdmbd.labs.errors import LabError, show
from ckdmbd.labs.series import RawSample, build_series, error, sample_context, unknown_analyte

REQUIRED = ("analyte", "value", "unit")
TIME_COLUMNS = ("time", "day")
OPTIONAL = ("ref_low", "ref_high", "sample", "note")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


MAX_FILE_BYTES = 50_000_000
"""assumed: a lab file larger than 50 MB (about a million results) is no patient's series; refused before reading."""
MAX_ROWS = 100_000
"""assumed: 100,000 results are 30 years of eight analytes every day; more is no patient's series (a million rows
ran for more than 600 s and 4.3 GB)."""


def read_text(path: str | Path) -> str:
    """A lab file's text (UTF-8, with or without BOM); :class:`LabError` if it cannot be read.

    Only regular files up to :data:`MAX_FILE_BYTES` are read: the file is opened without blocking and checked with
    ``fstat`` first, so a FIFO, a device (``/dev/zero``) or a huge file is refused at once instead of hanging or
    filling the memory (issue 16)."""
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise LabError(f"cannot read {str(path)!r}: {exc.strerror or exc.__class__.__name__}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise LabError(f"cannot read {str(path)!r}: it is a folder")
        if not stat.S_ISREG(info.st_mode):
            raise LabError(f"cannot read {str(path)!r}: not a regular file (a pipe or a device)")
        if info.st_size > MAX_FILE_BYTES:
            raise LabError(f"cannot read {str(path)!r}: {info.st_size} bytes, larger than the {MAX_FILE_BYTES} "
                           f"bytes a lab file may have")
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LabError(f"cannot read {str(path)!r}: {exc.strerror or exc.__class__.__name__}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > MAX_FILE_BYTES:  # it grew after the check
        raise LabError(f"cannot read {str(path)!r}: larger than the {MAX_FILE_BYTES} bytes a lab file may have")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def read_csv(path: str | Path, *, sort: bool = False, skip_unknown: bool = False) -> pd.DataFrame:
    return parse_csv(read_text(path), str(path), sort=sort, skip_unknown=skip_unknown)


def parse_number(text: str, source: str, where: str, column: str) -> float:
    if _NUMBER.fullmatch(text.strip()) is None:
        hint = "; censored values such as '<0.5' are not supported" if text.strip()[:1] in "<>" else ""
        raise error(source, where, column, text, "not a number" + hint)
    return float(text)


def parse_time(text: str, source: str, where: str) -> datetime:
    """An ISO 8601 date or date-time as a naive UTC datetime."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise error(source, where, "time", text, "not an ISO 8601 date or date-time "
                    "(e.g. 2001-07-02 or 2001-07-02T08:00:00Z)") from None
    return plausible_time(when, source, where, "time", text)


YEARS = (1800, 2200)
"""assumed: sampling times outside these years are typos; year 1 overflowed the conversion to UTC (issue 16)."""


def plausible_time(when: datetime, source: str, where: str, field_name: str, text: object) -> datetime:
    """``when`` as a naive UTC datetime; :class:`LabError` outside :data:`YEARS` (checked before the conversion)."""
    if not YEARS[0] <= when.year <= YEARS[1]:
        raise error(source, where, field_name, text, f"not a plausible sampling time (years {YEARS[0]}-{YEARS[1]})")
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def _rows(text: str, source: str):
    """(line number, cells) of the rows that are neither blank nor comments."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                continue
            yield reader.line_num, cells
    except csv.Error as exc:
        raise LabError(f"{source}: line {reader.line_num + 1}: not valid CSV ({exc})") from None


def _header(line: int, cells: list[str], source: str) -> dict[str, int]:
    names = [c.strip().lower() for c in cells]
    known = (*REQUIRED, *TIME_COLUMNS, *OPTIONAL)
    if not any(name in known for name in names):  # not a lab file at all: its first line is not shown (issue 16)
        raise LabError(f"{source}: line {line} is no header of a lab CSV file (expected column names such as "
                       f"time, analyte, value, unit); is it a lab file?")
    columns: dict[str, int] = {}
    for i, name in enumerate(names):
        if name not in (*REQUIRED, *TIME_COLUMNS, *OPTIONAL):
            raise LabError(f"{source}: line {line} (header), column {show(cells[i])}: unknown column (allowed: "
                           f"{', '.join((*TIME_COLUMNS, *REQUIRED, *OPTIONAL))})")
        if name in columns:
            raise LabError(f"{source}: line {line} (header), column {show(cells[i])}: given twice")
        columns[name] = i
    times = [name for name in TIME_COLUMNS if name in columns]
    if len(times) != 1:
        problem = "give a time column (ISO dates) or a day column, not both" if times else \
            "missing column 'time' (ISO 8601 dates) or 'day' (day numbers)"
        raise LabError(f"{source}: line {line} (header): {problem}")
    for name in REQUIRED:
        if name not in columns:
            raise LabError(f"{source}: line {line} (header): missing column {name!r} (required: time or day, "
                           f"{', '.join(REQUIRED)})")
    return columns


def _sample(line: int, cells: list[str], columns: dict[str, int], source: str) -> RawSample:
    where = f"line {line}"
    if len(cells) != len(columns):
        raise LabError(f"{source}: {where}: {len(cells)} fields, but the header has {len(columns)} columns")
    cell = {name: cells[i].strip() for name, i in columns.items()}
    for name in (*REQUIRED, *(n for n in TIME_COLUMNS if n in cell)):
        if not cell[name]:
            raise error(source, where, name, cell[name], "empty; this column is required")
    value = parse_number(cell["value"], source, where, "value")
    ref = {}
    for end in ("ref_low", "ref_high"):
        text = cell.get(end, "")
        ref[end] = (parse_number(text, source, where, end), cell["unit"]) if text else None
    try:
        context = sample_context(cell.get("sample"))
    except KeyError:
        raise error(source, where, "sample", cell["sample"],
                    "unknown sample context (use pre-dialysis or post-dialysis, or pre or post, or leave it empty)"
                    ) from None
    return RawSample(
        where=where, fields={"analyte": "analyte", "value": "value", "unit": "unit", "time": next(
            n for n in TIME_COLUMNS if n in cell), "ref_low": "ref_low", "ref_high": "ref_high"},
        analyte=cell["analyte"], value=value, unit=cell["unit"],
        time=parse_time(cell["time"], source, where) if "time" in cell else None,
        day=parse_number(cell["day"], source, where, "day") if "day" in cell else None,
        ref_low=ref["ref_low"], ref_high=ref["ref_high"], sample=context, note=cell.get("note", ""),
    )


def parse_csv(text: str, source: str = "<csv>", *, sort: bool = False, skip_unknown: bool = False) -> pd.DataFrame:
    """The lab series in CSV ``text`` (see the module docstring); ``source`` names the file in messages."""
    rows = _rows(text, source)
    first = next(rows, None)
    if first is None:
        raise LabError(f"{source}: empty file: expected a header line such as 'time,analyte,value,unit'")
    columns = _header(*first, source)
    raws, skipped, count = [], [], 0
    for line, cells in rows:
        count += 1
        if count > MAX_ROWS:
            raise LabError(f"{source}: more than {MAX_ROWS} results (line {line}); too many for one patient's series")
        analyte = cells[columns["analyte"]].strip() if len(cells) == len(columns) else ""
        if analyte and lookup(analyte) is None:
            if not skip_unknown:
                raise unknown_analyte(source, f"line {line}", "analyte", analyte)
            skipped.append(f"line {line}: {analyte}")
            continue
        raws.append(_sample(line, cells, columns, source))
    if not count:
        raise LabError(f"{source}: no data rows after the header (line {first[0]})")
    return build_series(raws, source, sort=sort, skipped=skipped)
