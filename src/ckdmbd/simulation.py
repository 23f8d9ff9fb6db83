"""The solve orchestrator: one model, one parameter set, one protocol -> one labelled result.

The run is split at every action time (doses, GFR changes, surgery); the integrator is restarted after the
actions are applied, so discontinuities are exact. Backends are thin: ``rosenbrock`` (default) is the compiled
Rodas integrator that runs inside numba with the generated right-hand side; ``scipy`` drives
``scipy.integrate.solve_ivp`` (LSODA) with the same compiled right-hand side, as an independent cross-check.

Solver failure is a value (``Result.status`` / ``Result.message``) for batch use; ``simulate(..., check=True)``
(the default) raises :class:`SimulationError` with a message naming the time and the reason instead. The same holds
for an amount or a volume that becomes negative (beyond round-off): the run stops there, naming the state, its value
and the time, rather than continuing with a physically impossible state.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ckdmbd import units
from ckdmbd.citations import format_citations
from ckdmbd.model.composer import ELEMENT_UNITS, CompiledModel
from ckdmbd.model.configurations import model as build_model
from ckdmbd.model.configurations import parameters as builtin_parameters
from ckdmbd.parameter_ranges import check_parameter_ranges
from ckdmbd.parameters import ParameterSet
from ckdmbd.protocol import (
    Action,
    AddToState,
    Event,
    ProtocolError,
    ScaleParameter,
    ScaleState,
    SetParameter,
    SetState,
)
from ckdmbd.renal_indices import renal_phosphate_indices
from ckdmbd.solvers.rosenbrock import integrate_segment, integrate_segment_coloured
from ckdmbd.solvers.sparse_lu import NO_PLAN

STATUS_MESSAGES = {
    0: "success",
    1: "the solver exceeded its maximum number of steps",
    2: "the step size fell below the resolution of time (the solution is singular or blows up)",
    3: "the state or its rate of change became non-finite (NaN or infinity)",
    4: "a state that cannot be negative (an amount or a volume) became negative",
}
NEGATIVE_STATE = 4

GUARD_RTOL = 1e-6
"""A state that cannot be negative may dip below zero by round-off only: by at most GUARD_RTOL times the largest
magnitude it had in the run, plus GUARD_ATOL in its own unit (the solver's error control is 1e-6 relative and
1e-9 absolute, so an emptied pool that reads -1e-12 is zero)."""
GUARD_ATOL = 1e-8


class _NonnegativeGuard:
    """Checks the states that cannot be negative (:attr:`State.must_be_nonnegative`) at every output time and at
    every segment boundary, so that a pool drained below zero stops the run instead of passing silently."""

    def __init__(self, model: CompiledModel, y0: np.ndarray):
        self.model = model
        self.index = np.array([i for i, st in enumerate(model.states) if st.must_be_nonnegative], dtype=int)
        self.scale = np.abs(y0[self.index])

    def violation(self, t_h: np.ndarray, y: np.ndarray) -> tuple[float, str] | None:
        """(time, message) of the first row of ``y`` (rows at times ``t_h``) with a state below its tolerance."""
        if y.size == 0 or self.index.size == 0:
            return None
        values = y[:, self.index]
        scale = np.maximum(self.scale, np.nanmax(np.abs(values), axis=0))
        bad = values < -(GUARD_ATOL + GUARD_RTOL * scale)
        if not bad.any():
            self.scale = scale
            return None
        row, col = np.argwhere(bad)[0]
        return float(t_h[row]), self.message(float(t_h[row]), int(col), float(values[row, col]))

    def message(self, time_h: float, col: int, value: float) -> str:
        """The one-line failure of checked state ``col`` (an index into :attr:`index`) at ``value``."""
        state = self.model.states[self.index[col]]
        days = time_h / units.HOURS_PER_DAY
        return f"{STATUS_MESSAGES[NEGATIVE_STATE]}: {state.name} = {value:.6g} {state.unit} at t = {days:.6g} days"


class SimulationError(RuntimeError):
    """The solver could not complete the run, or a state that cannot be negative became negative; the message says
    when and why (one line)."""


TOLERANCE_PRESETS: dict[str, tuple[float, float]] = {
    "report": (1e-6, 1e-9),
    "population": (1e-4, 1e-7),
    "screen": (1e-3, 1e-6),
}
"""(rtol, atol) of each accuracy preset (:meth:`SolverOptions.preset`). ``report`` is the default, for results a
reader sees; ``population`` for calibration, virtual populations and sensitivity analysis; ``screen`` for a first
look. Their measured errors against a tight run (rtol 1e-9) on calcium, phosphate, PTH and calcitriol over a
dialysis patient-year are in the README ("Speed and accuracy") and printed by ``benchmarks/bench_engine.py``."""


TIME_RESOLUTION_H = 1e-9
"""Event times closer than this (relative to max(1 h, |t|)) to an earlier event or bound act at that earlier time:
a segment shorter than the time resolution cannot be integrated (found by the property test of issue 15: two binder
events at 0 and 1e-308 days ended in "step size below the resolution of time")."""

SPECIALISE_AFTER_SEGMENTS = 1000
"""Segments integrated in this process after which :attr:`SolverOptions.specialised` ``None`` switches to the solver
compiled for the model."""
_segments_integrated = 0


@dataclass(frozen=True)
class SolverOptions:
    """Integrator settings. Tolerances apply to every state (mixed absolute/relative error test)."""

    backend: str = "rosenbrock"
    rtol: float = 1e-6
    atol: float = 1e-9
    max_steps_per_segment: int = 200_000
    jacobian: str = "analytic"
    """``analytic``: in the solver compiled for the model (:attr:`specialised`), the Jacobian generated from the
    model's symbolic form (:mod:`ckdmbd.model.analytic_jacobian`), coloured finite differences where it has none (a
    model the symbolic pass cannot read, a step where an entry is not finite, the shared solver); ``coloured``:
    finite differences on the sparsity pattern read from the model's source, one rhs call per colour
    (:mod:`ckdmbd.model.sparsity`); ``dense``: one call per state column (the former engine)."""
    specialised: bool | None = None
    """Run the solver compiled for this model (the rhs called directly, ``model.generated.integrate_coloured``)
    rather than the shared one that calls the rhs through a function pointer; only the specialised one has the
    analytic Jacobian. ``True`` costs ~0.1 s to load per process (and a compile of up to a minute the first time on a
    machine); populations, fits and the app ask for it. ``None``: automatic, once this process has integrated
    :data:`SPECIALISE_AFTER_SEGMENTS` segments, so a one-off command never pays the load; then with coloured
    differences in either solver (the same numbers bit for bit), so that a run's numbers never depend on what the
    process ran before."""
    restart_estimate: bool = True
    """At a restart after an event, cap the previous segment's last step by the Hairer-Norsett-Wanner starting
    step estimate at the new state (a session start changes the rates by orders of magnitude)."""
    one_call: bool = True
    """With the solver compiled for the model (:attr:`specialised`) and the ``rosenbrock`` backend with a Jacobian
    pattern: the whole event loop in one compiled call (:func:`ckdmbd.solvers.rosenbrock._integrate_run`; segment
    boundaries, state actions and parameter vectors handed over as tables), the same numbers bit for bit as the
    segment-by-segment loop in Python (``False``, also taken when a ``progress`` callback is given), without its
    ~30 µs of Python and dispatch per segment (a dialysis year has 315)."""
    lu: str = "sparse"
    """Factorisation of each step's iteration matrix with a Jacobian pattern (``analytic``/``coloured``):
    ``sparse``, a fixed fill-reducing order computed once per model (:mod:`ckdmbd.solvers.sparse_lu`), with the
    dense LU for a step whose pivots fail its threshold test; ``dense``, the dense LU with partial pivoting for
    every step (the ``dense`` Jacobian always uses it)."""

    @classmethod
    def preset(cls, name: str, **overrides) -> SolverOptions:
        """Options at a named accuracy (:data:`TOLERANCE_PRESETS`): ``report``, ``population`` or ``screen``."""
        try:
            rtol, atol = TOLERANCE_PRESETS[name]
        except KeyError:
            raise ValueError(f"unknown solver preset {name!r}; choose one of {', '.join(TOLERANCE_PRESETS)}") from None
        return cls(**{"rtol": rtol, "atol": atol, **overrides})

    def __post_init__(self):
        if self.backend not in ("rosenbrock", "scipy"):
            raise ValueError(f"solver backend must be 'rosenbrock' or 'scipy', got {self.backend!r}")
        if self.jacobian not in ("analytic", "coloured", "dense"):
            raise ValueError(f"solver jacobian must be 'analytic', 'coloured' or 'dense', got {self.jacobian!r}")
        if self.lu not in ("sparse", "dense"):
            raise ValueError(f"solver lu must be 'sparse' or 'dense', got {self.lu!r}")
        if not (0 < self.rtol < 1) or self.atol <= 0:
            raise ValueError(f"solver tolerances must satisfy 0 < rtol < 1 and atol > 0, got {self.rtol}, {self.atol}")


@dataclass
class Result:
    """A simulation result: raw states at the output times plus everything needed to read it clinically."""

    model: CompiledModel
    parameters: ParameterSet
    t_h: np.ndarray
    y: np.ndarray
    p_final: np.ndarray
    status: int = 0
    message: str = "success"
    failed_at_h: float | None = None
    n_steps: int = 0
    n_rhs: int = 0
    events: tuple = ()
    segment_starts_h: np.ndarray | None = None
    segment_parameters: np.ndarray | None = None
    """Parameter vector in force in each solver segment (events change parameters between segments)."""
    jumps: tuple = ()
    """(time_h, {element: mmol}) for every event that moved calcium or phosphate across the body boundary
    directly (surgical removal of a deposit): booked in the mass balance like the ledgers."""
    n_rejected: int = 0
    """Rejected step attempts of the compiled solver (coloured-Jacobian engine only)."""
    final_parameters: dict | None = None
    """The base parameter values in force at the end (every action applied), and the solver's last step size (h):
    with the last state they continue the run from its end exactly (the what-if app continues a scenario's history
    from t = 0, :mod:`ckdmbd.app_history`)."""
    final_step_h: float = 0.0
    _outputs: np.ndarray | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def t_days(self) -> np.ndarray:
        return self.t_h / units.HOURS_PER_DAY

    def state(self, name: str) -> np.ndarray:
        return self.y[:, self.model.state_index(name)]

    def outputs(self) -> pd.DataFrame:
        """Every named intermediate (concentrations and fluxes, model units) at the output times."""
        return pd.DataFrame(self._output_array(), columns=list(self.model.output_names))

    def _output_array(self) -> np.ndarray:
        """The outputs as one array (rows: output times; columns: ``model.output_names``), computed once."""
        if self._outputs is None:
            out = np.zeros((len(self.t_h), len(self.model.output_names)))
            if self.segment_starts_h is not None and len(self.segment_parameters) == 0:
                out[:] = np.nan  # stopped before its first segment (a negative initial state): nothing to observe
            elif self.segment_starts_h is None:
                self.model.generated.observe_many(self.t_h, self.y, self.p_final, out)
            elif hasattr(self.model.generated, "_observe_rows"):  # each row with its segment's parameters
                seg = np.maximum(np.searchsorted(self.segment_starts_h, self.t_h, side="right") - 1, 0)
                self.model.generated._observe_rows(self.t_h, np.ascontiguousarray(self.y), seg.astype(np.int64),
                                                   np.ascontiguousarray(self.segment_parameters), out)
            else:  # each output row with the parameters of the segment it belongs to
                seg = np.searchsorted(self.segment_starts_h, self.t_h, side="right") - 1
                for k in np.unique(seg):
                    rows = np.flatnonzero(seg == k)
                    block = np.zeros((len(rows), out.shape[1]))
                    self.model.generated.observe_many(self.t_h[rows], self.y[rows], self.segment_parameters[k], block)
                    out[rows] = block
            self._outputs = out
        return self._outputs

    def mass_balance(self) -> pd.DataFrame:
        """Per element: body content, cumulative net input across the boundary, and the imbalance
        (content change minus net input), in mmol (calcium, phosphate) or L (water: ``water_body_L``...). The
        imbalance is the solver's bookkeeping error."""
        return pd.DataFrame(self._mass_balance_columns())

    def _mass_balance_columns(self) -> dict[str, np.ndarray]:
        content = self.model.body_content(self.y)
        net = self.model.net_boundary_input(self.y)
        for time_h, change in self.jumps:
            for el, amount in change.items():
                if el in net:
                    net[el] = net[el] + np.where(self.t_h >= time_h, amount, 0.0)
        cols = {"time_days": self.t_days}
        for el in self.model.elements:
            u = ELEMENT_UNITS[el]
            cols[f"{el}_body_{u}"] = content[el]
            cols[f"{el}_net_input_{u}"] = net[el]
            cols[f"{el}_imbalance_{u}"] = content[el] - content[el][0] - (net[el] - net[el][0])
        return cols

    def to_frame(self, include_states: bool = True, include_fluxes: bool = False) -> pd.DataFrame:
        """The time series in clinical units (first column ``time_days``), then raw states and ledgers.
        Units per column are in ``frame.attrs["units"]``. Built from plain arrays into one float block (the
        outputs are not first made a frame of their own): an hourly year has 8,761 rows."""
        out = self._output_array()
        o = {name: out[:, k] for k, name in enumerate(self.model.output_names)}
        ca, po4, pth, ctriol = o["ca_mM"], o["phosphate_mM"], o["pth_pM"], o["calcitriol_pM"]
        gfr = np.maximum(self.state("gfr"), 0.0)  # anuria is an exact 0 that round-off can dip below by 1e-16
        cols: dict[str, np.ndarray] = {
            "time_days": self.t_days,
            "calcium_mmol_L": ca,
            "calcium_mg_dL": units.calcium_mg_dl(ca),
            "phosphate_mmol_L": po4,
            "phosphate_mg_dL": units.phosphate_mg_dl(po4),
            "pth_pmol_L": pth,
            "pth_pg_mL": units.pth_pg_ml(pth),
            "calcitriol_pmol_L": ctriol,
            "calcitriol_pg_mL": units.calcitriol_pg_ml(ctriol),
            "gfr_mL_min": units.l_h_to_ml_min(gfr),
        }
        unit = {
            "time_days": "day", "calcium_mmol_L": "mmol/L", "calcium_mg_dL": "mg/dL", "phosphate_mmol_L": "mmol/L",
            "phosphate_mg_dL": "mg/dL", "pth_pmol_L": "pmol/L", "pth_pg_mL": "pg/mL", "calcitriol_pmol_L": "pmol/L",
            "calcitriol_pg_mL": "pg/mL", "gfr_mL_min": "mL/min",
        }
        for name, column, unit_name in (("ionized_calcium_mM", "ionized_calcium_mmol_L", "mmol/L"),
                                        ("on_dialysis", "on_dialysis", "1"), ("albumin_g_L", "albumin_g_L", "g/L")):
            if name in o:
                cols[column] = o[name]
                unit[column] = unit_name
        if "deposit_diameter_cm" in o:
            for name, column, unit_name in (("deposit_mass_g", "deposit_mass_g", "g"),
                                            ("deposit_diameter_cm", "deposit_diameter_cm", "cm"),
                                            ("ca_x_p_mM2", "ca_x_p_mmol2_L2", "mmol^2/L^2")):
                cols[column] = o[name]
                unit[column] = unit_name
            cols["ca_x_p_mg2_dL2"] = units.calcium_mg_dl(1.0) * units.phosphate_mg_dl(o["ca_x_p_mM2"])
            unit["ca_x_p_mg2_dL2"] = "mg^2/dL^2"
        if "ecf_volume" in self.model.state_names:  # fluid (default configuration)
            cols["ecf_volume_L"] = self.state("ecf_volume")
            unit["ecf_volume_L"] = "L"
            cols["ultrafiltration_L_h"] = o["ultrafiltration_rate"]
            unit["ultrafiltration_L_h"] = "L/h"
        if "calcification_propensity_t50_min" in o:  # serum calcification propensity, T50-like (lower: worse)
            cols["calcification_propensity_t50_min"] = o["calcification_propensity_t50_min"]
            unit["calcification_propensity_t50_min"] = "min"
        if "phosphate_threshold_mM" in o:  # the renal phosphate handling a clinic measures (nephron kidney)
            cols.update(renal_phosphate_indices(po4, o["phosphate_excretion"], gfr))
            unit.update({"tmp_gfr_mmol_L": "mmol/L", "phosphate_fe_percent": "%"})
        if "fgf23" in self.model.state_names:
            cols["fgf23_pg_mL"] = self.state("fgf23")
            unit["fgf23_pg_mL"] = "pg/mL"
        for name, column, unit_name in (("vitamin_d_25_nmol_L", "vitamin_d_25_nmol_L", "nmol/L"),
                                        ("paricalcitol_pM", "paricalcitol_pmol_L", "pmol/L"),
                                        ("cinacalcet_ng_mL", "cinacalcet_ng_mL", "ng/mL"),
                                        ("etelcalcetide_ng_mL", "etelcalcetide_ng_mL", "ng/mL"),
                                        ("calcimimetic_setpoint_factor", "calcimimetic_setpoint_factor", "1")):
            if name in o:  # vitamin D and calcimimetics (default configuration)
                cols[column] = o[name]
                unit[column] = unit_name
        mb = self._mass_balance_columns()
        for c in list(mb)[1:]:
            cols[c] = mb[c]
            unit[c] = c.rsplit("_", 1)[1]  # mmol, or L for water
        if include_states:
            for i, st in enumerate(self.model.states):
                cols[st.name] = self.y[:, i]
                unit[st.name] = st.unit
            for entry in self.model.ledger:
                cols[f"ledger_{entry.process}"] = self.y[:, entry.state_index]
                unit[f"ledger_{entry.process}"] = "L" if set(entry.element_per_unit) == {"water"} else "mmol"
        if include_fluxes:
            for name in o:
                if name not in cols:
                    cols[name] = o[name]
                    unit[name] = "model units"
        data = np.empty((len(cols), len(self.t_h)))
        for k, values in enumerate(cols.values()):
            data[k] = values
        frame = pd.DataFrame(data.T, columns=list(cols), copy=False)  # one block, no consolidation copy
        frame.attrs["units"] = unit
        return frame

    @property
    def citations(self) -> list[str]:
        """Full references this run relied on: the submodels' and those of every parameter value."""
        keys = set(self.model.citations) | {s for s in self.parameters.sources if s != "assumed"}
        return format_citations(keys)


