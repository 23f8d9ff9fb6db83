"""``ckdmbd app``: an interactive what-if page for dialysis patients, served from this machine (issue 14).

A nephrologist picks a built-in dialysis scenario (the seed case and its what-ifs among them), moves the patient's
diet, binder adherence, dialyzer clearance or dialysate calcium, and presses Run: the page asks this process to
simulate, and plots the pre-dialysis phosphate, calcium and PTH of every session (and the soft-tissue deposit where
the scenario declares a site) against the scenario as written, with a table of the last four weeks. Nothing leaves
the machine: the server listens on 127.0.0.1 by default, the page embeds plotly.js and requests only its own
server.

Why a server rather than a static page: a what-if the page has not pre-computed must be simulated, and the model is
Python. The changes are readable parameter names with units, as a population's sampled values
(:mod:`ckdmbd.population`), but they act from t = 0 on ("what if, from now on, ..."): set at t = 0 and held to the
end, so that the scenario's own later events do not reset them, while the simulated history before t = 0 is the
scenario's. That history is the same for every what-if, so it runs once and its end is kept
(:mod:`ckdmbd.app_history`); a what-if then costs only its own months (the seed case: 30 months, not 12 years).

API (JSON): ``GET /api/scenarios`` lists the scenarios and the adjustable parameters with their defaults and units;
``POST /api/simulate`` with ``{"scenario": NAME, "changes": {name: "value unit"}, "months": M, "cinacalcet": mg/day,
"cinacalcet_day": D}`` (the added cinacalcet starts on day D, default 0: an event of the timeline moved) returns the
sessions of the changed and the unchanged run, or ``{"error": "one line naming the field"}`` with status 400.
``POST /api/labs?name=FILE[&start_date=YYYY-MM-DD]`` with a lab CSV as the body (the format ``ckdmbd labs check`` and
``ckdmbd fit`` read, :mod:`ckdmbd.labs.io_csv`, at most :data:`MAX_LAB_BYTES`) returns the calcium, phosphate and PTH
results placed on the scenario's days (``start_date``: the date of t = 0; without it the first sample's date is day
0, as ``ckdmbd fit`` does by default), or the reader's one-line error with status 400. The upload is parsed as data
only (never run, never stored).

``POST /api/scenario?name=FILE`` with a scenario TOML file as the body (:mod:`ckdmbd.app_scenario`: parsed as
``ckdmbd run FILE`` parses it, at most :data:`ckdmbd.scenario.MAX_FILE_BYTES`) keeps it in memory and answers its
entry as ``/api/scenarios`` lists a built-in one (``name`` is its key, ``upload-<hash>``, for ``/api/simulate``), its
history simulated in the background; a bad file is the CLI's one line with status 400. Every entry lists the
scenario's ``events`` from t = 0 on (id, type, day); ``"event_days": {id: day}`` in a simulate request moves them
(days in [0, end of the run)), the history kept, since it ends before any of them.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from ckdmbd.protocol import Hemodialysis
from ckdmbd.units import DAYS_PER_MONTH, HOURS_PER_DAY

ADJUSTABLE = {
    # readable parameter name -> (label on the page, slider low, high, step) in the unit `ckdmbd parameters` shows.
    # The ranges are what a user may try, wider than the parameters' plausible ranges (parameters/ranges.toml, which
    # warns outside them); "field notes" are /work/shared/notes as cited there, not re-read from the papers.
    # mg/day. assumed: from about 3 SD below the 982 +- 192 mg/day of a Japanese haemodialysis cohort
    # (field-dialysis-pth-fgf23.md) to well above the typical ~1.2 g/day intake (Kalantar-Zadeh 2010, CJASN 5:519,
    # field-chemistry-binders-labs.md), so that a diet rich in phosphate additives can be tried.
    "dietary_phosphorus": ("dietary phosphorus", 400.0, 2000.0, 50.0),
    # mg/day. assumed: a low intake (300 mg/day) up to KDOQI 2003's 2,000 mg/day cap on total elemental calcium,
    # around the ~1,000 mg/day of neutral calcium balance in CKD (Hill Gallant & Spiegel 2017; both field notes,
    # field-chemistry-binders-labs.md).
    "dietary_calcium": ("dietary calcium", 300.0, 2000.0, 50.0),
    # fraction of prescribed binder doses taken: its whole range (limits [0, 1] in parameters/ranges.toml); 22-74 %
    # of patients are non-adherent (BMC Nephrol 2008;9:2, field notes). The step is assumed (5 % of doses).
    "binder_adherence": ("phosphate binder adherence", 0.0, 1.0, 0.05),
    # mL/min. Around high-flux HD's 160 +- 14 mL/min (BloodPurif2013HDF) and the 154-194 mL/min the counter-current
    # formula gives for blood flows of 300-400 mL/min (field-dialysis-pth-fgf23.md). assumed: 80 mL/min for a small
    # or low-flux dialyzer and 250 mL/min above any of these, so that both directions can be tried.
    "dialyzer_phosphate_clearance": ("dialyzer phosphate clearance", 80.0, 250.0, 5.0),
    # mmol/L. 1.25 / 1.5 / 1.75 mmol/L in use (KDIGO2017); 1.0-2.0 assumed as the extremes ever prescribed, as in
    # parameters/ranges.toml.
    "dialysate_calcium_mM": ("dialysate calcium", 1.0, 2.0, 0.05),
}
MAX_CINACALCET_MG_DAY = 180.0  # the label's highest daily dose, titrated up from 30 mg once daily (SensiparLabel)
COLUMNS = ("pre_phosphate_mmol_L", "pre_calcium_mmol_L", "pre_pth_pmol_L", "deposit_mass_g")
MAX_MONTHS = 36.0  # assumed: a what-if over up to 3 years (the page waits for the answer; longer runs: `ckdmbd run`)
MAX_BODY_BYTES = 10_000  # assumed: a request is a few hundred bytes of JSON; a larger one is refused unread
MAX_LAB_BYTES = 1_000_000  # assumed: ~20,000 results of a long lab CSV (50 bytes a row), decades of monthly labs
LAB_PANELS = {  # analyte of the lab series (canonical unit) -> the page's panel (the same unit)
    "calcium": "pre_calcium_mmol_L", "phosphate": "pre_phosphate_mmol_L", "pth": "pre_pth_pmol_L"}


class WhatIfError(ValueError):
    """A malformed what-if request; the message names the field and the value (one line)."""


@cache
def dialysis_scenarios() -> tuple[str, ...]:
    """Built-in scenarios with haemodialysis sessions (the page shows pre-dialysis values)."""
    from ckdmbd.scenario import builtin_names, load_scenario

    names = []
    for name in builtin_names():
        if any(isinstance(ev, Hemodialysis) for ev in load_scenario(name).events):
            names.append(name)
    return tuple(names)


def app_scenario(key: str):
    """The page's scenario of this key (a built-in dialysis scenario's name or an upload's key), or None."""
    from ckdmbd import app_scenario as scenarios

    if key in dialysis_scenarios():
        return scenarios.builtin(key)
    if isinstance(key, str) and key.startswith(scenarios.UPLOAD_PREFIX):
        return scenarios.uploaded(key)
    return None


