"""The what-if page's scenarios (:mod:`ckdmbd.app`): built-in or uploaded, and their dated events moved.

A scenario the page works on is kept as its flat TOML document (``extends`` resolved, :func:`ckdmbd.compose.resolve`)
beside the parsed :class:`ckdmbd.scenario.Scenario`. Why the document: a what-if that moves one of the scenario's own
events (the graft excision of the seed case, a transplant, a drug's start) or adds a cinacalcet prescription is the
document with that event's ``time`` changed (or an event added), parsed again by :func:`ckdmbd.scenario.parse_scenario`.
So every rule the file format has (events in time order, a dialysis schedule ended by a transplant, a prescription
closed by the next of its kind, an event not after the end of the run) holds for the moved event exactly as for one
written in a file, and the error, if any, is the parser's one line.

An uploaded file is read as data only, as ``ckdmbd run FILE`` reads a file: the same size limit
(:data:`ckdmbd.scenario.MAX_FILE_BYTES`), UTF-8, and the same one-line messages; it may extend a built-in scenario,
not a file of this machine (a path in ``extends`` would make the server read its own disk). It is kept in memory
(:data:`KEPT_UPLOADS`, the latest first), never written, and named by a hash of its text, so that the same file
uploaded twice is the same scenario (and finds its kept history, :mod:`ckdmbd.app_history`).
"""

from __future__ import annotations

import copy
import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from typing import Any

from ckdmbd.units import HOURS_PER_DAY

KEPT_UPLOADS = 8  # assumed: a user tries a few files at a time; each is a small document and one Scenario
UPLOAD_PREFIX = "upload-"


@dataclass(frozen=True)
class AppScenario:
    """A scenario the page can run: its key (a built-in name or ``upload-<hash>``), what the page calls it, its
    flat document, the event names (None where unnamed) of that document's events, and the parsed scenario."""

    key: str
    label: str
    doc: dict
    names: tuple[str | None, ...]
    scenario: Any  # ckdmbd.scenario.Scenario

    def event_ids(self) -> list[str]:
        """Each event's id for the page and the API: its name, or ``events[k]`` (its place in the flat document)."""
        return [name if name is not None else f"events[{k}]" for k, name in enumerate(self.names)]


def _flat(text: str, source: str) -> tuple[dict, tuple[str | None, ...]]:
    """The resolved document of a text ``parse_scenario`` has accepted, with its event names."""
    import tomllib

    from ckdmbd.compose import resolve_with_names  # the page shows and moves events by name

    flat, names = resolve_with_names(tomllib.loads(text), source)
    return flat, tuple(names)


@cache
def builtin(name: str) -> AppScenario:
    """A built-in scenario (callers must not change its document)."""
    from ckdmbd.scenario import parse_scenario, scenario_text

    text = scenario_text(name)
    sc = parse_scenario(text, f"{name}.toml")
    doc, names = _flat(text, f"{name}.toml")
    return AppScenario(name, name, doc, names, sc)


_uploads: OrderedDict[str, AppScenario] = OrderedDict()
_lock = threading.Lock()


def uploaded(key: str) -> AppScenario | None:
    with _lock:
        entry = _uploads.get(key)
        if entry is not None:
            _uploads.move_to_end(key)
        return entry


def too_large(name: str):
    """The refusal of a file over the limit, in ``ckdmbd run``'s words (:func:`ckdmbd.scenario.load_scenario`)."""
    from ckdmbd.scenario import MAX_FILE_BYTES, ScenarioError

    return ScenarioError(f"cannot read scenario file {name!r}: larger than {MAX_FILE_BYTES} bytes, too large for a "
                         f"scenario file")


