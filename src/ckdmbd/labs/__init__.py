"""Lab series: import from CSV (long format) and FHIR R4 (a Bundle of LOINC-coded Observations with UCUM units),
conversion to canonical units with pint, and checks (reference ranges, plausibility, KDIGO 2017 targets on dialysis,
corrected calcium, Ca x P).

::

    from ckdmbd.labs import check_labs, load_labs

    series = load_labs("labs.csv")  # or "labs.fhir.json"
    result = check_labs(series)     # result.to_dict() for JSON

Modules: :mod:`~ckdmbd.labs.analytes` (the analyte table), :mod:`~ckdmbd.labs.conversion` (units),
:mod:`~ckdmbd.labs.series` (the series and its checks of order and duplicates), :mod:`~ckdmbd.labs.io_csv`,
:mod:`~ckdmbd.labs.io_fhir`, :mod:`~ckdmbd.labs.checks`. Every problem with an input is a :class:`LabError` (a
``ValueError``) with a one-line message naming the file, the row or entry, the field and the value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ckdmbd.labs.analytes import ANALYTES, Analyte, Range
from ckdmbd.labs.checks import DerivedResult, Flag, LabCheck, SampleResult, check_labs
from ckdmbd.labs.conversion import convert, from_canonical, to_canonical
from ckdmbd.labs.errors import LabError
from ckdmbd.labs.io_csv import parse_csv, read_csv, read_text
from ckdmbd.labs.io_fhir import parse_fhir, read_fhir

__all__ = [
    "ANALYTES", "Analyte", "DerivedResult", "Flag", "LabCheck", "LabError", "Range", "SampleResult", "check_labs",
    "convert", "from_canonical", "load_labs", "parse_csv", "parse_fhir", "read_csv", "read_fhir", "to_canonical",
]


def load_labs(path: str | Path, *, sort: bool = False, skip_unknown: bool = False) -> pd.DataFrame:
    """A lab series from a CSV file or a FHIR JSON Bundle: ``.json`` files (and files starting with ``{``) are read
    as FHIR, everything else as CSV."""
    text = read_text(path)
    is_json = str(path).lower().endswith(".json") or text.lstrip().startswith(("{", "["))
    parse = parse_fhir if is_json else parse_csv
    return parse(text, str(path), sort=sort, skip_unknown=skip_unknown)