def adjustable_parameters(scenario: str) -> list[dict[str, Any]]:
    """The sliders: name, label, unit, range and the scenario's own value (its [patient] and [parameters] applied;
    events such as a binder's adherence may still set it during the run)."""
    from ckdmbd.model.configurations import model
    from ckdmbd.parameter_names import lookup
    from ckdmbd.protocol import ScaleParameter, SetParameter
    from ckdmbd.simulation import expand_events

    sc = app_scenario(scenario).scenario
    by_events = {a.name for a in expand_events(sc.events, model(sc.configuration).state_names)
                 if isinstance(a, SetParameter | ScaleParameter)}
    rows = []
    for name, (label, low, high, step) in ADJUSTABLE.items():
        p = lookup(name, sc.configuration, name)
        value = sc.parameter_overrides.get(p.symbol, p.default_model)
        rows.append({"name": name, "label": label, "unit": "" if p.unit == "1" else p.unit, "low": low,
                     "high": high, "step": step, "value": float(f"{p.from_model(value):.6g}"),
                     "set_by_events": p.symbol in by_events})
    return rows


def scenario_months(scenario: str) -> float:
    """The scenario's own duration in months (units.DAYS_PER_MONTH each), at most the page's MAX_MONTHS: the
    page's default."""
    months = app_scenario(scenario).scenario.duration_h / HOURS_PER_DAY / DAYS_PER_MONTH
    return min(round(months, 2), MAX_MONTHS)