def expand_events(events: Iterable[Event | Action], state_names: tuple[str, ...]) -> list[Action]:
    """Expand events into primitive actions, in time order (events that depend on the model's structure see its
    state names); same-time actions keep their order."""
    actions: list[Action] = []
    for ev in events:
        if isinstance(ev, SetParameter | ScaleParameter | SetState | AddToState | ScaleState):
            actions.append(ev)
        else:
            actions.extend(ev.actions(state_names))
    return sorted(actions, key=lambda a: a.time_h)


def _apply(action: Action, y: np.ndarray, base: dict[str, float], model: CompiledModel,
           jumps: list[tuple[float, dict[str, float]]]) -> bool:
    """Apply one action in place; returns True when parameters changed (derived values must be recomputed).
    A change of a state that holds calcium or phosphate is booked in ``jumps`` (it crossed the body boundary)."""
    if isinstance(action, SetState | AddToState | ScaleState):
        try:
            i = model.state_index(action.state)
        except KeyError as exc:
            raise ProtocolError(f"event at t = {action.time_h} h targets {exc.args[0]}") from None
        before = y[i]
        if isinstance(action, SetState):
            y[i] = action.value
        elif isinstance(action, AddToState):
            y[i] += action.amount
        else:
            y[i] *= action.factor
        contains = model.states[i].contains if i < len(model.states) else {}
        if contains and y[i] != before:
            jumps.append((action.time_h, {el: (y[i] - before) * amount for el, amount in contains.items()}))
        return False
    if action.name not in base:
        raise ProtocolError(f"event at t = {action.time_h} h sets unknown parameter {action.name!r}")
    base[action.name] = action.value if isinstance(action, SetParameter) else base[action.name] * action.factor
    return True


