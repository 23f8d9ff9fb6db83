"""Scenarios that compose (issue 12): ``extends`` another scenario, events named, replaced and removed by name,
and a ``[parameters]`` table of readable names with units.

::

    [scenario]
    name = "seed-case-adherent"
    extends = "seed-case"              # a built-in name, or a file path relative to this file
    description = "..."                # every [scenario] field not given is the parent's (name must be given)
    remove_events = ["binder-lapse"]   # drop the parent's events of these names
    inherit_observations = false       # default true: the parent's [[observations]] are kept

    [parameters]                       # readable names (``ckdmbd parameters``) or symbols
    phosphate_mobilisation_clearance = "99 mL/min"
    dietary_phosphate_absorbable_fraction = 0.6   # a bare number is in the unit `ckdmbd parameters` shows

    [[events]]
    name = "binder-lapse-diet"         # the parent's event of this name is replaced; a new name adds an event
    type = "diet"
    time = "1 month"
    phosphorus = "1200 mg/day"

The child is resolved into one flat scenario document before it is validated, so a child and the equivalent flat
file give the same :class:`ckdmbd.scenario.Scenario`. Rules: ``[scenario]``, ``[patient]`` and ``[parameters]``
merge key by key (the child's value wins; a child's ``interdialytic_weight_gain`` replaces the parent's
``net_fluid_intake`` and vice versa); events are the parent's, with a same-named child event in the place of the
parent's, then the child's new events, ordered by start time (a new event goes after the parent's at the same time);
``[[calcification_sites]]`` merge by site name; the child's ``[[observations]]`` are added to the parent's. At most
:data:`MAX_DEPTH` levels; a cycle is refused. ``[parameters]`` values are converted to model units and applied for
the whole run, history included, after ``[patient]`` (so they win over it).
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

MAX_DEPTH = 8
"""Most levels of ``extends`` above a scenario (a deeper chain is an error, not a slow parse)."""
COMPOSE_FIELDS = ("extends", "remove_events", "inherit_observations")
"""Fields of ``[scenario]`` that only compose; they are gone from the resolved document."""
_EXCLUSIVE_PATIENT = (("interdialytic_weight_gain", "net_fluid_intake"),)

# The parents being resolved above the scenario now parsed (cycle and depth checks across the nested parses).
_CHAIN: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("ckdmbd_extends_chain", default=())


def _error(message: str):
    from ckdmbd.scenario import ScenarioError

    return ScenarioError(message)


def resolve(doc: dict, source: str) -> dict:
    """``doc`` (a parsed scenario TOML) as one flat document: its parent merged in, event names and the compose
    fields removed. A document without ``extends`` only loses its event names."""
    flat, _names = resolve_with_names(doc, source)
    return flat


def resolve_with_names(doc: Any, source: str) -> tuple[Any, list[str | None]]:
    """As :func:`resolve`, and the name of each event of the flat document (None where it has none), in order:
    for callers that show or move events by name (the what-if page)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("scenario"), dict):
        return doc, []  # not a scenario document: parse_scenario reports what is missing
    head = dict(doc["scenario"])
    compose = {key: head.pop(key) for key in COMPOSE_FIELDS if key in head}
    names, events = _named_events(doc.get("events", []))
    out = {**doc, "scenario": head}
    if "events" in doc:
        out["events"] = events
    if "extends" not in compose:
        for key in compose:
            raise _error(f"scenario.{key}: only a scenario that extends another can use {key} "
                         f"(add extends = \"PARENT\")")
        return out, names
    if "name" not in head:
        raise _error("scenario.name: missing; a scenario that extends another needs a name of its own")
    parent, parent_names = _parent(compose["extends"], source)
    return _merge(parent, parent_names, out, names, compose)