def catalogue_entry(scenario: str) -> dict[str, Any]:
    """What the page shows of a scenario: its key and label, default months, sliders and movable events."""
    from ckdmbd.app_scenario import movable_events

    entry = app_scenario(scenario)
    return {"name": scenario, "label": entry.label, "months": scenario_months(scenario),
            "parameters": adjustable_parameters(scenario), "events": movable_events(entry)}


@dataclass(frozen=True)
class WhatIf:
    scenario: str
    overrides: dict[str, float]  # {symbol: model-unit value}
    months: float
    cinacalcet_mg_day: float = 0.0  # an added oral cinacalcet prescription (0: none) ...
    cinacalcet_day: float = 0.0  # ... from this day on (>= 0: after the kept history)
    event_days: tuple[tuple[str, float], ...] = ()  # (event id, day >= 0): the scenario's own events moved


def parse_request(body: Any) -> WhatIf:
    """Validate a simulate request; every error names the field and the value."""
    from ckdmbd.parameter_names import ParameterNameError, to_model_values

    if not isinstance(body, dict):
        raise WhatIfError("request: expected a JSON object with scenario, changes and months")
    unknown = sorted(set(body) - {"scenario", "changes", "months", "cinacalcet", "cinacalcet_day", "event_days"})
    if unknown:
        raise WhatIfError(f"{unknown[0]}: unknown field (allowed: scenario, changes, months, cinacalcet, "
                          f"cinacalcet_day, event_days)")
    scenario = body.get("scenario")
    entry = app_scenario(scenario) if isinstance(scenario, str) else None
    if entry is None:
        from ckdmbd.scenario import show

        raise WhatIfError(f"scenario: {show(scenario)} is not a built-in dialysis scenario "
                          f"({', '.join(dialysis_scenarios())}) or a scenario uploaded to this server")
    months = body.get("months", scenario_months(scenario))
    if isinstance(months, bool) or not isinstance(months, int | float) or not 0 < months <= MAX_MONTHS:
        raise WhatIfError(f"months: {months!r} must be a number in (0, {MAX_MONTHS:g}]")
    changes = body.get("changes", {})
    if not isinstance(changes, dict):
        raise WhatIfError(f"changes: {changes!r} must be an object of parameter name -> value")
    outside = [k for k in changes if k not in ADJUSTABLE]
    if outside:
        raise WhatIfError(f"changes.{outside[0]}: not adjustable here (adjustable: {', '.join(ADJUSTABLE)})")
    try:
        overrides = to_model_values(changes, entry.scenario.configuration, "changes")
    except ParameterNameError as exc:
        raise WhatIfError(str(exc)) from None
    dose = body.get("cinacalcet", 0)
    if isinstance(dose, bool) or not isinstance(dose, int | float) or not 0 <= dose <= MAX_CINACALCET_MG_DAY:
        raise WhatIfError(f"cinacalcet: {dose!r} must be a daily dose in mg from 0 (none) to "
                          f"{MAX_CINACALCET_MG_DAY:g}")
    day = body.get("cinacalcet_day", 0)
    last = float(months) * DAYS_PER_MONTH
    if isinstance(day, bool) or not isinstance(day, int | float) or not 0 <= day < last:
        raise WhatIfError(f"cinacalcet_day: {day!r} must be a day in [0, {last:g}) (the run's {float(months):g} "
                          f"months)")
    return WhatIf(scenario, overrides, float(months), float(dose), float(day),
                  _event_days(entry, body.get("event_days", {}), last, float(months)))