def _scipy_segment(model: CompiledModel, t0, t1, y0, p, t_out, y_out, first, opts: SolverOptions):
    from scipy.integrate import solve_ivp

    rhs = model.generated.rhs

    def f(t, y):
        dy = np.empty_like(y)
        rhs(t, y, p, dy)
        return dy

    last = len(t_out) - 1
    idx = [i for i in range(first, len(t_out)) if t0 <= t_out[i] < t1 or (i == last and t_out[i] == t1)]
    sol = solve_ivp(f, (t0, t1), y0, method="LSODA", rtol=opts.rtol, atol=opts.atol, dense_output=True)
    if not sol.success:
        return 2, y0, first, 0, sol.nfev
    if idx:
        y_out[idx] = sol.sol(t_out[idx]).T
    return 0, sol.y[:, -1].copy(), (idx[-1] + 1 if idx else first), len(sol.t), sol.nfev


def _snap_to_resolution(actions: list, fixed: tuple[float, ...]) -> list:
    """Actions whose time lies within :data:`TIME_RESOLUTION_H` of an earlier action or fixed bound, moved to it (the
    earliest of each cluster; order kept)."""
    times = sorted(set(fixed) | {a.time_h for a in actions})
    first: dict[float, float] = {}
    cluster = None
    for t in times:
        if cluster is None or t - cluster > TIME_RESOLUTION_H * max(1.0, abs(cluster)):
            cluster = t
        first[t] = cluster
    return [a if first[a.time_h] == a.time_h else replace(a, time_h=first[a.time_h]) for a in actions]


