"""The quantities a validation case compares: a registry of small metric functions.

A metric spec is a table ``{metric = "NAME", ...arguments}``; arguments are plain values, quantities with units
("12 months", "24 h"), or, for the combining metrics (``ratio``, ``difference``, ``relative_difference``), nested
metric specs. Every metric returns a :class:`MetricValue`: the number, a trajectory per arm for the plot (the same
quantity over time, so that the published value can be drawn beside it) and a one-line detail.

Times are hours from the run's t = 0 (``"end"`` is the end of the arm's run). Windows are ``from``/``to`` times or
``last`` (a duration before the end).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ckdmbd.units import HOURS_PER_DAY


@dataclass(frozen=True)
class Trace:
    label: str
    x: np.ndarray
    y: np.ndarray
    x_unit: str = "time (days)"
    """The x axis, as labelled in the plot."""


@dataclass(frozen=True)
class MetricValue:
    value: float
    traces: tuple[Trace, ...] = ()
    window: tuple[float, float] | None = None
    """Where on the traces' x axis the value is taken (for drawing the published value there)."""
    detail: str = ""


@dataclass(frozen=True)
class Metric:
    function: Callable[..., MetricValue]
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    nested: frozenset[str] = frozenset()
    """Arguments that are themselves metric specs."""
    doc: str = ""


METRICS: dict[str, Metric] = {}


