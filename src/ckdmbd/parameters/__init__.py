"""Parameter sets as data: every value carries a unit, a kind and a source.

Parameter files are TOML tables ``[parameters]`` of ``name = {value, unit, kind, source, description}``.
The loader refuses an entry without a unit or a source, or with a source that is not a known citation key
(``ckdmbd.citations``) or ``"assumed"`` (then the description must say why).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from importlib import resources

from ckdmbd.citations import CITATIONS

KINDS = ("published", "measured", "fitted", "assumed", "convention", "derived")


class ParameterError(ValueError):
    """A parameter file or override is malformed."""


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    unit: str
    kind: str
    source: str
    description: str


class ParameterSet(Mapping[str, float]):
    """An ordered, immutable mapping name -> value, with the full :class:`Parameter` records kept alongside."""

    def __init__(self, records: Mapping[str, Parameter]):
        self._records = dict(records)

    def __getitem__(self, name: str) -> float:
        return self._records[name].value

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def record(self, name: str) -> Parameter:
        return self._records[name]

    def with_values(self, **values: float) -> ParameterSet:
        """A copy with some values replaced (names must exist: a typo is an error, not a new parameter)."""
        records = dict(self._records)
        for name, value in values.items():
            if name not in records:
                raise ParameterError(f"unknown parameter {name!r}")
            records[name] = replace(records[name], value=float(value))
        return ParameterSet(records)

    def merged(self, other: ParameterSet) -> ParameterSet:
        clash = set(self._records) & set(other._records)
        if clash:
            raise ParameterError(f"parameters defined twice: {', '.join(sorted(clash))}")
        return ParameterSet({**self._records, **other._records})

    def overridden(self, other: ParameterSet) -> ParameterSet:
        """A copy in which ``other``'s records (value, unit, source...) replace existing ones."""
        unknown = set(other._records) - set(self._records)
        if unknown:
            raise ParameterError(f"overrides of unknown parameters: {', '.join(sorted(unknown))}")
        return ParameterSet({**self._records, **other._records})

    @property
    def sources(self) -> set[str]:
        return {r.source for r in self._records.values()}


def _parse(text: str, origin: str, table_name: str = "parameters") -> ParameterSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{origin}: not valid TOML ({exc})") from None
    table = data.get(table_name, {} if table_name == "overrides" else None)
    if not isinstance(table, dict):
        raise ParameterError(f"{origin}: missing [{table_name}] table")
    records = {}
    for name, entry in table.items():
        where = f"{origin}: parameter {name!r}"
        if not isinstance(entry, dict):
            raise ParameterError(f"{where}: expected a table with value, unit, kind, source, description")
        missing = [k for k in ("value", "unit", "kind", "source", "description") if k not in entry]
        if missing:
            raise ParameterError(f"{where}: missing {', '.join(missing)}")
        value = entry["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(f"{where}: value {value!r} is not a number")
        if entry["kind"] not in KINDS:
            raise ParameterError(f"{where}: kind {entry['kind']!r} is not one of {', '.join(KINDS)}")
        source = entry["source"]
        if source != "assumed" and source not in CITATIONS:
            raise ParameterError(f"{where}: source {source!r} is not a known citation key")
        if source == "assumed" and "assumed" not in entry["description"]:
            raise ParameterError(f"{where}: an assumed value must say why in its description ('assumed: ...')")
        records[name] = Parameter(name, float(value), str(entry["unit"]), entry["kind"], source, entry["description"])
    return ParameterSet(records)


def load_builtin(filename: str, table_name: str = "parameters") -> ParameterSet:
    """Load a parameter file shipped inside the package (its ``[parameters]`` or ``[overrides]`` table)."""
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    return _parse(text, filename, table_name)


def peterson_riggs_2010() -> ParameterSet:
    """The parameter values of BIOMD0000000613 (the ``reference`` configuration)."""
    return load_builtin("peterson_riggs_2010.toml")


def corrected_parameters() -> ParameterSet:
    """Peterson & Riggs 2010 plus the parameters of the corrections (the ``corrected`` configuration)."""
    return peterson_riggs_2010().merged(load_builtin("corrections.toml"))


EXTENSION_FILES = ("kidney_failure.toml", "endocrine.toml", "vitamin_d_drugs.toml", "phosphate_pools.toml",
                   "fluid.toml", "calcification.toml", "bone.toml")
"""Parameter files of the default configuration's extensions, one per area; each may hold ``[overrides]`` of
Peterson-Riggs values as well as its own ``[parameters]``."""


def default_parameters() -> ParameterSet:
    """Peterson & Riggs 2010, the corrections' parameters and the kidney-failure extensions, with the
    extensions' overrides of PR values (the ``default`` configuration)."""
    merged = corrected_parameters()
    for filename in EXTENSION_FILES:
        merged = merged.merged(load_builtin(filename))
    for filename in EXTENSION_FILES:
        merged = merged.overridden(load_builtin(filename, "overrides"))
    return merged
