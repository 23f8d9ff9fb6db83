"""Dependence between a population's draws and patients read from a table (issue 12).

Correlated draws: a spec's ``[correlations]`` table lists pairs of its distributions with a correlation,

::

    [correlations]
    pairs = [["dietary_phosphorus", "dietary_calcium", 0.6]]

which is the correlation of the pair's normal scores (a Gaussian copula): each distribution keeps its own shape
(marginal) exactly, and the draws' rank correlation is (6/pi) arcsin(r/2) (0.58 for r = 0.6). Dietary phosphorus
and calcium come from the same foods (dairy), protein and phosphorus intakes go together, and so on; independent
draws would make implausible patients. The uniforms u of the independent draws are turned into normal scores
z = Phi^-1(u), mixed by the Cholesky factor of the correlation matrix and turned back, so a spec without
correlations draws exactly what it drew before.

Patients from a table: ``[cohort] file = "patients.csv"`` (a path relative to the spec): one row per patient, one
column per parameter by readable name or symbol (as ``ckdmbd parameters`` lists them), the header naming the unit
in brackets (``dietary_phosphorus [mg/day]``) or, without one, values in the unit ``ckdmbd parameters`` shows. Empty
cells keep the base scenario's value. The population's size is the number of rows; distributions, if any, are drawn
on top for the parameters the table does not give.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ckdmbd.bounded_read import BoundedReadError, read_bounded_text
from ckdmbd.parameter_names import NamedParameter, ParameterNameError, lookup

MAX_COHORT_ROWS = 100_000
MAX_COHORT_BYTES = 50_000_000
_HEADER = re.compile(r"^\s*([^\[\]]+?)\s*(?:\[\s*([^\[\]]+?)\s*\])?\s*$")


class DrawError(ValueError):
    """A malformed correlation or cohort; the message names the field and the value (one line)."""


def correlation_matrix(raw: Any, names: Sequence[str], where: str = "correlations") -> np.ndarray | None:
    """The correlation matrix of the distributions ``names`` (spec order) from a ``[correlations]`` table, checked
    to be a valid correlation matrix (symmetric, unit diagonal, positive definite); None without pairs."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"pairs"}:
        raise DrawError(f"{where}: expected a table with one field, pairs = [[NAME, NAME, r], ...]")
    pairs = raw.get("pairs", [])
    if not isinstance(pairs, list):
        raise DrawError(f"{where}.pairs: {pairs!r} must be a list of [NAME, NAME, r]")
    index = {n: k for k, n in enumerate(names)}
    corr = np.eye(len(names))
    seen: set[tuple[int, int]] = set()
    for k, pair in enumerate(pairs):
        at = f"{where}.pairs[{k}]"
        if not (isinstance(pair, list) and len(pair) == 3 and all(isinstance(x, str) for x in pair[:2])):
            raise DrawError(f"{at}: {pair!r} must be [NAME, NAME, r]")
        a, b, r = pair
        for n in (a, b):
            if n not in index:
                raise DrawError(f"{at}: {n!r} is not one of the spec's distributions ({', '.join(names)})")
        if a == b:
            raise DrawError(f"{at}: a distribution cannot be correlated with itself ({a!r})")
        if isinstance(r, bool) or not isinstance(r, int | float) or not math.isfinite(r) or not -1 < r < 1:
            raise DrawError(f"{at}: the correlation {r!r} must be a number strictly between -1 and 1")
        i, j = sorted((index[a], index[b]))
        if (i, j) in seen:
            raise DrawError(f"{at}: the pair {a!r}, {b!r} is given twice")
        seen.add((i, j))
        corr[i, j] = corr[j, i] = float(r)
    if not seen:
        return None
    try:
        np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        raise DrawError(f"{where}.pairs: these correlations are not jointly possible (the matrix is not positive "
                        f"definite; smallest eigenvalue {np.linalg.eigvalsh(corr).min():.3g})") from None
    return corr


def correlate(u: np.ndarray, corr: np.ndarray | None) -> np.ndarray:
    """Independent uniforms (patients x distributions) -> uniforms whose normal scores have correlation ``corr``."""
    if corr is None:
        return u
    from scipy.special import ndtr, ndtri  # scipy.stats.norm's own functions, without importing scipy.stats

    z = ndtri(u) @ np.linalg.cholesky(corr).T
    return np.clip(ndtr(z), 1e-15, 1 - 1e-15)


@dataclass(frozen=True)
class Cohort:
    """Patients read from a table: per parameter symbol, one model-unit value per row (NaN: the scenario's)."""

    file: str
    parameters: tuple[NamedParameter, ...]  # in column order
    columns: dict[str, np.ndarray] = field(compare=False)

    @property
    def size(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def read_cohort(raw: Any, configuration: str, spec_source: str, where: str = "cohort") -> Cohort:
    """The ``[cohort]`` table: a CSV of patients (path relative to the spec file)."""
    if not isinstance(raw, dict) or set(raw) != {"file"} or not isinstance(raw["file"], str):
        raise DrawError(f"{where}: expected one field, file = \"patients.csv\"")
    here = Path(spec_source)
    path = Path(raw["file"])
    if not path.is_absolute() and here.is_file():
        path = here.parent / path
    at = f"{where}.file"
    try:
        text = read_bounded_text(path, MAX_COHORT_BYTES, encoding="utf-8-sig")
    except BoundedReadError as exc:
        lead = f"{raw['file']!r} is" if exc.kind == "too_large" else f"cannot read {raw['file']!r}:"
        raise DrawError(f"{at}: {lead} {exc}") from None
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise DrawError(f"{at}: {raw['file']!r} needs a header and at least one patient row")
    if len(rows) - 1 > MAX_COHORT_ROWS:
        raise DrawError(f"{at}: {len(rows) - 1} patients; at most {MAX_COHORT_ROWS}")
    header, body = rows[0], rows[1:]
    columns: dict[str, np.ndarray] = {}
    params: list[NamedParameter] = []
    for c, title in enumerate(header):
        m = _HEADER.match(title)
        if not m:
            raise DrawError(f"{at}: column {c + 1} header {title!r} must be NAME or NAME [UNIT]")
        name, unit = m.group(1), m.group(2)
        try:
            p = lookup(name, configuration, f"{at} column {title!r}")
        except ParameterNameError as exc:
            raise DrawError(str(exc)) from None
        if p.symbol in columns:
            raise DrawError(f"{at}: column {title!r} gives {p.name} a second time")
        values = np.full(len(body), np.nan)
        for k, row in enumerate(body):
            cell = row[c].strip() if c < len(row) else ""
            if len(row) > len(header):
                raise DrawError(f"{at}: row {k + 2} has {len(row)} cells, the header {len(header)}")
            if not cell:
                continue
            try:  # a bare number is in the unit `ckdmbd parameters` shows, as everywhere
                values[k] = p.to_model(f"{cell} {unit}" if unit else cell, f"{at} row {k + 2}, {title}")
            except ParameterNameError as exc:
                raise DrawError(str(exc)) from None
        columns[p.symbol] = values
        params.append(p)
    return Cohort(str(raw["file"]), tuple(params), columns)