def _event_days(entry, moves: Any, last: float, months: float) -> tuple[tuple[str, float], ...]:
    """The moved events (id, day), each a movable event of the scenario on a day of the run."""
    from ckdmbd.app_scenario import movable_events
    from ckdmbd.scenario import show

    if not isinstance(moves, dict):
        raise WhatIfError(f"event_days: {show(moves)} must be an object of event id -> day")
    movable = {row["id"]: row for row in movable_events(entry)}
    out = []
    for ident, day in moves.items():
        if ident not in movable:
            raise WhatIfError(f"event_days.{show(ident, 42)[1:-1]}: not an event of {entry.scenario.name} "
                              f"from t = 0 on (movable: {', '.join(movable) or 'none'})")
        if isinstance(day, bool) or not isinstance(day, int | float) or not 0 <= day < last:
            raise WhatIfError(f"event_days.{ident}: {show(day)} must be a day in [0, {last:g}) (t = 0 to the end "
                              f"of the run's {months:g} months)")
        if float(day) != movable[ident]["day"]:
            out.append((ident, float(day)))
    return tuple(out)


def simulate_whatif(request: WhatIf) -> dict[str, Any]:
    """The changed and the unchanged run's sessions from t = 0, as lists per column (JSON-ready; NaN as null), and
    the movable events' days as written and in the what-if."""
    from ckdmbd.app_scenario import movable_events, variant
    from ckdmbd.scenario import ScenarioError, with_overrides

    entry = app_scenario(request.scenario)
    if entry is None:  # an upload dropped since the request was parsed (KEPT_UPLOADS newer ones)
        raise WhatIfError(f"scenario: {request.scenario!r} is no longer kept by this server; upload it again")
    months = f"{request.months:g} months"
    moved = dict(request.event_days)
    changed = entry.scenario
    if moved or request.cinacalcet_mg_day:
        added = (request.cinacalcet_mg_day, request.cinacalcet_day) if request.cinacalcet_mg_day else None
        try:
            changed = variant(entry, moved, months, added)
        except ScenarioError as exc:  # e.g. a transplant moved so that its delayed function outlasts the run
            what = f"event_days ({', '.join(moved)})" if moved else "cinacalcet"
            raise WhatIfError(f"{what}: {' '.join(str(exc).split())}") from None
    try:
        scenarios = {"what-if": with_overrides(changed, months), "as written": with_overrides(entry.scenario, months)}
    except ScenarioError as exc:  # e.g. a run that would end before one of the scenario's events
        raise WhatIfError(str(exc).replace("--duration:", "months:", 1)) from None
    runs = {"what-if": _run(scenarios["what-if"], request.overrides),
            "as written": _as_written(request.scenario, request.months)}
    events = [{**row, "what_if_day": moved.get(row["id"], row["day"])} for row in movable_events(entry)]
    return {"scenario": request.scenario, "label": entry.label, "months": request.months, "runs": runs,
            "events": events}


def _run(sc, overrides: dict[str, float]) -> dict[str, Any]:
    """One run's sessions from t = 0 (JSON-ready), continued from the scenario's kept history."""
    from ckdmbd.app_history import predialysis_from_now
    from ckdmbd.simulation import SolverOptions

    options = SolverOptions.preset("population", specialised=True)
    status, message, table, _ = predialysis_from_now(sc, overrides, options)
    if status != "ok":
        return {"status": status, "message": message}
    run = {"status": "ok", "start_day": _json_list(table["start_day"])}
    run.update({c: _json_list(table[c]) for c in COLUMNS if c in table})
    return run


