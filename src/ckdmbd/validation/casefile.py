"""Published validation cases as data: one TOML file per case in ``ckdmbd/validation/cases/``.

A case names its source, the study's conditions as scenario *arms*, and one or more *checks*: a metric from
:mod:`ckdmbd.validation.metrics` computed on the arms, the value published with its spread, and the acceptance
band. Every case runs on the same built-in parameter set: an arm may set only what a study sets (diet, drugs,
dialysate, schedule, surgery, GFR: events and ``[patient]`` fields of a scenario, its duration), never a model
parameter. ::

    [case]
    name = "fine-2003-dialysate-calcium"
    title = "Dialysate calcium 1.5 -> 1.75 mmol/L for 10 months"
    fast = false                          # runs in under ~5 s once the model is compiled

    [source]
    citation = "Fine2003"                 # a key of ckdmbd.citations.CITATIONS
    authors = "Fine A, Penner B"
    year = 2003
    journal = "ASAIO J 49:111-114"
    doi = "10.1097/..."                   # or pmid = "...", or url = "..."

    [arms.control]
    scenario = "hemodialysis-adherent"    # a built-in scenario, changed by the keys below
    duration = "10 months"
    [arms.treated]
    scenario = "hemodialysis-adherent"
    duration = "10 months"
    [[arms.treated.events]]               # added to the scenario's events (kept in time order)
    type = "hemodialysis"
    time = "0 days"
    dialysate_calcium = "1.75 mmol/L"

    [[checks]]
    name = "PTH, treated / control"
    metric = "ratio"
    args.numerator = { metric = "sessions", arm = "treated", column = "pre_pth_pmol_L", last = 12 }
    args.denominator = { metric = "sessions", arm = "control", column = "pre_pth_pmol_L", last = 12 }
    unit = "ratio"
    published = { text = "PTH 39.6 -> 16.6 pmol/L", value = 0.42 }
    band = { high = 0.8 }

An arm is either a built-in ``scenario`` with changes (``duration``, ``output_interval``, ``patient`` fields that
replace the scenario's, ``events`` that are added, ``remove_events`` = event types to drop) or a complete
``inline`` scenario table (``[arms.X.inline.scenario]``, ``[[arms.X.inline.events]]``...). The arm is built by
editing the parsed TOML document and handing it to :func:`ckdmbd.scenario.parse_scenario`, so it is checked exactly
like a scenario file; a scenario error (an event type this version does not know) is reported when the case runs.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ckdmbd.citations import CITATIONS

CASES_PACKAGE = "ckdmbd.validation.cases"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


class CaseError(ValueError):
    """A case file is malformed; the message names the file, the field and the value."""


@dataclass(frozen=True)
class Source:
    citation: str
    authors: str
    year: int
    journal: str
    identifier: str
    """``doi:...``, ``PMID ...`` or a URL."""

    @property
    def short(self) -> str:
        first = self.authors.split(",")[0].strip()
        return f"{first} {self.year}"


@dataclass(frozen=True)
class Published:
    text: str
    value: float | None = None
    sd: float | None = None
    low: float | None = None
    high: float | None = None

    def spread(self) -> tuple[float, float] | None:
        """The published spread as (low, high): mean ± SD, or the range."""
        if self.low is not None and self.high is not None:
            return self.low, self.high
        if self.value is not None and self.sd is not None:
            return self.value - self.sd, self.value + self.sd
        return None


@dataclass(frozen=True)
class Band:
    low: float | None = None
    high: float | None = None
    exclusive: bool = False
    """Open interval: the bound itself is outside (``high = 1, exclusive = true`` reads "below 1")."""

    def contains(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.exclusive:
            return (self.low is None or value > self.low) and (self.high is None or value < self.high)
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def text(self, fmt=lambda v: f"{v:.4g}") -> str:
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            return f"{fmt(lo)} to {fmt(hi)}" + (" (open)" if self.exclusive else "")
        if lo is not None:
            return f"{'>' if self.exclusive else '≥'} {fmt(lo)}"
        return f"{'<' if self.exclusive else '≤'} {fmt(hi)}"


@dataclass(frozen=True)
class Check:
    name: str
    metric: str
    args: dict
    unit: str
    published: Published
    band: Band
    note: str = ""


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    description: str
    source: Source
    arms: dict[str, dict]
    """Arm name -> the arm's table as written in the file (built into a scenario when the case runs)."""
    checks: tuple[Check, ...]
    fast: bool
    path: str


def _fail(where: str, message: str) -> CaseError:
    return CaseError(f"{where}: {message}")


def _fields(table: Any, where: str, required: set[str], optional: set[str]) -> dict:
    if not isinstance(table, dict):
        raise _fail(where, f"expected a table, got {table!r:.60}")
    missing = sorted(required - table.keys())
    if missing:
        raise _fail(f"{where}.{missing[0]}", "missing; this field is required")
    unknown = sorted(table.keys() - required - optional)
    if unknown:
        raise _fail(f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(required | optional))})")
    return table


