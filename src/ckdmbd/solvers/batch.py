"""Many patients in one compiled call (issue 11, item 4): ``simulate_many``.

Why: a population, a calibration or a sensitivity analysis runs the same protocol for many parameter sets. Run one
by one, each patient pays Python work for its tables and a full output (every state, every output, a frame); here
the patients share one event table (the protocol), each brings its own parameter vectors and initial state, and
the compiled driver (``rosenbrock._integrate_many``, in the solver compiled for the model) spreads them over the
cores with ``prange``, keeping only reduced outputs: chosen model outputs and states on the output grid (by
default daily), and with them the values at every session's start (pre-dialysis) and end (post-dialysis).

Each patient is the same ``_integrate_run`` call a single :func:`ckdmbd.simulation.simulate` makes, so a patient's
numbers equal its single run's (tests/test_engine_batch.py). A patient that fails (refused parameter values, a
solver failure, a state that turns negative) is a status and a one-line message in the result, never dropped and
never an exception. The compiled solver does its own linear algebra (no BLAS call), so the threads do not compete
with a multi-threaded BLAS; ``threads`` sets numba's thread count for the call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ckdmbd import units

CHUNK = 64
"""Patients per compiled call: their parameter tables are held at once (a dialysis year's session end times make
~160 distinct parameter vectors per patient); a chunk keeps every thread busy for seconds."""
DEFAULT_OUTPUTS = ("ca_mM", "phosphate_mM", "pth_pM", "calcitriol_pM")
"""Model outputs kept by default: serum calcium, phosphate, PTH and calcitriol (model units)."""


@dataclass
class BatchResult:
    """Reduced outputs of N patients: ``values[j, r, c]`` is column ``names[c]`` of patient j at ``t_h[r]``."""

    t_h: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray
    status: np.ndarray
    """Per patient: 0 success; a solver status of :data:`ckdmbd.simulation.STATUS_MESSAGES`; -1 refused before the
    run (its values or the protocol)."""
    messages: list[str]
    failed_at_h: np.ndarray
    """Per patient: when the run failed (NaN: it did not, or it was refused before it started)."""
    n_steps: np.ndarray
    n_rhs: np.ndarray
    grid_rows: np.ndarray
    """Rows of ``t_h`` on the regular output grid (``output_interval_h``)."""
    session_starts_h: np.ndarray
    session_start_rows: np.ndarray
    session_end_rows: np.ndarray
    """Rows of ``t_h`` at each session's start and end (sessions inside the output span)."""

    @property
    def ok(self) -> np.ndarray:
        return self.status == 0

    def column(self, name: str) -> np.ndarray:
        """(N, len(t_h)) values of one output or state."""
        return self.values[:, :, self.names.index(name)]

    @property
    def grid(self) -> np.ndarray:
        """(N, grid rows, columns): the values on the regular grid (daily by default)."""
        return self.values[:, self.grid_rows, :]

    @property
    def predialysis(self) -> np.ndarray:
        """(N, sessions, columns): the values at each session's start, as a clinic samples pre-dialysis blood."""
        return self.values[:, self.session_start_rows, :]

    @property
    def postdialysis(self) -> np.ndarray:
        return self.values[:, self.session_end_rows, :]