@lru_cache(maxsize=32)  # assumed: a few scenarios and durations explored at a time
def _as_written(scenario: str, months: float) -> dict[str, Any]:
    """The scenario as written over ``months``: the same for every what-if of it, so it is simulated once (callers
    must not change the answer)."""
    from ckdmbd.scenario import with_overrides

    return _run(with_overrides(app_scenario(scenario).scenario, f"{months:g} months"), {})


def lab_points(text: str, name: str = "labs.csv", start_date: str | None = None) -> dict[str, Any]:
    """A lab CSV's calcium, phosphate and PTH results on the scenario's days (JSON-ready), read by the same reader
    as ``ckdmbd labs check`` (its one-line errors as :class:`WhatIfError`); other analytes are counted, not drawn."""
    import pandas as pd

    from ckdmbd.labs import LabError, parse_csv

    source = _file_name(name, "labs.csv")
    try:
        series = parse_csv(text, source, sort=True)
    except LabError as exc:
        raise WhatIfError(" ".join(str(exc).split())) from None
    if series.attrs.get("time_kind") == "datetime":
        times = pd.to_datetime(series["time"])
        times = times.dt.tz_convert(None) if times.dt.tz is not None else times
        if start_date:
            try:
                origin = pd.Timestamp(start_date)
                if len(start_date) != 10:
                    raise ValueError(start_date)
            except ValueError:
                raise WhatIfError(f"start_date: {start_date[:40]!r} is not a date (YYYY-MM-DD)") from None
            placement = f"day 0 (t = 0) is {origin.date().isoformat()}"
        else:
            origin = times.min().normalize()
            placement = f"the first sample's date ({origin.date().isoformat()}) is day 0"
        days = (times - origin) / pd.Timedelta(days=1)
    else:
        if start_date:
            raise WhatIfError("start_date: this file gives day numbers, not dates; its days are the scenario's")
        days, placement = series["day"], "the file's day numbers are the scenario's days"
    points = [{"analyte": row.analyte, "panel": LAB_PANELS[row.analyte], "day": round(float(day), 6),
               "value": round(float(row.value), 6), "unit": row.unit,
               "sample": row.sample if isinstance(row.sample, str) else "",  # not stated: None (NaN in a frame)
               "reported": f"{row.reported_value:g} {row.reported_unit}"}
              for row, day in zip(series.itertuples(), days, strict=True) if row.analyte in LAB_PANELS]
    others = int((~series["analyte"].isin(list(LAB_PANELS))).sum())
    return {"source": source, "placement": placement, "points": points, "not_drawn": others}


def _file_name(name: str, default: str) -> str:
    """A file name the client sent, as messages show it: printable, at most 80 characters."""
    return "".join(c for c in name if c.isprintable())[:80] or default


def _json_list(series) -> list[float | None]:
    return [None if not math.isfinite(float(v)) else round(float(v), 6) for v in series]