def _named_events(raw_events: Any) -> tuple[list[str | None], Any]:
    """Event names (None where unnamed) and the events without them; names must be unique non-empty texts."""
    if not isinstance(raw_events, list):
        return [], raw_events  # parse_scenario reports it
    names: list[str | None] = []
    events = []
    for k, raw in enumerate(raw_events):
        if not isinstance(raw, dict) or "name" not in raw:
            names.append(None)
            events.append(raw)
            continue
        name = raw["name"]
        if not isinstance(name, str) or not name.strip():
            raise _error(f"events[{k}].name: {name!r} must be a non-empty text")
        if name in names:
            raise _error(f"events[{k}].name: {name!r} is the name of an earlier event; event names must be unique")
        names.append(name)
        events.append({key: value for key, value in raw.items() if key != "name"})
    return names, events


def _parent(ref: Any, source: str) -> tuple[dict, list[str | None]]:
    """The resolved parent document named by ``extends`` (and its event names), validated as a scenario of its
    own so that an error in it names it."""
    from ckdmbd.scenario import BUILTIN_PACKAGE, ScenarioError, builtin_names, parse_scenario

    if not isinstance(ref, str) or not ref.strip():
        raise _error(f"scenario.extends: {ref!r} must be the name of a built-in scenario or a file path")
    if ref in builtin_names():
        identity, parent_source = f"built-in {ref}", f"{ref}.toml"
        text = resources.files(BUILTIN_PACKAGE).joinpath(parent_source).read_text(encoding="utf-8")
    else:
        here = Path(source)
        path = ((here.parent if here.is_file() else Path.cwd()) / ref).resolve()
        identity = parent_source = str(path)
        text = _read(path, ref)
    chain = _CHAIN.get()
    if identity in chain:
        loop = " -> ".join([*chain[chain.index(identity):], identity])
        raise _error(f"scenario.extends: {ref!r} extends itself through a cycle ({loop})")
    if len(chain) >= MAX_DEPTH:
        raise _error(f"scenario.extends: {ref!r} is more than {MAX_DEPTH} levels of extends deep")
    import tomllib

    with _inside(identity):
        try:
            parse_scenario(text, parent_source)
        except ScenarioError as exc:
            message = str(exc)
            if message.startswith("scenario.extends:") and (" cycle " in message or " levels " in message):
                raise
            raise _error(f"scenario.extends: the parent {ref!r} is not a valid scenario: {message}") from None
        return resolve_with_names(tomllib.loads(text), parent_source)


@contextmanager
def _inside(identity: str) -> Iterator[None]:
    token = _CHAIN.set((*_CHAIN.get(), identity))
    try:
        yield
    finally:
        _CHAIN.reset(token)


def _read(path: Path, ref: str) -> str:
    from ckdmbd.scenario import MAX_FILE_BYTES, builtin_names

    if not path.is_file():
        raise _error(f"scenario.extends: {ref!r} is neither a built-in scenario nor a file (looked for {path}; "
                     f"built-ins: {', '.join(builtin_names())})")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise _error(f"scenario.extends: {ref!r} is larger than {MAX_FILE_BYTES} bytes, too large for a "
                         f"scenario file")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _error(f"scenario.extends: {ref!r} is not UTF-8 text") from None
    except OSError as exc:
        raise _error(f"scenario.extends: cannot read {ref!r}: {exc.strerror or exc.__class__.__name__}") from None


def _table(doc: dict, key: str, default: Any) -> Any:
    value = doc.get(key, default)
    if not isinstance(value, type(default)):
        kind = "a table" if isinstance(default, dict) else "an array of tables"
        raise _error(f"{key}: expected {kind} ([{key}]), got a {type(value).__name__}")
    return value