def read_upload(body: bytes, name: str) -> AppScenario:
    """An uploaded scenario file's bytes as a kept scenario, or :class:`ckdmbd.scenario.ScenarioError` with the
    message ``ckdmbd run`` gives for the same file (the file named ``name``)."""
    import tomllib

    from ckdmbd.scenario import MAX_FILE_BYTES, ScenarioError, builtin_names, parse_scenario

    if len(body) > MAX_FILE_BYTES:
        raise too_large(name)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"cannot read scenario file {name!r}: not UTF-8 text (is it a TOML file?)") from None
    try:
        head = tomllib.loads(text).get("scenario")
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        head = None  # parse_scenario below says what is wrong, in its words
    parent = head.get("extends") if isinstance(head, dict) else None
    if isinstance(parent, str) and parent not in builtin_names():
        raise ScenarioError(f"scenario.extends: {parent[:80]!r}: an uploaded scenario can extend a built-in scenario "
                            f"only, not a file ({', '.join(builtin_names())})")
    sc = parse_scenario(text, name)
    doc, names = _flat(text, name)
    key = UPLOAD_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    entry = AppScenario(key, f"{sc.name} (uploaded {name})", doc, names, sc)
    with _lock:
        _uploads[key] = entry
        _uploads.move_to_end(key)
        while len(_uploads) > KEPT_UPLOADS:
            _uploads.popitem(last=False)
    return entry


def _start_h(raw: Any) -> float:
    from ckdmbd.scenario import ScenarioError, parse_quantity

    try:
        return parse_quantity(raw["time"], "h", "events.time", allow_negative=True)
    except (ScenarioError, KeyError, TypeError):
        return math.inf


def movable_events(entry: AppScenario) -> list[dict[str, Any]]:
    """The scenario's own events from t = 0 on (surgery, a transplant, a drug's start, a diet or adherence change):
    id, type, the day it happens as written, and a label. Earlier events are the history, the same for every
    what-if (moving one would be another history)."""
    rows = []
    for ident, raw in zip(entry.event_ids(), entry.doc.get("events", []), strict=True):
        start = _start_h(raw)
        if 0.0 <= start < math.inf:
            kind = str(raw.get("type", "event"))
            label = kind.replace("_", " ")
            if not ident.startswith("events[") and ident.replace("-", " ") != label:
                label += f" ({ident})"
            rows.append({"id": ident, "type": kind, "day": round(start / HOURS_PER_DAY, 6), "label": label})
    return rows


def variant(entry: AppScenario, event_days: dict[str, float], duration: str,
            cinacalcet: tuple[float, float] | None = None):
    """The scenario with the events of ``event_days`` (id -> day, >= 0) moved there and, with ``cinacalcet``
    ((mg/day, from day)), oral cinacalcet added, run for at least ``duration`` (the document's own duration when
    longer): the document changed and parsed again (see the module). Ids must be those of
    :func:`movable_events`; a :class:`ckdmbd.scenario.ScenarioError` is the parser's message."""
    from ckdmbd.scenario import parse_quantity, parse_scenario

    doc = copy.deepcopy(entry.doc)
    events = doc.setdefault("events", [])
    ids = entry.event_ids()
    for ident, day in event_days.items():
        events[ids.index(ident)]["time"] = f"{float(day)!r} days"
    if cinacalcet is not None:
        dose, day = cinacalcet
        events.append({"type": "cinacalcet", "time": f"{float(day)!r} days", "dose": f"{dose:g} mg/day"})
    events.sort(key=_start_h)  # stable: an event moved onto another's day goes after those before it in the file
    own = doc["scenario"]["duration"]
    if parse_quantity(duration, "h", "months") > parse_quantity(own, "h", "scenario.duration"):
        doc["scenario"]["duration"] = duration  # an event may be moved up to the end of the longer run
    return parse_scenario(to_toml(doc), entry.scenario.source)


def to_toml(doc: dict) -> str:
    """``doc`` (as :func:`tomllib.loads` gives it) back as TOML text that reads back as ``doc`` (tomlkit: tables as
    ``[table]``, lists of tables as ``[[table]]``)."""
    import tomlkit

    return tomlkit.dumps(doc)