class _Handler(BaseHTTPRequestHandler):
    server_version = "ckdmbd-app"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the terminal shows the address once

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, allow_nan=False).encode("utf-8"), "application/json")

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        if path == "/":
            from ckdmbd.app_page import page

            self._send(HTTPStatus.OK, page().encode("utf-8"), "text/html; charset=utf-8")
        elif path == "/api/scenarios":
            self._json(HTTPStatus.OK, {"scenarios": [catalogue_entry(n) for n in dialysis_scenarios()]})
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {path}"})

    def do_POST(self) -> None:
        url = urlparse(self.path)
        if url.path == "/api/labs":
            self._labs(parse_qs(url.query))
            return
        if url.path == "/api/scenario":
            self._scenario(parse_qs(url.query))
            return
        if url.path != "/api/simulate":
            self._json(HTTPStatus.NOT_FOUND, {"error": "POST /api/simulate, /api/scenario or /api/labs only"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY_BYTES:
            self._json(HTTPStatus.BAD_REQUEST, {"error": f"request: body of {length} bytes (1-{MAX_BODY_BYTES})"})
            return
        try:
            body = json.loads(self.rfile.read(length).decode("utf-8"))
            result = simulate_whatif(parse_request(body))
        except (WhatIfError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": " ".join(str(exc).split())})
            return
        except Exception as exc:  # the model could not run these values: said, never a traceback
            from ckdmbd.scenario import ScenarioError

            if isinstance(exc, ScenarioError | ValueError):
                self._json(HTTPStatus.BAD_REQUEST, {"error": " ".join(str(exc).split())})
                return
            raise
        self._json(HTTPStatus.OK, result)

    def _body_within(self, limit: int) -> tuple[int, bytes | None]:
        """The request body's length and bytes, or None for the bytes when it is over ``limit`` (then not kept: it
        is read and dropped up to 8 times the limit, so that the client reads the answer, no broken pipe)."""
        length = max(0, int(self.headers.get("Content-Length") or 0))
        if length <= limit:
            return length, self.rfile.read(length) if length else b""
        if length <= 8 * limit:
            for start in range(0, length, 65536):
                self.rfile.read(min(65536, length - start))
        self.close_connection = True
        return length, None

    def _scenario(self, query: dict[str, list[str]]) -> None:
        """An uploaded scenario file: kept, its history simulated in the background, its controls answered."""
        from ckdmbd.app_scenario import read_upload, too_large
        from ckdmbd.scenario import MAX_FILE_BYTES, ScenarioError

        name = _file_name(query.get("name", ["scenario.toml"])[0], "scenario.toml")
        _, body = self._body_within(MAX_FILE_BYTES)
        try:
            if body is None:
                raise too_large(name)
            entry = read_upload(body, name)
            if not any(isinstance(ev, Hemodialysis) for ev in entry.scenario.events):
                raise WhatIfError(f"scenario: {entry.scenario.name!r} ({name}) has no hemodialysis event; the page "
                                  f"shows pre-dialysis values (run it with `ckdmbd run {name}`)")
        except (ScenarioError, WhatIfError) as exc:  # one line, without control characters, as `ckdmbd run` says it
            line = re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", " ".join(str(exc).split()))
            self._json(HTTPStatus.BAD_REQUEST, {"error": line})
            return
        threading.Thread(target=_warm, args=(entry.scenario,), name="ckdmbd-app-warm-upload", daemon=True).start()
        self._json(HTTPStatus.OK, catalogue_entry(entry.key))

    def _labs(self, query: dict[str, list[str]]) -> None:
        length, body = self._body_within(MAX_LAB_BYTES)
        if body is None or length == 0:
            self._json(HTTPStatus.BAD_REQUEST, {"error": f"labs: a file of {length} bytes (1-{MAX_LAB_BYTES})"})
            return
        try:
            text = body.decode("utf-8-sig")
            result = lab_points(text, query.get("name", ["labs.csv"])[0], query.get("start_date", [None])[0])
        except UnicodeDecodeError:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "labs: the file is not UTF-8 text (a CSV is expected)"})
            return
        except WhatIfError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self._json(HTTPStatus.OK, result)


def warm_histories() -> None:
    """Simulate and keep every offered scenario's history (the seed case's first): the first Run of each is then as
    fast as the later ones. Meant for a background thread of ``ckdmbd app``; a failure is left to the Run to say."""
    from ckdmbd.scenario import load_scenario

    for name in sorted(dialysis_scenarios(), key=lambda n: n != "seed-case"):
        _warm(load_scenario(name))


def _warm(sc) -> None:
    """Simulate and keep one scenario's history; a failure is left to the Run that needs it to say."""
    from ckdmbd.app_history import history_end
    from ckdmbd.simulation import SolverOptions

    with contextlib.suppress(Exception):  # said by the Run that needs it, in one line
        history_end(sc, SolverOptions.preset("population", specialised=True))


def make_server(host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """The what-if server (``port`` 0: any free port, read it from ``server.server_address``)."""
    return ThreadingHTTPServer((host, port), _Handler)