def run_actions(model: CompiledModel, events: Sequence[Event | Action], start_h: float,
                duration_h: float) -> tuple[list[Action], set[float]]:
    """The primitive actions of a run from ``start_h`` to ``duration_h`` (time order, snapped to the time
    resolution, those at or after the end dropped) and the segment bounds they make."""
    if not np.isfinite(start_h) or start_h > 0:
        raise ValueError(f"start must be at or before t = 0, got {start_h} h")
    actions = expand_events(events, model.state_names)
    if actions and actions[0].time_h < start_h:
        raise ProtocolError(f"event at t = {actions[0].time_h} h lies before the start of the run ({start_h} h)")
    actions = _snap_to_resolution(actions, (float(start_h), 0.0))
    end_h = float(duration_h) - TIME_RESOLUTION_H * max(1.0, abs(float(duration_h))) if duration_h > 0 else 0.0
    actions = [a for a in actions if a.time_h < end_h]  # at or after the end they cannot act (a decline's stop)
    return actions, {float(start_h), 0.0, float(duration_h)} | {a.time_h for a in actions}


def simulate(
    configuration: str = "default",
    duration_h: float = units.HOURS_PER_YEAR,
    events: Sequence[Event | Action] = (),
    output_interval_h: float = units.HOURS_PER_DAY,
    parameters: Mapping[str, float] | ParameterSet | None = None,
    solver: SolverOptions | None = None,
    progress: Callable[[float, float], None] | None = None,
    progress_chunk_h: float = 30 * units.HOURS_PER_DAY,
    initial_state: np.ndarray | None = None,
    output_times_h: np.ndarray | None = None,
    check: bool = True,
    start_h: float = 0.0,
    extra_output_times_h: Sequence[float] | np.ndarray = (),
    initial_step_h: float = 0.0,
) -> Result:
    """Simulate ``configuration`` for ``duration_h`` hours under ``events``.

    ``parameters``: a full :class:`ParameterSet`, or a mapping of overrides applied to the configuration's
    built-in set. ``progress(t_done_h, duration_h)`` is called at every segment end (long runs are cut into
    ``progress_chunk_h`` pieces when a callback is given).

    ``start_h`` < 0 simulates a history before t = 0 (for example years on dialysis) whose events have negative
    times; outputs are reported from t = 0 on. ``extra_output_times_h`` are merged into the output grid (for
    example every 15 minutes during dialysis sessions). ``duration_h`` = 0 with ``start_h`` < 0 simulates the
    history alone (its state at t = 0 is the one output; the actions at t = 0 are not applied), and
    ``initial_step_h`` is the first step the solver tries (0: its own estimate): with a history's
    :attr:`Result.final_parameters` and :attr:`Result.final_step_h` a run from t = 0 continues it exactly.
    """
    opts = solver or SolverOptions()
    if not np.isfinite(duration_h) or duration_h < 0 or (duration_h == 0 and not start_h < 0):
        raise ValueError(f"duration must be a positive number of hours, got {duration_h}")
    if not np.isfinite(initial_step_h) or initial_step_h < 0:
        raise ValueError(f"initial step must be a non-negative number of hours, got {initial_step_h}")
    if output_times_h is None:
        if not np.isfinite(output_interval_h) or output_interval_h <= 0:
            raise ValueError(f"output interval must be positive, got {output_interval_h} h")
        n_out = int(np.floor(duration_h / output_interval_h + 1e-9)) + 1
        t_out = np.linspace(0.0, (n_out - 1) * output_interval_h, n_out)
        if t_out[-1] < duration_h - 1e-9:
            t_out = np.append(t_out, duration_h)
        extra = np.asarray(extra_output_times_h, dtype=float)
        if extra.size:
            t_out = np.unique(np.concatenate([t_out, extra[(extra >= 0) & (extra <= duration_h)]]))
    else:
        t_out = np.asarray(output_times_h, dtype=float)
        if t_out.ndim != 1 or np.any(np.diff(t_out) <= 0) or t_out[0] < start_h or t_out[-1] > duration_h:
            raise ValueError("output times must be increasing and within [start, duration]")
    model = build_model(configuration)
    pset = builtin_parameters(configuration)
    if isinstance(parameters, ParameterSet):
        pset = parameters
    elif parameters:
        pset = pset.with_values(**parameters)
    check_parameter_ranges(pset, configuration)  # issue 15: refused outside hard limits, warned outside the range
    base = dict(pset)
    p = model.parameter_vector(base)
    y = model.initial_state(base) if initial_state is None else np.array(initial_state, dtype=float)
    if y.shape != (model.n_states,):
        raise ValueError(f"initial state has shape {y.shape}, the model has {model.n_states} states")

    actions, bounds = run_actions(model, events, start_h, duration_h)
    if progress is not None:  # extra restarts for progress reports, kept clear of the physical ones
        fixed = np.array(sorted(bounds))
        for tc in np.arange(start_h + progress_chunk_h, duration_h, progress_chunk_h):
            if np.min(np.abs(fixed - tc)) > 1e-3 * progress_chunk_h:
                bounds.add(float(tc))
    bounds_sorted = sorted(bounds)

    y_out = np.full((len(t_out), model.n_states), np.nan)
    next_out, h_last, steps, nrhs = 0, float(initial_step_h), 0, 0
    pending = list(actions)
    status, failed_at = 0, None
    guard, guard_message = _NonnegativeGuard(model, y), None
    seg_starts: list[float] = []
    jumps: list[tuple[float, dict[str, float]]] = []
    seg_params: list[np.ndarray] = []
    jac = model.jacobian if opts.jacobian in ("analytic", "coloured") else None
    analytic = opts.jacobian == "analytic"
    lu_plan = model.sparse_lu.plan if jac is not None and opts.lu == "sparse" else NO_PLAN
    global _segments_integrated
    _segments_integrated += len(bounds_sorted) - 1
    specialised = opts.specialised
    if specialised is None:
        specialised = _segments_integrated > SPECIALISE_AFTER_SEGMENTS
        # automatic: the switch depends on what this process ran before, so both solvers must give the same numbers
        # (bit for bit with coloured differences); the analytic Jacobian only where a caller asks for the specialised
        # solver explicitly (populations, fits, the app), or a run's numbers would depend on the process's history
        analytic = False
    if specialised:
        integrate = model.generated.integrate_coloured
    else:
        def integrate(*args):
            return integrate_segment_coloured(model.generated.rhs, *args[:-2], args[-1])  # no analytic Jacobian
    rejected = 0
    if (specialised and opts.one_call and opts.backend == "rosenbrock" and jac is not None and progress is None
            and hasattr(model.generated, "_integrate_run")):
        return _simulate_one_call(model, pset, base, p, y, actions, bounds_sorted, t_out, float(initial_step_h),
                                  opts, analytic, lu_plan, guard, tuple(events), float(duration_h), check)
    for t0, t1 in itertools.pairwise(bounds_sorted):
        changed: set[str] = set()
        moved = not seg_starts  # the initial state, or a state an action changed, is checked before integrating
        while pending and pending[0].time_h <= t0:
            action = pending.pop(0)
            if _apply(action, y, base, model, jumps):
                changed.add(action.name)
            else:
                moved = True
        if changed:  # derive() re-run only when an event changed a parameter it reads
            p = model.parameter_vector_after(p, base, changed)
        found = guard.violation(np.array([t0]), y[None, :]) if moved else None  # an action set a state negative
        if found is not None:
            status, (failed_at, guard_message) = NEGATIVE_STATE, found
            break
        first_out = next_out
        if not seg_params or changed:
            seg_starts.append(t0)
            seg_params.append(p)
        if opts.backend == "rosenbrock" and jac is not None:
            status, y_end, next_out, n_s, n_f, h_last, n_rej = integrate(
                t0, t1, y, p, t_out, y_out, next_out, opts.rtol, opts.atol, h_last,
                opts.max_steps_per_segment, len(model.states), jac.colour_ptr, jac.colour_cols, jac.col_ptr,
                jac.col_rows, jac.time_dependent, opts.restart_estimate, analytic, lu_plan)
            rejected += n_rej
        elif opts.backend == "rosenbrock":
            status, y_end, next_out, n_s, n_f, h_last = integrate_segment(
                model.generated.rhs, t0, t1, y, p, t_out, y_out, next_out, opts.rtol, opts.atol, h_last,
                opts.max_steps_per_segment, len(model.states))
        else:
            status, y_end, next_out, n_s, n_f = _scipy_segment(model, t0, t1, y, p, t_out, y_out, next_out, opts)
        steps += n_s
        nrhs += n_f
        if status != 0:  # the last output the solver reached is the best estimate of when it failed
            failed_at = max(t0, float(t_out[next_out - 1])) if next_out > 0 else t0
            break
        y = np.array(y_end)
        found = guard.violation(np.append(t_out[first_out:next_out], t1),
                                np.vstack([y_out[first_out:next_out], y[None, :]]))
        if found is not None:
            status, (failed_at, guard_message) = NEGATIVE_STATE, found
            break
        if progress is not None:
            progress(t1 - start_h, duration_h - start_h)
    message = guard_message or STATUS_MESSAGES.get(int(status), f"solver status {status}")
    if status == 0 and not np.all(np.isfinite(y_out)):
        status, message, failed_at = 3, STATUS_MESSAGES[3], float(duration_h)
    result = Result(model, pset, t_out, y_out, p, int(status), message, failed_at, steps, nrhs, tuple(events),
                    np.array(seg_starts), np.array(seg_params), tuple(jumps), n_rejected=rejected,
                    final_parameters=dict(base), final_step_h=float(h_last))
    return _checked(result, check)