def simulate_many(
    configuration: str = "default",
    duration_h: float = units.HOURS_PER_YEAR,
    events: Sequence = (),
    parameters: Sequence[Mapping[str, float] | None] | None = None,
    initial_states: np.ndarray | Sequence[np.ndarray | None] | None = None,
    n_patients: int | None = None,
    outputs: Sequence[str] = DEFAULT_OUTPUTS,
    states: Sequence[str] = (),
    output_interval_h: float = units.HOURS_PER_DAY,
    solver=None,
    start_h: float = 0.0,
    threads: int | None = None,
    sessions_h: Sequence[tuple[float, float]] | None = None,
) -> BatchResult:
    """Simulate N patients under one protocol ``events`` (as :func:`ckdmbd.simulation.simulate`), each with its
    own parameter overrides (``parameters[j]``, a mapping by symbol in model units, or None) and initial state
    (``initial_states[j]``, or None: the configuration's). N is the length of ``parameters`` or
    ``initial_states``, else ``n_patients``. Keeps the model ``outputs`` and ``states`` named on a grid of every
    ``output_interval_h`` from 0 to ``duration_h`` plus every session start and end. ``solver``: a
    :class:`ckdmbd.simulation.SolverOptions` (default: the ``population`` preset); always the solver compiled for
    the model with its analytic Jacobian. ``threads``: numba threads for the call (None: all; 1: the serial
    driver, which a forked worker process needs). ``sessions_h``: the (start, end) of the dialysis sessions whose
    values to keep (default: the sessions of ``events``; pass them when ``events`` are primitive actions)."""
    from ckdmbd.model.configurations import model as build_model
    from ckdmbd.model.configurations import parameters as builtin_parameters
    from ckdmbd.parameter_ranges import check_parameter_ranges
    from ckdmbd.parameters import ParameterSet
    from ckdmbd.sessions import sessions
    from ckdmbd.simulation import (
        GUARD_ATOL,
        GUARD_RTOL,
        NEGATIVE_STATE,
        STATUS_MESSAGES,
        SolverOptions,
        _NonnegativeGuard,
        run_actions,
    )
    from ckdmbd.solvers.event_tables import build_tables

    opts = solver or SolverOptions.preset("population", specialised=True)
    if not batchable(opts):
        raise ValueError(f"simulate_many runs the model's own Rosenbrock solver with a Jacobian pattern, not "
                         f"backend={opts.backend!r}, jacobian={opts.jacobian!r}")
    n = _batch_size(parameters, initial_states, n_patients)
    if not np.isfinite(duration_h) or duration_h <= 0:
        raise ValueError(f"duration must be a positive number of hours, got {duration_h}")
    if not np.isfinite(output_interval_h) or output_interval_h <= 0:
        raise ValueError(f"output interval must be positive, got {output_interval_h} h")
    model = build_model(configuration)
    obs_idx = np.array([_index(model.output_names, name, "output") for name in outputs], dtype=np.int64)
    state_idx = np.array([_index(model.state_names, name, "state") for name in states], dtype=np.int64)
    if model.jacobian is None:
        raise ValueError(f"configuration {configuration!r} has no Jacobian pattern: simulate_many needs one")
    actions, bounds = run_actions(model, events, start_h, duration_h)
    bounds_sorted = sorted(bounds)

    n_grid = int(np.floor(duration_h / output_interval_h + 1e-9)) + 1
    grid = np.linspace(0.0, (n_grid - 1) * output_interval_h, n_grid)
    if grid[-1] < duration_h - 1e-9:
        grid = np.append(grid, duration_h)
    listed = sessions(events) if sessions_h is None else sorted(sessions_h)
    inside = [(b, e) for b, e in listed if b >= 0 and e <= duration_h]
    starts = np.array([b for b, _ in inside], dtype=float)
    ends = np.array([e for _, e in inside], dtype=float)
    t_out = np.unique(np.concatenate([grid, starts, ends]))

    base_set = builtin_parameters(configuration)
    ptables: list[np.ndarray] = []
    prows: list[np.ndarray] = []
    y0s = np.zeros((n, model.n_states))
    run = np.zeros(n, dtype=np.bool_)
    status = np.zeros(n, dtype=np.int64)
    messages = ["success"] * n
    failed_at = np.full(n, np.nan)
    reference = None  # the tables of the first patient that could run (the shared event table)
    guards: list[_NonnegativeGuard | None] = []
    for j in range(n):
        try:
            over = parameters[j] if parameters is not None else None
            pset = over if isinstance(over, ParameterSet) else (base_set.with_values(**over) if over else base_set)
            check_parameter_ranges(pset, configuration)
            base = dict(pset)
            p = model.parameter_vector(base)
            given = None if initial_states is None else initial_states[j]
            y0 = model.initial_state(base) if given is None else np.array(given, dtype=float)
            if y0.shape != (model.n_states,):
                raise ValueError(f"initial state has shape {y0.shape}, the model has {model.n_states} states")
            tables = build_tables(model, bounds_sorted, actions, base, p)
        except Exception as exc:  # refused values of this patient: a value, not an exception
            status[j] = -1
            messages[j] = " ".join(f"{exc.__class__.__name__}: {exc}".split())
            ptables.append(np.zeros((1, len(model.parameter_names))))
            prows.append(np.zeros(len(bounds_sorted) - 1, dtype=np.int64))
            guards.append(None)
            continue
        reference = reference or tables
        run[j] = True
        y0s[j] = y0
        ptables.append(tables.ptable)
        prows.append(tables.seg_prow)
        guards.append(_NonnegativeGuard(model, y0))
    if reference is None:  # nobody can run: the event table from the defaults, only for its shape
        reference = build_tables(model, bounds_sorted, actions, dict(base_set),
                                 model.parameter_vector(dict(base_set)))
    guard_idx = np.array([i for i, st in enumerate(model.states) if st.must_be_nonnegative], dtype=np.int64)
    out = np.full((n, len(t_out), len(obs_idx) + len(state_idx)), np.nan)
    info = np.zeros((n, 10))
    jac = model.jacobian
    plan = model.sparse_lu.plan if opts.lu == "sparse" else np.zeros(1, dtype=np.int64)
    analytic = opts.jacobian == "analytic"
    nseg = len(bounds_sorted) - 1
    driver = model.generated._integrate_many_serial if threads == 1 else model.generated._integrate_many
    previous = _set_threads(None if threads == 1 else threads)
    try:
        for c0 in range(0, n, CHUNK):  # the parameter tables of a chunk only (~1 MB a patient for a dialysis year)
            c1 = min(n, c0 + CHUNK)
            rmax = max(t.shape[0] for t in ptables[c0:c1])
            ptab = np.zeros((c1 - c0, rmax, len(model.parameter_names)))
            for j in range(c0, c1):
                ptab[j - c0, :ptables[j].shape[0]] = ptables[j]
            seg_prow = np.ascontiguousarray(np.array(prows[c0:c1], dtype=np.int64).reshape(c1 - c0, nseg))
            chunk_out = np.full((c1 - c0, *out.shape[1:]), np.nan)
            chunk_info = np.zeros((c1 - c0, 10))
            deltas = np.zeros((c1 - c0, len(reference.act_kind)))
            driver(
                run[c0:c1], reference.seg_t, reference.act_ptr, reference.act_kind, reference.act_state,
                reference.act_value, seg_prow, ptab, np.ascontiguousarray(y0s[c0:c1]), t_out, obs_idx, state_idx,
                chunk_out, chunk_info, deltas, opts.rtol, opts.atol, 0.0, opts.max_steps_per_segment,
                len(model.states), jac.colour_ptr, jac.colour_cols, jac.col_ptr, jac.col_rows, jac.time_dependent,
                opts.restart_estimate, analytic, plan, guard_idx, GUARD_ATOL, GUARD_RTOL)
            out[c0:c1] = chunk_out
            info[c0:c1] = chunk_info
    finally:
        _set_threads(previous)
    for j in np.flatnonzero(run):
        code, next_out, k_stop = int(info[j, 0]), int(info[j, 1]), int(info[j, 5])
        status[j] = code
        if code == 0:
            continue
        if code == NEGATIVE_STATE:
            failed_at[j] = info[j, 6]
            messages[j] = guards[j].message(float(info[j, 6]), int(info[j, 7]), float(info[j, 8]))
        elif code == 3 and k_stop == len(bounds_sorted) - 1:  # finished, but an output is not finite
            failed_at[j] = duration_h
            messages[j] = STATUS_MESSAGES[3]
        else:
            t0 = float(reference.seg_t[min(k_stop, len(bounds_sorted) - 2)])
            failed_at[j] = max(t0, float(t_out[next_out - 1])) if next_out > 0 else t0
            messages[j] = STATUS_MESSAGES.get(code, f"solver status {code}")
    rows = {t: r for r, t in enumerate(t_out)}
    return BatchResult(
        t_h=t_out, names=(*outputs, *states), values=out, status=status, messages=messages, failed_at_h=failed_at,
        n_steps=info[:, 2].astype(np.int64), n_rhs=info[:, 3].astype(np.int64),
        grid_rows=np.array([rows[t] for t in grid], dtype=np.int64), session_starts_h=starts,
        session_start_rows=np.array([rows[t] for t in starts], dtype=np.int64),
        session_end_rows=np.array([rows[t] for t in ends], dtype=np.int64))


def batchable(opts) -> bool:
    """Whether a batch can run with these :class:`ckdmbd.simulation.SolverOptions` (the model's own Rosenbrock
    solver with the analytic or coloured Jacobian; ``specialised`` is implied: a single run equals a batch's
    patient when it asks for ``specialised=True``)."""
    return opts.backend == "rosenbrock" and opts.jacobian in ("analytic", "coloured")


def _batch_size(parameters, initial_states, n_patients) -> int:
    sizes = {len(x) for x in (parameters, initial_states) if x is not None}
    if n_patients is not None:
        sizes.add(int(n_patients))
    if len(sizes) != 1:
        raise ValueError(f"simulate_many: the number of patients is ambiguous (parameters, initial states and "
                         f"n_patients give {sorted(sizes) or 'none'})")
    size = sizes.pop()
    if size < 1:
        raise ValueError(f"simulate_many: at least one patient is needed, got {size}")
    return size


def _index(names: tuple[str, ...], name: str, kind: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        raise ValueError(f"simulate_many: unknown {kind} {name!r}") from None


def _set_threads(threads: int | None) -> int | None:
    """Set numba's thread count (None: leave it); returns the previous count."""
    if threads is None:
        return None
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    return previous