def _text(table: dict, key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise _fail(f"{where}.{key}", f"{value!r} must be a non-empty text")
    return value


def _number(table: dict, key: str, where: str) -> float | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(f"{where}.{key}", f"{value!r} must be a finite number")
    return float(value)


def _source(raw: Any, where: str) -> Source:
    _fields(raw, where, {"citation", "authors", "year", "journal"},
            {"doi", "pmid", "url", "document", "title"})
    key = _text(raw, "citation", where)
    if key not in CITATIONS:
        raise _fail(f"{where}.citation", f"{key!r} is not a key of ckdmbd.citations.CITATIONS")
    year = raw["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
        raise _fail(f"{where}.year", f"{year!r} must be a year such as 2004")
    if "doi" in raw:
        identifier = f"doi:{_text(raw, 'doi', where)}"
    elif "pmid" in raw:
        identifier = f"PMID {_text(raw, 'pmid', where)}"
    elif "url" in raw:
        identifier = _text(raw, "url", where)
    elif "document" in raw:  # an unpublished or local document (the seed case report), or "invariant"
        identifier = _text(raw, "document", where)
    else:
        raise _fail(where, "a source needs a doi, a pmid, a url or a document")
    return Source(key, _text(raw, "authors", where), year, _text(raw, "journal", where), identifier)


_ARM_KEYS = {"scenario", "inline", "duration", "output_interval", "patient", "events", "remove_events"}


def _arm(raw: Any, where: str) -> dict:
    _fields(raw, where, set(), _ARM_KEYS)
    if ("scenario" in raw) == ("inline" in raw):
        raise _fail(where, "an arm needs exactly one of scenario (a built-in name) or inline (a scenario table)")
    if "inline" in raw:
        extra = sorted(raw.keys() - {"inline"})
        if extra:
            raise _fail(f"{where}.{extra[0]}", "an inline arm is a complete scenario: change it inside inline")
        if not isinstance(raw["inline"], dict):
            raise _fail(f"{where}.inline", "must be a scenario table ([arms.NAME.inline.scenario] ...)")
    else:
        from ckdmbd.scenario import builtin_names

        name = raw["scenario"]
        if name not in builtin_names():
            raise _fail(f"{where}.scenario", f"{name!r} is not a built-in scenario ({', '.join(builtin_names())})")
    if "patient" in raw and not isinstance(raw["patient"], dict):
        raise _fail(f"{where}.patient", "must be a table of patient fields")
    events = raw.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise _fail(f"{where}.events", "must be an array of event tables ([[arms.NAME.events]])")
    for k, ev in enumerate(events):
        if "type" not in ev or "time" not in ev:
            raise _fail(f"{where}.events[{k}]", "an event needs a type and a time")
    removed = raw.get("remove_events", [])
    if not isinstance(removed, list) or not all(isinstance(t, str) for t in removed):
        raise _fail(f"{where}.remove_events", "must be a list of event types")
    return raw


def _check(raw: Any, where: str, arms: set[str]) -> Check:
    from ckdmbd.validation.metrics import validate_spec

    _fields(raw, where, {"name", "metric", "unit", "published", "band"}, {"args", "note"})
    args = raw.get("args", {})
    if not isinstance(args, dict):
        raise _fail(f"{where}.args", "must be a table of the metric's arguments")
    try:
        validate_spec({"metric": raw["metric"], **args}, arms)
    except ValueError as exc:
        raise _fail(f"{where}", str(exc)) from None
    pub = _fields(raw["published"], f"{where}.published", {"text"}, {"value", "sd", "low", "high"})
    published = Published(_text(pub, "text", f"{where}.published"),
                          *(_number(pub, k, f"{where}.published") for k in ("value", "sd", "low", "high")))
    band_raw = _fields(raw["band"], f"{where}.band", set(), {"low", "high", "exclusive"})
    low, high = _number(band_raw, "low", f"{where}.band"), _number(band_raw, "high", f"{where}.band")
    if low is None and high is None:
        raise _fail(f"{where}.band", "needs low and/or high")
    if low is not None and high is not None and low > high:
        raise _fail(f"{where}.band", f"low {low} is above high {high}")
    exclusive = band_raw.get("exclusive", False)
    if not isinstance(exclusive, bool):
        raise _fail(f"{where}.band.exclusive", f"{exclusive!r} must be true or false")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise _fail(f"{where}.note", f"{note!r} must be a text")
    return Check(_text(raw, "name", where), raw["metric"], args, _text(raw, "unit", where), published,
                 Band(low, high, exclusive), note)


def parse_case(text: str, source: str) -> Case:
    """Validate a case document; every error is a :class:`CaseError` naming the file and the field."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{source}: not a valid TOML file ({exc})") from None
    try:
        _fields(doc, "case file", {"case", "source", "arms", "checks"}, set())
        head = _fields(doc["case"], "case", {"name", "title"}, {"description", "fast"})
        name = _text(head, "name", "case")
        if not _NAME.fullmatch(name):
            raise _fail("case.name", f"{name!r} must be lower-case letters, digits and '-'")
        fast = head.get("fast", False)
        if not isinstance(fast, bool):
            raise _fail("case.fast", f"{fast!r} must be true or false")
        src = _source(doc["source"], "source")
        if not isinstance(doc["arms"], dict) or not doc["arms"]:
            raise _fail("arms", "needs at least one arm ([arms.NAME])")
        arms = {arm: _arm(raw, f"arms.{arm}") for arm, raw in doc["arms"].items()}
        raw_checks = doc["checks"]
        if not isinstance(raw_checks, list) or not raw_checks:
            raise _fail("checks", "needs at least one check ([[checks]])")
        checks = tuple(_check(raw, f"checks[{k}]", set(arms)) for k, raw in enumerate(raw_checks))
    except CaseError as exc:
        raise CaseError(f"{source}: {exc}") from None
    return Case(name, _text(head, "title", "case"), head.get("description", ""), src, arms, checks, fast, source)


def case_names() -> list[str]:
    """Names of the shipped cases (file names without ``.toml``), sorted."""
    return sorted(p.name[:-5] for p in resources.files(CASES_PACKAGE).iterdir() if p.name.endswith(".toml"))


def load_case(name_or_path: str | Path) -> Case:
    text_name = str(name_or_path)
    if text_name in case_names():
        res = resources.files(CASES_PACKAGE).joinpath(f"{text_name}.toml")
        case = parse_case(res.read_text(encoding="utf-8"), f"{text_name}.toml")
        if case.name != text_name:
            raise CaseError(f"{text_name}.toml: case.name {case.name!r} must equal the file name")
        return case
    path = Path(name_or_path)
    if not path.is_file():
        raise CaseError(f"no validation case named {text_name!r} (cases: {', '.join(case_names())})")
    return parse_case(path.read_text(encoding="utf-8"), str(path))


def load_cases(names: list[str] | None = None) -> list[Case]:
    return [load_case(n) for n in (names if names is not None else case_names())]


# --- arms as scenarios ----------------------------------------------------------------------------------------------

def arm_document(case: Case, arm: str) -> dict:
    """The scenario document (a parsed-TOML dict) of ``arm``: the built-in scenario edited as the arm says."""
    raw = case.arms[arm]
    if "inline" in raw:
        doc = copy.deepcopy(raw["inline"])
    else:
        from ckdmbd.scenario import scenario_text

        doc = tomllib.loads(scenario_text(raw["scenario"]))
        head = doc["scenario"]
        for key in ("duration", "output_interval"):
            if key in raw:
                head[key] = raw[key]
        if "patient" in raw:
            doc.setdefault("patient", {}).update(copy.deepcopy(raw["patient"]))
        events = [e for e in doc.get("events", []) if e.get("type") not in set(raw.get("remove_events", []))]
        events += copy.deepcopy(raw.get("events", []))
        doc["events"] = sorted(events, key=lambda e: _event_time_h(e, f"{case.path}: arms.{arm}.events"))
        doc.pop("observations", None)
    head = doc.setdefault("scenario", {})
    head["name"] = f"{case.name}-{arm}"
    head["description"] = f"validation case {case.name}, arm {arm}: {case.title}"
    return doc


def _event_time_h(event: dict, where: str) -> float:
    from ckdmbd.scenario import ScenarioError, parse_quantity

    try:
        return parse_quantity(event.get("time"), "h", f"{where}.time", allow_negative=True)
    except ScenarioError as exc:
        raise CaseError(str(exc)) from None


def arm_scenario(case: Case, arm: str):
    """``arm`` as a checked :class:`ckdmbd.scenario.Scenario` (raises ScenarioError like a scenario file)."""
    from ckdmbd.scenario import parse_scenario

    return parse_scenario(dump_toml(arm_document(case, arm)), f"{case.name}.toml [arms.{arm}]")


def dump_toml(doc: dict) -> str:
    """``doc`` as TOML text that ``tomllib.loads`` reads back to an equal dict (tomlkit writes nested tables and
    lists of tables as TOML tables and arrays of tables)."""
    import tomlkit

    return tomlkit.dumps(doc)


@dataclass
class ArmRun:
    """A simulated arm: its scenario, the time series and (on dialysis) the session table."""

    scenario: Any
    frame: Any
    _sessions: Any = field(default=None, repr=False)

    @property
    def sessions(self):
        if self._sessions is None:
            from ckdmbd.sessions import session_table

            self._sessions = session_table(self.frame, self.scenario.events)
        return self._sessions
