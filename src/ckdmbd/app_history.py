"""What-ifs from t = 0 on a scenario's simulated history, which is run once and kept (issue 14: recompute in ~1 s).

A dialysis scenario simulates years of history before t = 0 (the seed case 9.5 years), and every what-if the app
asks changes things from t = 0 on only: the history is the same for all of them. So the history runs once per
(configuration, history events, the scenario's parameters, the parameters pinned during the history, solver
options), its end (the state, the base parameter values every history action has set, the solver's last step size)
is kept, and each what-if integrates from t = 0 from there. That is the same computation as the full run: the
orchestrator restarts the solver at t = 0 anyway (t = 0 is always a segment bound), and the continued run starts with
the state, parameters and step size the full run has there (``tests/test_app_history.py`` compares the two and checks
that the mass balance still closes over the what-if).

A change "from t = 0" is a parameter set at t = 0 and held for the rest of the run: the scenario's own events from
t = 0 on that would set it are left out (as in a population, :func:`ckdmbd.population.simulate_pinned`, but not
during the history). A parameter pinned for the history as well would change the history; it goes in
``history_overrides``, which is part of the key of the kept history, so no what-if can be answered from another
history.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

KEPT_HISTORIES = 16  # assumed: a few scenarios explored at a time; each kept history is one state vector


@dataclass(frozen=True)
class HistoryEnd:
    """A history's end at t = 0: the state, the base parameter values in force, the solver's last step (h); and
    what the history's run counted (steps, right-hand side calls, rejected steps) and booked (surgical removals,
    :attr:`ckdmbd.simulation.Result.jumps`), which a full run's result reports (:func:`run_on_kept_history`)."""

    state: np.ndarray
    parameters: dict[str, float]
    step_h: float
    n_steps: int = 0
    n_rhs: int = 0
    n_rejected: int = 0
    jumps: tuple = ()


_kept: OrderedDict[str, HistoryEnd | str] = OrderedDict()
_lock = threading.Lock()
_gates: dict[str, threading.Lock] = {}  # one per history being simulated: a second caller waits, not simulates
runs = {"history": 0, "kept": 0}  # history runs done / answered from a kept history (for tests and benchmarks)


def forget() -> None:
    """Drop every kept history (the next what-if of each scenario simulates it again)."""
    with _lock:
        _kept.clear()


def _actions(sc, pinned: Mapping[str, float]) -> list:
    """The scenario's primitive actions, at the times the full run would apply them, without any that would set a
    pinned parameter."""
    from ckdmbd.population import pinned_actions
    from ckdmbd.simulation import _snap_to_resolution

    return _snap_to_resolution(pinned_actions(sc, pinned), (-float(sc.history_h), 0.0))


def _key(sc, history: list, history_overrides: Mapping[str, float], options) -> str:
    text = repr((sc.configuration, float(sc.history_h), sorted(sc.parameter_overrides.items()),
                 sorted(history_overrides.items()), options, history))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def history_end(sc, options, history_overrides: Mapping[str, float] | None = None,
                progress: Callable[[float, float], None] | None = None) -> HistoryEnd | str:
    """The state at t = 0 after the scenario's history (kept per key, see the module), or the failure message of
    the history run. ``history_overrides``: parameters (model units, by symbol) pinned during the history too.
    ``progress``: :func:`ckdmbd.simulation.simulate`'s callback, for a history that is simulated (not for a kept
    one; it is not part of the key)."""
    pinned = dict(history_overrides or {})
    history = [a for a in _actions(sc, pinned) if a.time_h < 0.0]
    key = _key(sc, history, pinned, options)
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            runs["kept"] += 1
            return _kept[key]
        gate = _gates.setdefault(key, threading.Lock())
    with gate:  # an upload's history warmed in the background and its first Run: simulated once
        with _lock:
            if key in _kept:
                _kept.move_to_end(key)
                runs["kept"] += 1
                return _kept[key]
        try:
            end = _simulate_history(sc, history, pinned, options, progress)
        except BaseException:
            with _lock:
                _gates.pop(key, None)
            raise
        with _lock:  # kept before the gate goes: a later caller finds one or the other
            runs["history"] += 1
            _kept[key] = end
            while len(_kept) > KEPT_HISTORIES:
                _kept.popitem(last=False)
            _gates.pop(key, None)
    return end


