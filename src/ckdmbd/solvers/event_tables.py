"""A run's event loop as tables for the compiled driver (``rosenbrock._integrate_run``, issue 11).

Why: the Python loop of :func:`ckdmbd.simulation.simulate` spends ~30 µs per segment on applying actions, the
nonnegative guard and the solver's dispatch; a dialysis year has 315 segments. Parameter actions do not depend on
the state, so every segment's parameter vector can be computed before integrating; state actions (set, add, scale
a state) are applied by the compiled loop at the segment starts. This module walks the segments exactly as the
Python loop does (same order of actions, same ``parameter_vector_after`` calls, same errors for an unknown state
or parameter) and writes the tables.

Parameter vectors repeat (a session switches dialysis on and off 156 times a year), so a segment's vector is
looked up by the values of the parameters the run's actions touch: the vector is a function of the base values
alone (``derive()`` is deterministic), and two segments with the same touched values share a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ckdmbd.protocol import AddToState, ProtocolError, ScaleState, SetParameter, SetState

ACTION_SET, ACTION_ADD, ACTION_SCALE = 0, 1, 2  # as ckdmbd.solvers.rosenbrock.ACTION_*


@dataclass
class EventTables:
    """The tables of one run (segment k runs from ``seg_t[k]`` to ``seg_t[k + 1]``)."""

    seg_t: np.ndarray
    act_ptr: np.ndarray
    """State actions applied at the start of segment k: ``act_ptr[k]`` to ``act_ptr[k + 1] - 1``."""
    act_kind: np.ndarray
    act_state: np.ndarray
    act_value: np.ndarray
    state_actions: list
    """The state actions in table order (their time and target, for the mass-balance jumps)."""
    seg_prow: np.ndarray
    ptable: np.ndarray
    seg_starts: list[float]
    seg_params: list[np.ndarray]
    seg_start_segment: list[int]
    """The segment each ``seg_starts`` entry was made at (a failed run keeps those up to where it stopped)."""
    cursor: list[int]
    """Number of actions consumed up to and including segment k (to replay the base parameters of a failed run)."""
    base: dict[str, float]
    """The base parameters after every action."""


def apply_parameter(action, base: dict[str, float]) -> None:
    """One parameter action on the base values in place (an unknown name is a :class:`ProtocolError`)."""
    if action.name not in base:
        raise ProtocolError(f"event at t = {action.time_h} h sets unknown parameter {action.name!r}")
    base[action.name] = action.value if isinstance(action, SetParameter) else base[action.name] * action.factor


def build_tables(model, bounds: Sequence[float], actions: Sequence, base: Mapping[str, float],
                 p: np.ndarray) -> EventTables:
    """The tables of the segments between consecutive ``bounds`` under ``actions`` (time order), from the base
    parameters ``base`` (copied) and their vector ``p``."""
    base = dict(base)
    touched = sorted({a.name for a in actions if not isinstance(a, SetState | AddToState | ScaleState)})
    rows: list[np.ndarray] = [p]

    def key_of(values: Mapping[str, float]) -> tuple:  # the touched values (a missing name reads None)
        return tuple(map(values.get, touched))

    row_of: dict[tuple, int] = {key_of(base): 0}
    current = 0
    nseg = len(bounds) - 1
    seg_prow = np.zeros(nseg, dtype=np.int64)
    act_ptr = np.zeros(nseg + 1, dtype=np.int64)
    kinds: list[int] = []
    states: list[int] = []
    values: list[float] = []
    state_actions: list = []
    seg_starts: list[float] = []
    seg_params: list[np.ndarray] = []
    seg_start_segment: list[int] = []
    cursor: list[int] = []
    a = 0
    for k in range(nseg):
        t0 = bounds[k]
        changed: set[str] = set()
        while a < len(actions) and actions[a].time_h <= t0:
            action = actions[a]
            a += 1
            if isinstance(action, SetState | AddToState | ScaleState):
                try:
                    i = model.state_index(action.state)
                except KeyError as exc:
                    raise ProtocolError(f"event at t = {action.time_h} h targets {exc.args[0]}") from None
                kind, value = ((ACTION_SET, action.value) if isinstance(action, SetState) else
                               (ACTION_ADD, action.amount) if isinstance(action, AddToState) else
                               (ACTION_SCALE, action.factor))
                kinds.append(kind)
                states.append(i)
                values.append(float(value))
                state_actions.append(action)
            else:
                apply_parameter(action, base)
                changed.add(action.name)
        act_ptr[k + 1] = len(kinds)
        cursor.append(a)
        if changed:
            key = key_of(base)
            found = row_of.get(key)
            if found is None:
                rows.append(model.parameter_vector_after(rows[current], base, changed))
                found = row_of[key] = len(rows) - 1
            current = found
        seg_prow[k] = current
        if not seg_params or changed:
            seg_starts.append(float(t0))
            seg_params.append(rows[current])
            seg_start_segment.append(k)
    return EventTables(
        seg_t=np.asarray(bounds, dtype=float), act_ptr=act_ptr, act_kind=np.array(kinds, dtype=np.int64),
        act_state=np.array(states, dtype=np.int64), act_value=np.array(values, dtype=float),
        state_actions=state_actions, seg_prow=seg_prow, ptable=np.ascontiguousarray(np.array(rows)),
        seg_starts=seg_starts, seg_params=seg_params, seg_start_segment=seg_start_segment, cursor=cursor, base=base)


def jumps_of(model, tables: EventTables, deltas: np.ndarray, n_applied: int) -> list[tuple[float, dict[str, float]]]:
    """(time, {element: mmol}) of the first ``n_applied`` state actions that moved a state holding calcium or
    phosphate (``deltas``: the change each made, from the compiled run), as the Python loop books them."""
    jumps = []
    for m in range(n_applied):
        i = int(tables.act_state[m])
        contains = model.states[i].contains if i < len(model.states) else {}
        if contains and deltas[m] != 0.0:
            jumps.append((tables.state_actions[m].time_h, {el: deltas[m] * amount for el, amount in contains.items()}))
    return jumps