def _checked(result: Result, check: bool) -> Result:
    """The result, or with ``check`` a failed run as :class:`SimulationError` (one line: when and why)."""
    if check and result.status != 0:
        days = result.failed_at_h / units.HOURS_PER_DAY  # negative during a history before t = 0
        raise SimulationError(f"simulation failed after t = {days:.4g} days ({days / units.DAYS_PER_YEAR:.3g} "
                              f"years): {result.message}")
    return result


def _simulate_one_call(model: CompiledModel, pset: ParameterSet, base: dict[str, float], p: np.ndarray,
                       y: np.ndarray, actions: list, bounds: list[float], t_out: np.ndarray, initial_step_h: float,
                       opts: SolverOptions, analytic: bool, lu_plan: np.ndarray, guard: _NonnegativeGuard,
                       events: tuple, duration_h: float, check: bool) -> Result:
    """:func:`simulate`'s event loop as one compiled call (:attr:`SolverOptions.one_call`): the same segments,
    actions, guard and numbers as the Python loop, from tables (:mod:`ckdmbd.solvers.event_tables`)."""
    from ckdmbd.solvers.event_tables import apply_parameter, build_tables, jumps_of

    tables = build_tables(model, bounds, actions, base, p)
    jac = model.jacobian
    y_out = np.full((len(t_out), model.n_states), np.nan)
    deltas = np.zeros(len(tables.act_kind))
    scale = guard.scale.copy()
    (status, _y_end, next_out, steps, nrhs, h_last, rejected, k_stop, fail_t, fail_col, fail_value,
     at_start) = model.generated._integrate_run(
        tables.seg_t, tables.act_ptr, tables.act_kind, tables.act_state, tables.act_value, deltas, tables.seg_prow,
        tables.ptable, np.ascontiguousarray(y, dtype=float), t_out, y_out, opts.rtol, opts.atol, initial_step_h,
        opts.max_steps_per_segment, len(model.states), jac.colour_ptr, jac.colour_cols, jac.col_ptr, jac.col_rows,
        jac.time_dependent, opts.restart_estimate, analytic, lu_plan, guard.index.astype(np.int64), scale,
        GUARD_ATOL, GUARD_RTOL)
    nseg = len(bounds) - 1
    base_final = tables.base
    keep = len(tables.seg_starts)
    n_applied = len(tables.act_kind)
    failed_at = None
    message = STATUS_MESSAGES.get(int(status), f"solver status {status}")
    if status != 0:
        # the loop stops before recording a segment whose start failed the guard
        keep = sum(1 for k in tables.seg_start_segment if k < k_stop or (k == k_stop and not at_start))
        n_applied = int(tables.act_ptr[k_stop + 1])
        base_final = dict(pset)
        for action in actions[:tables.cursor[k_stop]]:
            if not isinstance(action, SetState | AddToState | ScaleState):
                apply_parameter(action, base_final)
        if status == NEGATIVE_STATE:
            failed_at = float(fail_t)
            message = guard.message(failed_at, int(fail_col), float(fail_value))
        else:
            t0 = float(tables.seg_t[k_stop])
            failed_at = max(t0, float(t_out[next_out - 1])) if next_out > 0 else t0
    elif not np.all(np.isfinite(y_out)):
        status, message, failed_at = 3, STATUS_MESSAGES[3], duration_h
    p_last = tables.ptable[tables.seg_prow[min(int(k_stop), nseg - 1)]]
    result = Result(model, pset, t_out, y_out, p_last, int(status), message, failed_at, int(steps), int(nrhs),
                    events, np.array(tables.seg_starts[:keep]), np.array(tables.seg_params[:keep]),
                    tuple(jumps_of(model, tables, deltas, n_applied)), n_rejected=int(rejected),
                    final_parameters=dict(base_final), final_step_h=float(h_last))
    return _checked(result, check)


def simulate_many(*args, **kwargs):
    """N patients under one protocol in one compiled call across cores, reduced outputs as arrays, failures as
    values: :func:`ckdmbd.solvers.batch.simulate_many` (documented there)."""
    from ckdmbd.solvers.batch import simulate_many as batch

    return batch(*args, **kwargs)