def _simulate_history(sc, history: list, pinned: Mapping[str, float], options,
                      progress: Callable[[float, float], None] | None = None) -> HistoryEnd | str:
    from ckdmbd.simulation import simulate

    if sc.history_h <= 0:
        from ckdmbd.model.configurations import parameters as builtin_parameters
        from ckdmbd.simulation import build_model

        model = build_model(sc.configuration)
        base = dict(builtin_parameters(sc.configuration).with_values(**{**sc.parameter_overrides, **pinned}))
        end: HistoryEnd | str = HistoryEnd(model.initial_state(base), base, 0.0)
    else:
        result = simulate(sc.configuration, 0.0, history, parameters={**sc.parameter_overrides, **pinned},
                          start_h=-sc.history_h, solver=options, check=False, progress=progress)
        if result.ok:
            end = HistoryEnd(np.array(result.y[-1]), dict(result.final_parameters), result.final_step_h,
                             result.n_steps, result.n_rhs, result.n_rejected, tuple(result.jumps))
        else:
            when = "" if result.failed_at_h is None else f" (at day {result.failed_at_h / 24.0:.4g})"
            end = f"the history before t = 0: {result.message}{when}"
    return end


def simulate_from_now(sc, overrides: Mapping[str, float], options,
                      history_overrides: Mapping[str, float] | None = None):
    """The scenario with ``overrides`` (model units, by symbol) set at t = 0 and held to the end, continued from its
    kept history: the :class:`ckdmbd.simulation.Result` from t = 0, or a failure message (a string)."""
    from ckdmbd.sessions import session_output_times
    from ckdmbd.simulation import simulate

    end = history_end(sc, options, history_overrides)
    if isinstance(end, str):
        return end
    pinned = {**dict(history_overrides or {}), **overrides}
    future = [a for a in _actions(sc, pinned) if a.time_h >= 0.0]
    return simulate(sc.configuration, sc.duration_h, future, output_interval_h=sc.output_interval_h,
                    parameters={**end.parameters, **overrides}, initial_state=end.state, start_h=0.0,
                    extra_output_times_h=session_output_times(sc.events, sc.duration_h), solver=options,
                    check=False, initial_step_h=end.step_h)


def run_on_kept_history(sc, options=None, progress: Callable[[float, float], None] | None = None):
    """The scenario's run (:func:`ckdmbd.scenario.run_scenario`, outputs from t = 0) as its kept history plus the
    run from t = 0: the same :class:`ckdmbd.simulation.Result`, numbers bit for bit (``tests/test_app_history.py``),
    with the whole run's events, parameters, step counts and bookings; and the history stays kept, so that what
    else the process asks of it (the seed case's calcification site starts there, :mod:`ckdmbd.calcification_fit`)
    is not simulated again (~3 s of the seed case's ``ckdmbd run``). A history that fails, or a continuation whose
    parameters in force at t = 0 are refused, is run as the full run instead, which says why the way it always has.
    ``progress(done_h, total_h)`` over history and run together (a callback cuts runs into 30-day pieces, so its
    numbers equal a full run's with a callback within the solver tolerance, not bit for bit)."""
    from dataclasses import replace

    from ckdmbd.model.configurations import parameters as builtin_parameters
    from ckdmbd.parameters import ParameterError
    from ckdmbd.scenario import run_scenario
    from ckdmbd.sessions import session_output_times
    from ckdmbd.simulation import SolverOptions, simulate

    opts = options or SolverOptions()
    total = sc.history_h + sc.duration_h
    in_history = run_part = None
    if progress is not None:
        def in_history(done_h: float, _span_h: float) -> None:
            progress(done_h, total)

        def run_part(done_h: float, _span_h: float) -> None:
            progress(sc.history_h + done_h, total)
    end = history_end(sc, opts, progress=in_history)
    if isinstance(end, str):
        return run_scenario(sc, solver=opts, progress=progress)
    future = [a for a in _actions(sc, {}) if a.time_h >= 0.0]
    try:
        run = simulate(sc.configuration, sc.duration_h, future, output_interval_h=sc.output_interval_h,
                       parameters=end.parameters, initial_state=end.state, start_h=0.0,
                       extra_output_times_h=session_output_times(sc.events, sc.duration_h), solver=opts,
                       initial_step_h=end.step_h, progress=run_part)
    except ParameterError:
        return run_scenario(sc, solver=opts, progress=progress)
    return replace(run, parameters=builtin_parameters(sc.configuration).with_values(**sc.parameter_overrides),
                   events=tuple(sc.events), n_steps=end.n_steps + run.n_steps, n_rhs=end.n_rhs + run.n_rhs,
                   n_rejected=end.n_rejected + run.n_rejected, jumps=(*end.jumps, *run.jumps))


def predialysis_from_now(sc, overrides: Mapping[str, float], options,
                         history_overrides: Mapping[str, float] | None = None
                         ) -> tuple[str, str, pd.DataFrame, float]:
    """As :func:`ckdmbd.population.simulate_pinned` (status, message, pre-dialysis values per session, day of a
    failure or NaN), for a what-if from t = 0 on the kept history."""
    from ckdmbd.population import failed_outcome, session_outcome

    try:
        result = simulate_from_now(sc, overrides, options, history_overrides)
    except Exception as exc:  # a protocol or parameter error of these values: said, not raised
        return failed_outcome(exc)
    if isinstance(result, str):
        return "failed", result, pd.DataFrame(), math.nan
    return session_outcome(result, sc.events)