def metric(name: str, required: set[str], optional: set[str] = frozenset(), nested: set[str] = frozenset()):
    def register(fn):
        METRICS[name] = Metric(fn, frozenset(required), frozenset(optional), frozenset(nested),
                               (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return register


class MetricError(ValueError):
    """A metric cannot be computed on this run (a column it needs is missing, no session in the window...)."""


def validate_spec(spec: dict, arms: set[str]) -> None:
    """Check that ``spec`` names a metric, gives exactly its arguments, and refers to arms of the case."""
    name = spec.get("metric")
    if name not in METRICS:
        raise ValueError(f"metric {name!r} is unknown (known: {', '.join(sorted(METRICS))})")
    m = METRICS[name]
    args = set(spec) - {"metric"}
    missing = sorted(m.required - args)
    if missing:
        raise ValueError(f"metric {name!r} needs the argument {missing[0]!r}")
    unknown = sorted(args - m.required - m.optional)
    if unknown:
        raise ValueError(f"metric {name!r} has no argument {unknown[0]!r} "
                         f"(arguments: {', '.join(sorted(m.required | m.optional))})")
    if "arm" in spec and spec["arm"] not in arms:
        raise ValueError(f"metric {name!r}: arm {spec['arm']!r} is not an arm of the case ({', '.join(sorted(arms))})")
    for key in m.nested:
        if key in spec:
            if not isinstance(spec[key], dict):
                raise ValueError(f"metric {name!r}: {key} must be a metric table {{ metric = ..., ... }}")
            validate_spec(spec[key], arms)


def evaluate(spec: dict, runs: dict) -> MetricValue:
    """Compute ``spec`` on ``runs`` (arm name -> :class:`ckdmbd.validation.casefile.ArmRun`)."""
    m = METRICS[spec["metric"]]
    args = {k: v for k, v in spec.items() if k != "metric"}
    return m.function(runs, **args)


# --- helpers --------------------------------------------------------------------------------------------------------

def _hours(text: str, run, where: str) -> float:
    if text == "end":
        return run.scenario.duration_h
    from ckdmbd.scenario import parse_quantity

    return parse_quantity(text, "h", where, allow_negative=True)


def _series(run, column: str) -> tuple[np.ndarray, np.ndarray]:
    frame = run.frame
    if column not in frame:
        raise MetricError(f"the run has no column {column!r}")
    return frame["time_days"].to_numpy(float) * HOURS_PER_DAY, frame[column].to_numpy(float)


def _window(run, start: str | None, end: str | None, last: str | None) -> tuple[float, float]:
    t_end = _hours(end, run, "to") if end is not None else run.scenario.duration_h
    if last is not None:
        t_start = t_end - _hours(last, run, "last")
    else:
        t_start = _hours(start, run, "from") if start is not None else 0.0
    if t_start > t_end:
        raise MetricError(f"the window starts ({t_start:g} h) after it ends ({t_end:g} h)")
    return t_start, t_end


def _trace(arm: str, t_h: np.ndarray, y: np.ndarray, label: str | None = None) -> Trace:
    return Trace(label or arm, t_h / HOURS_PER_DAY, y)


def _sessions(run, column: str):
    table = run.sessions
    if len(table) == 0:
        raise MetricError("the run has no dialysis session inside its output")
    if column not in table:
        raise MetricError(f"the session table has no column {column!r}")
    return table


def _select_sessions(table, first: int | None, last: int | None):
    if first is not None and last is not None:
        raise MetricError("give first or last, not both")
    for value, name in ((first, "first"), (last, "last")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise MetricError(f"{name} must be a whole number of sessions >= 1, got {value!r}")
    if first is not None:
        return table.iloc[:first]
    if last is not None:
        return table.iloc[-last:]
    return table


_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy >= 2 renamed trapz

_STATISTICS = {"mean": np.mean, "min": np.min, "max": np.max}


# --- metrics on one arm ---------------------------------------------------------------------------------------------

@metric("value_at", {"arm", "column", "time"})
def value_at(runs, arm: str, column: str, time: str) -> MetricValue:
    """A column at a time (linear interpolation between output times)."""
    run = runs[arm]
    t, y = _series(run, column)
    at = _hours(time, run, "time")
    if not t[0] - 1e-9 <= at <= t[-1] + 1e-9:
        raise MetricError(f"time {time!r} is outside the run (0 to {t[-1]:g} h)")
    value = float(np.interp(at, t, y))
    return MetricValue(value, (_trace(arm, t, y),), (at / HOURS_PER_DAY, at / HOURS_PER_DAY), f"{column} at {time}")


@metric("window", {"arm", "column"}, {"statistic", "from", "to", "last"})
def window(runs, arm: str, column: str, statistic: str = "mean", last: str | None = None, **bounds) -> MetricValue:
    """Mean (time-weighted), minimum or maximum of a column over a window (default: the whole run)."""
    run = runs[arm]
    t, y = _series(run, column)
    t0, t1 = _window(run, bounds.get("from"), bounds.get("to"), last)
    sel = (t >= t0 - 1e-9) & (t <= t1 + 1e-9)
    if not sel.any():
        raise MetricError(f"no output between {t0:g} h and {t1:g} h")
    ts, ys = t[sel], y[sel]
    if statistic == "mean":
        value = float(_trapezoid(ys, ts) / (ts[-1] - ts[0])) if ts[-1] > ts[0] else float(ys[0])
    elif statistic in ("min", "max"):
        value = float(_STATISTICS[statistic](ys))
    else:
        raise MetricError(f"statistic must be mean, min or max, got {statistic!r}")
    return MetricValue(value, (_trace(arm, t, y),), (t0 / HOURS_PER_DAY, t1 / HOURS_PER_DAY),
                       f"{statistic} of {column} from day {t0 / HOURS_PER_DAY:.4g} to {t1 / HOURS_PER_DAY:.4g}")


@metric("sessions", {"arm", "column"}, {"statistic", "first", "last"})
def sessions(runs, arm: str, column: str, statistic: str = "mean", first: int | None = None,
             last: int | None = None) -> MetricValue:
    """Mean, minimum or maximum of a session-table column (``pre_*``, ``post_*``, ``phosphate_removed_mmol``...) over
    the first or last N sessions (default: all)."""
    run = runs[arm]
    table = _sessions(run, column)
    chosen = _select_sessions(table, first, last)
    if statistic not in _STATISTICS:
        raise MetricError(f"statistic must be mean, min or max, got {statistic!r}")
    values = chosen[column].to_numpy(float)
    days = table["start_day"].to_numpy(float)
    return MetricValue(float(_STATISTICS[statistic](values)),
                       (Trace(arm, days, table[column].to_numpy(float)),),
                       (float(chosen["start_day"].iloc[0]), float(chosen["start_day"].iloc[-1])),
                       f"{statistic} of {column} over {len(chosen)} sessions")


def _session_index(table, session) -> int:
    if session == "middle":
        return len(table) // 2
    if session == "last":
        return len(table) - 1
    if isinstance(session, bool) or not isinstance(session, int) or not -len(table) <= session < len(table):
        raise MetricError(f"session must be 'middle', 'last' or an index into {len(table)} sessions, got {session!r}")
    return session % len(table)


@metric("intradialytic_fall", {"arm", "at"}, {"column", "session"})
def intradialytic_fall(runs, arm: str, at: str, column: str = "phosphate_mmol_L", session="middle") -> MetricValue:
    """Fall of a column from the start of a session to ``at`` hours into it, as a fraction of the pre-dialysis value
    (0.45 = 45 % lower)."""
    run = runs[arm]
    table = _sessions(run, "start_day")
    k = _session_index(table, session)
    start = float(table["start_day"].iloc[k]) * HOURS_PER_DAY
    t, y = _series(run, column)
    after = _hours(at, run, "at")
    sel = (t >= start - 1e-6) & (t <= start + 10.0 + 1e-6)
    hours, values = t[sel] - start, y[sel]
    pre = values[0]
    fall = 1.0 - values / pre
    value = float(1.0 - np.interp(after, hours, values) / pre)
    trace = Trace(f"{arm}, session {k + 1}", hours, fall, "hours from the session start")
    return MetricValue(value, (trace,), (after, after),
                       f"pre {pre:.3g}, at {at}: {np.interp(after, hours, values):.3g}")


@metric("after_session", {"arm", "after"}, {"column", "last", "gap"})
def after_session(runs, arm: str, after: str, column: str = "phosphate_mmol_L", last: int = 4,
                  gap: str = "short") -> MetricValue:
    """A column ``after`` the end of a session as a fraction of that session's pre-dialysis value, averaged over the
    last N sessions followed by a ``short`` (midweek) or ``long`` (weekend) gap. Needs an output grid that resolves
    ``after`` (hourly output)."""
    run = runs[arm]
    from ckdmbd.sessions import sessions as session_times

    t, y = _series(run, column)
    spans = [(b, e) for b, e in session_times(run.scenario.events) if b >= t[0] - 1e-6 and e <= t[-1] + 1e-6]
    if gap not in ("short", "long"):
        raise MetricError(f"gap must be 'short' or 'long', got {gap!r}")
    delay = _hours(after, run, "after")
    starts = [b for b, _ in spans]
    chosen = []
    for k, (b, e) in enumerate(spans[:-1]):
        gap_h = starts[k + 1] - b
        kind = "long" if gap_h > 2.5 * HOURS_PER_DAY else "short"
        if kind == gap and e + delay <= t[-1]:
            chosen.append((b, e))
    if not chosen:
        raise MetricError(f"no session followed by a {gap} gap with output {after} after its end")
    chosen = chosen[-last:]
    traces, ratios = [], []
    for b, e in chosen:
        pre = float(np.interp(b, t, y))
        ratios.append(float(np.interp(e + delay, t, y)) / pre)
        sel = (t >= e - 1e-6) & (t <= e + 48.0)
        traces.append(Trace(f"{arm}, session day {b / HOURS_PER_DAY:.0f}", t[sel] - e, y[sel] / pre,
                            "hours after the session end"))
    return MetricValue(float(np.mean(ratios)), tuple(traces[-2:]), (delay, delay),
                       f"{len(chosen)} sessions, ratios {', '.join(f'{r:.3f}' for r in ratios)}")


@metric("long_minus_short_gap", {"arm"}, {"column", "last"})
def long_minus_short_gap(runs, arm: str, column: str = "pre_phosphate_mmol_L", last: int = 12) -> MetricValue:
    """Pre-dialysis value after the long (weekend) gap minus the mean after the short (midweek) gaps, over the last
    N sessions: Monday minus Wednesday/Friday on a Mon/Wed/Fri schedule."""
    run = runs[arm]
    table = _sessions(run, column)
    if len(table) < 4:
        raise MetricError("needs at least four sessions")
    days = table["start_day"].to_numpy(float)
    gaps = np.diff(days, prepend=np.nan)
    chosen = np.arange(len(table)) >= len(table) - last
    long_gap = chosen & (gaps > 2.5)
    short_gap = chosen & (gaps <= 2.5)
    if not long_gap.any() or not short_gap.any():
        raise MetricError("needs sessions after both a long and a short gap in the window")
    values = table[column].to_numpy(float)
    value = float(values[long_gap].mean() - values[short_gap].mean())
    return MetricValue(value, (Trace(arm, days, values),), (float(days[chosen][0]), float(days[-1])),
                       f"after the long gap {values[long_gap].mean():.3f}, after short gaps "
                       f"{values[short_gap].mean():.3f} ({int(long_gap.sum())} and {int(short_gap.sum())} sessions)")


AMOUNT_UNITS = ("mmol", "g", "mol", "pmol")


@metric("minimum_of_states", {"arm", "states"})
def minimum_of_states(runs, arm: str, states: list) -> MetricValue:
    """The smallest value over time of every state whose name matches one of the patterns (``bone_*``) and whose
    unit is an amount (mmol, g, ...): an amount of mineral can never be negative."""
    run = runs[arm]
    frame = run.frame
    if not isinstance(states, list) or not all(isinstance(p, str) for p in states) or not states:
        raise MetricError(f"states must be a list of name patterns, got {states!r}")
    units = frame.attrs.get("units", {})
    names = [c for c in frame.columns if any(fnmatch.fnmatchcase(c, p) for p in states)
             and units.get(c) in AMOUNT_UNITS and not c.startswith("ledger_")]
    if not names:
        raise MetricError(f"no amount state matches {states}")
    block = frame[names].to_numpy(float)
    lowest = block.min(axis=0)
    k = int(np.argmin(lowest))
    when = frame["time_days"].to_numpy(float)[int(np.argmin(block[:, k]))]
    t = frame["time_days"].to_numpy(float) * HOURS_PER_DAY
    return MetricValue(float(lowest[k]), (_trace(f"{arm}: lowest of {len(names)} states", t, block.min(axis=1)),),
                       None, f"lowest: {names[k]} = {lowest[k]:.4g} {units.get(names[k])} at day {when:.1f}; "
                       f"checked {', '.join(names)}")


# --- metrics combining two others -----------------------------------------------------------------------------------

def _combine(runs, numerator: dict, denominator: dict, op, label: str) -> MetricValue:
    num, den = evaluate(numerator, runs), evaluate(denominator, runs)
    value = float(op(num.value, den.value))
    # trajectories of the combined quantity: each trace of both sides against the denominator's value
    traces = tuple(Trace(tr.label, tr.x, op(tr.y, den.value), tr.x_unit) for tr in (*num.traces, *den.traces))
    if len({tr.label for tr in traces}) < len(traces):  # the same arm on both sides: keep the numerator's trace
        traces = tuple(Trace(tr.label, tr.x, op(tr.y, den.value), tr.x_unit) for tr in num.traces)
    return MetricValue(value, traces, num.window,
                       f"{label}: {num.value:.4g} ({num.detail}) vs {den.value:.4g} ({den.detail})")


@metric("ratio", {"numerator", "denominator"}, nested={"numerator", "denominator"})
def ratio(runs, numerator: dict, denominator: dict) -> MetricValue:
    """numerator / denominator (e.g. treated / control, or end / start)."""
    return _combine(runs, numerator, denominator, lambda a, b: a / b, "ratio")


@metric("relative_difference", {"numerator", "denominator"}, nested={"numerator", "denominator"})
def relative_difference(runs, numerator: dict, denominator: dict) -> MetricValue:
    """numerator / denominator - 1 (-0.07 = 7 % lower)."""
    return _combine(runs, numerator, denominator, lambda a, b: a / b - 1.0, "relative difference")


@metric("difference", {"numerator", "denominator"}, nested={"numerator", "denominator"})
def difference(runs, numerator: dict, denominator: dict) -> MetricValue:
    """numerator - denominator."""
    return _combine(runs, numerator, denominator, lambda a, b: a - b, "difference")


@dataclass(frozen=True)
class _Doc:
    name: str
    arguments: str
    doc: str = field(default="")


def describe() -> list[_Doc]:
    """The registry as (name, arguments, first doc line), for documentation."""
    out = []
    for name, m in sorted(METRICS.items()):
        args = ", ".join([*sorted(m.required), *(f"[{a}]" for a in sorted(m.optional))])
        out.append(_Doc(name, args, m.doc))
    return out