def _merge(parent: dict, parent_names: list[str | None], child: dict, child_names: list[str | None],
           compose: dict) -> tuple[dict, list[str | None]]:
    out: dict[str, Any] = {**parent, "scenario": {**parent["scenario"], **child["scenario"]}}
    patient = dict(_table(parent, "patient", {}))
    child_patient = _table(child, "patient", {})
    for group in _EXCLUSIVE_PATIENT:
        if any(key in child_patient for key in group):
            for key in group:
                patient.pop(key, None)
    patient.update(child_patient)
    if patient:
        out["patient"] = patient
    parameters = _merge_parameters(_table(parent, "parameters", {}), _table(child, "parameters", {}),
                                   out["scenario"].get("configuration", "default"))
    if parameters:
        out["parameters"] = parameters
    events, names = _merge_events(parent.get("events", []), parent_names, _table(child, "events", []),
                                  child_names, compose.get("remove_events", []))
    if events:
        out["events"] = events
    sites = _merge_sites(_table(parent, "calcification_sites", []), _table(child, "calcification_sites", []))
    if sites:
        out["calcification_sites"] = sites
    inherit = compose.get("inherit_observations", True)
    if not isinstance(inherit, bool):
        raise _error(f"scenario.inherit_observations: {inherit!r} must be true or false")
    observations = [*(parent.get("observations", []) if inherit else []), *_table(child, "observations", [])]
    out.pop("observations", None)
    if observations:
        out["observations"] = observations
    for key in child.keys() - out.keys():  # anything else (unknown tables): parse_scenario names it
        out[key] = child[key]
    return out, names


def _merge_parameters(parent: dict, child: dict, configuration: Any) -> dict:
    """Key-by-key; a child entry replaces the parent's for the same parameter, by readable name or symbol."""
    from ckdmbd.parameter_names import ParameterNameError, lookup

    def symbol(key: str) -> str:
        try:
            return lookup(key, configuration).symbol
        except (ParameterNameError, ValueError):  # unknown name or configuration: reported when applied
            return key

    replaced = {symbol(key) for key in child}
    return {**{k: v for k, v in parent.items() if symbol(k) not in replaced}, **child}


def _merge_events(parent: list, parent_names: list[str | None], child: list, child_names: list[str | None],
                  remove: Any) -> tuple[list, list[str | None]]:
    from ckdmbd.scenario import ScenarioError, _event, parse_quantity

    if not isinstance(remove, list) or not all(isinstance(n, str) for n in remove):
        raise _error(f"scenario.remove_events: {remove!r} must be a list of event names")
    known = [n for n in parent_names if n is not None]
    for name in remove:
        if name not in known:
            raise _error(f"scenario.remove_events: the parent has no event named {name!r} "
                         f"(named events: {', '.join(known) or 'none'})")
    for k, raw in enumerate(child):  # each child event checked on its own, so that errors give its own index
        _event(raw, f"events[{k}]")
    replacing = {name: k for k, name in enumerate(child_names) if name is not None and name in known}
    for name in replacing:
        if name in remove:
            raise _error(f"scenario.remove_events: {name!r} is both removed and replaced by an event of the child")
    rows: list[tuple[dict, str | None]] = []
    for raw, name in zip(parent, parent_names, strict=True):
        if name in remove:
            continue
        rows.append((child[replacing[name]], name) if name in replacing else (raw, name))
    rows += [(raw, name) for raw, name in zip(child, child_names, strict=True) if name not in replacing]

    def start(row: tuple[dict, str | None]) -> float:
        try:
            return parse_quantity(row[0]["time"], "h", "events.time", allow_negative=True)
        except ScenarioError:
            return math.inf

    rows.sort(key=start)  # stable: the parent's order among equal times, new events after the parent's
    return [raw for raw, _ in rows], [name for _, name in rows]


def _merge_sites(parent: list, child: list) -> list:
    """A child's site replaces the parent's of the same name; other child sites are added."""
    def name(site: Any) -> Any:
        return site.get("name") if isinstance(site, dict) else None

    by_name = {name(s): s for s in child if name(s) is not None}
    kept = [by_name.pop(name(s)) if name(s) in by_name else s for s in parent]
    return [*kept, *(s for s in child if name(s) is None or name(s) in by_name)]


def parameter_overrides(doc: dict, configuration: str) -> dict[str, float]:
    """The ``[parameters]`` table of a resolved document in model units ({symbol: value})."""
    from ckdmbd.parameter_names import ParameterNameError, to_model_values

    table = doc.get("parameters", {})
    if not table:
        return {}
    try:
        return to_model_values(table, configuration, "parameters")
    except ParameterNameError as exc:
        raise _error(str(exc)) from None
