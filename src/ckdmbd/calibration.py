"""Calibration: estimate a small set of patient parameters from a lab series, with uncertainty, and say when the
estimate cannot be trusted.

Estimated (on a log scale, within bounds): the patient's dietary phosphorus and calcium intake (what the gut sees,
so it absorbs adherence to diet and to binders) and the mass of his parathyroid tissue at the start of the lab
series (what sets PTH). They are what pre-dialysis phosphate, calcium and PTH inform; dialysis kinetics (K_M, the
dialyzer) are not identifiable from pre-dialysis values and stay at the scenario's values.

Observation model: a laboratory value y = model x exp(e), e ~ N(0, cv^2) with the analytical-plus-short-term
biological CVs of ``LAB_CV`` (assumed typical values); a sample flagged pre-dialysis is compared with the model at
the start of that day's session (as a clinic draws it). An assay cannot report a concentration below its lower
limit (``ASSAY_LIMIT``: intact PTH 0.13 pmol/L), so

- a model value below the limit reads as the limit (observable max(model, limit)): after a total
  parathyroidectomy or a graft excision the model's PTH is ~0 and a measured 2.1 pmol/L is then log(2.1/0.13)/0.15
  = 19 SD away, not the 230 SD of log(2.1/1e-15);
- a lab value at or below the limit (reported as "< limit" and coded as the limit, or below it) is left-censored:
  its term of the objective is -2 log Phi((log limit - log model) / cv), the probability that the assay reads below
  its limit. It is kept rather than dropped because "undetectable" is information (the tissue is gone). Its term is
  not exactly chi-square distributed; the goodness of fit counts it as one degree of freedom (an approximation).

The fit minimises the weighted log residuals (scipy.optimize.least_squares, trust-region reflective, bounds) from
several starts; the 95 % confidence intervals come from the Gauss-Newton covariance (J^T J)^-1 of the weighted
problem at the optimum (log scale, so the intervals are asymmetric on the natural scale).

A fit FAILS -- and says why, in one line per reason (``FitResult.failures``) -- when

- an estimate sits at a bound (the data push it outside the allowed range: the scenario cannot explain them);
- the information matrix J^T J is singular (a parameter changes no fitted value) or ill-conditioned (condition
  number above ``MAX_CONDITION`` or a direction the data do not constrain within the bounds): the parameters of
  its weakest direction are named, they are not identifiable from these labs;
- the goodness of fit rejects the model: chi-square p-value below ``P_REJECT`` = 0.001 (the largest standardised
  residuals are named);
- the model could not be simulated at the estimate, or the optimiser stopped without converging.

The caller (``ckdmbd fit``) then writes no calibrated scenario unless forced. The JSON form (:meth:`FitResult.to_dict`)
is strict JSON: a number that does not exist (a singular covariance, a p-value without degrees of freedom) is null
with a reason beside it.

Why the optimiser once never moved on the seed case: its PTH after the graft excision is exactly 0, the log
residual was then replaced by a constant penalty for every value, the objective was flat, every finite-difference
derivative was 0 and least_squares stopped at its start with ``success`` (intervals equal to the bounds, an
infinite covariance). The assay limit makes that residual finite and smooth; a failed simulation still gets a
penalty, but is counted and reported.

The patient's state at the start of the series is the scenario's state at t = 0 (its history simulated once with the
scenario's own parameters); the estimated intakes act from t = 0 (a later diet event of the scenario overrides them:
such a parameter is reported as poorly identifiable) and the tissue mass scales the t = 0 state.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.special import log_ndtr
from scipy.stats import chi2

from ckdmbd import units
from ckdmbd.model.configurations import model
from ckdmbd.protocol import Diet, ScaleParameter, SetParameter, event_start_h
from ckdmbd.scenario import Scenario, run_scenario
from ckdmbd.sessions import session_output_times
from ckdmbd.sessions import sessions as session_times
from ckdmbd.simulation import SolverOptions, expand_events, simulate

LAB_CV = {
    # assumed: analytical + within-subject short-term variation of pre-dialysis samples (typical laboratory values)
    "calcium_mmol_L": 0.03,
    "phosphate_mmol_L": 0.08,
    "pth_pmol_L": 0.15,
}

ASSAY_LIMIT: dict[str, tuple[float, str]] = {
    # lower limit of the measuring range (canonical unit), and where it comes from. Calcium and phosphate assays
    # measure far below any value a living patient has, so only PTH has one.
    "pth_pmol_L": (0.13, "lower end of an Elecsys intact PTH assay's measuring range, 1.2 pg/mL = 0.13 pmol/L "
                         "(field notes, section 3, shared/notes/field-chemistry-binders-labs.md; unconfirmed)"),
}

P_REJECT = 1e-3  # goodness of fit rejects the model below this chi-square p-value (the threshold)
MAX_CONDITION = 1e8  # J^T J condition number above which the estimate is called ill-conditioned (1e4 in SE ratio)
SINGULAR = 1e-12  # smallest/largest eigenvalue of J^T J below this: singular
BOUND_TOL_LOG = 1e-3  # an estimate within this (log units) of a bound is at the bound
FAILED_RESIDUAL = 1e3  # residual of every value when the model cannot be simulated (a penalty, counted)
FIT_SOLVER = SolverOptions(specialised=True)
"""The solver of every simulation of a fit, its forecast and its start state: the one compiled for the model, with
the analytic Jacobian (~3x faster than the shared solver one-off commands use), at the ``report`` tolerances, which
the finite-difference gradient needs (see :data:`DIFF_STEP`). The same options on every call, so the fit's numbers
do not depend on what the process ran before."""

DIFF_STEP = 5e-3
"""Relative finite-difference step of the log parameters. At rtol 1e-6 of the solver, a 0.5 % step changes the
fitted values by ~1e-3 relative (PTH scales about linearly with the tissue mass), 1,000 times the solver's noise,
while the forward-difference bias of a 0.5 % step stays below the intervals' resolution."""


@dataclass(frozen=True)
class FitParameter:
    name: str
    unit: str
    lower: float
    upper: float
    description: str


FIT_PARAMETERS = (
    FitParameter("diet_phosphorus", "mg/day", 300.0, 3000.0, "dietary phosphorus reaching the gut"),
    FitParameter("diet_calcium", "mg/day", 200.0, 3000.0, "dietary calcium (with binder calcium) reaching the gut"),
    FitParameter("parathyroid_tissue", "x normal", 0.05, 50.0, "parathyroid tissue mass at the first sample"),
)
_BY_NAME = {p.name: p for p in FIT_PARAMETERS}


class CalibrationError(ValueError):
    """The lab series or the scenario cannot be fitted (too few values, unknown analyte, samples before t = 0...)."""


def _json_number(x) -> float | None:
    """A finite float, or None (JSON null) for NaN and infinities."""
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass
class FitResult:
    names: tuple[str, ...]
    estimate: np.ndarray
    ci_low: np.ndarray  # NaN where there is no covariance
    ci_high: np.ndarray
    se_log: np.ndarray
    covariance_log: np.ndarray | None  # None: the information matrix is singular (see covariance_note)
    chi_square: float
    dof: int
    rms_log_residual: dict[str, float]
    success: bool  # the optimiser's own verdict (convergence), not the fit's: see ``ok``
    message: str
    n_starts: int
    n_simulations: int
    cost_by_start: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one line each: why the fit cannot be trusted
    residuals: list[dict] = field(default_factory=list)  # per lab value: day, column, observed, model, z, censored
    condition_number: float | None = None
    covariance_note: str = ""
    failed_simulations: int = 0

    @property
    def ok(self) -> bool:
        """True when none of the failure checks fired (at a bound, singular or ill-conditioned, rejected...)."""
        return not self.failures

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({
            "parameter": self.names,
            "estimate": self.estimate,
            "ci95_low": self.ci_low,
            "ci95_high": self.ci_high,
            "unit": [_BY_NAME[n].unit for n in self.names],
        })

    def to_dict(self) -> dict:
        """Strict JSON (``json.dumps(..., allow_nan=False)`` accepts it): non-finite numbers are null, with a note."""
        rows = []
        for r, se in zip(self.table().itertuples(index=False), self.se_log, strict=True):
            row = {"parameter": r.parameter, "estimate": _json_number(r.estimate), "ci95_low": _json_number(r.ci95_low),
                   "ci95_high": _json_number(r.ci95_high), "unit": r.unit, "se_log": _json_number(se),
                   "lower_bound": _BY_NAME[r.parameter].lower, "upper_bound": _BY_NAME[r.parameter].upper}
            if row["ci95_low"] is None or row["se_log"] is None:
                row["ci95_note"] = f"no interval: {self.covariance_note or 'no covariance'}"
            rows.append(row)
        cov = None if self.covariance_log is None else self.covariance_log.tolist()
        if cov is not None and not np.all(np.isfinite(self.covariance_log)):
            cov = None
        p = self.p_value
        gof = {"chi_square": _json_number(self.chi_square), "dof": self.dof, "p_value": _json_number(p),
               "reject_below_p": P_REJECT,
               "rms_log_residual": {k: _json_number(v) for k, v in self.rms_log_residual.items()}}
        if gof["p_value"] is None:
            gof["p_value_note"] = "no degrees of freedom left" if self.dof <= 0 else "chi-square not finite"
        out = {
            "status": "ok" if self.ok else "failed",
            "failures": list(self.failures),
            "parameters": rows,
            "covariance_log": cov,
            "condition_number": None if self.condition_number is None else _json_number(self.condition_number),
            "goodness_of_fit": gof,
            "optimiser": {"success": self.success, "message": self.message, "starts": self.n_starts,
                          "simulations": self.n_simulations, "failed_simulations": self.failed_simulations,
                          "cost_by_start": [_json_number(c) for c in self.cost_by_start]},
            "noise_model": {"log_cv": LAB_CV,
                            "assay_lower_limit": {k: {"value": v, "source": s} for k, (v, s) in ASSAY_LIMIT.items()},
                            "censoring": "values at or below the limit: left-censored likelihood term; model values "
                                         "below the limit read as the limit"},
            "residuals": [{k: (_json_number(v) if isinstance(v, float) else v) for k, v in r.items()}
                          for r in self.residuals],
        }
        if cov is None:
            out["covariance_log_note"] = self.covariance_note or "not finite"
        return out

    @classmethod
    def from_dict(cls, data: dict) -> FitResult:
        """Read back a fit written by :meth:`to_dict` (for ``ckdmbd forecast``); a fit without a covariance cannot
        be sampled and is refused with its reason."""
        try:
            rows = data["parameters"]
            known = set(_BY_NAME)
            names = tuple(r["parameter"] for r in rows)
            if not set(names) <= known:
                raise CalibrationError(f"fit file: unknown parameters {sorted(set(names) - known)}")
            if data["covariance_log"] is None:
                raise CalibrationError("fit file: no covariance to draw patients from ("
                                       + str(data.get("covariance_log_note", "not given")) + ")")
            cov = np.array(data["covariance_log"], dtype=float)
            if cov.shape != (len(names), len(names)):
                raise CalibrationError(f"fit file: covariance has shape {cov.shape}, expected {len(names)} square")
            gof = data.get("goodness_of_fit", {})
            chi = gof.get("chi_square")

            def number(x):
                return np.nan if x is None else float(x)

            return cls(names, np.array([number(r["estimate"]) for r in rows], float),
                       np.array([number(r["ci95_low"]) for r in rows], float),
                       np.array([number(r["ci95_high"]) for r in rows], float),
                       np.array([number(r["se_log"]) for r in rows], float), cov, number(chi),
                       int(gof.get("dof", 0)), dict(gof.get("rms_log_residual", {})), True, "read from file", 0, 0,
                       failures=[str(f) for f in data.get("failures", [])],
                       residuals=list(data.get("residuals", [])))  # the fitted lab values, for the report
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, CalibrationError):
                raise
            raise CalibrationError(f"fit file: not a ckdmbd fit ({exc.__class__.__name__}: {exc})") from None

    @property
    def p_value(self) -> float:
        """Probability of a chi-square at least this large if the model and noise model were right (NaN: no dof)."""
        if self.dof <= 0 or not math.isfinite(self.chi_square):
            return float("nan")
        return float(chi2.sf(self.chi_square, self.dof))


@dataclass
class Problem:
    """A scenario, its state at t = 0, and a lab series to fit (long table: time_days, column, value, predialysis).

    ``time_days`` is scenario time (day 0 = the scenario's t = 0); values before it are refused (the fit simulates
    from t = 0: the history before it is the scenario's, with its own parameters)."""

    scenario: Scenario
    labs: pd.DataFrame
    start_state: np.ndarray | None  # None until set: only predict() needs it
    names: tuple[str, ...] = tuple(p.name for p in FIT_PARAMETERS)
    n_simulations: int = 0
    failed_simulations: int = 0

    def __post_init__(self):
        unknown = sorted(set(self.labs["column"]) - set(LAB_CV))
        if unknown:
            raise CalibrationError(f"labs: cannot fit {', '.join(unknown)} (fitted: {', '.join(LAB_CV)})")
        if len(self.labs) < len(self.names) + 1:
            raise CalibrationError(f"labs: {len(self.labs)} values cannot determine {len(self.names)} parameters")
        days = self.labs["time_days"].to_numpy(dtype=float)
        if not np.all(np.isfinite(days)):
            raise CalibrationError("labs: a sample time is not a finite number of days")
        early = days < 0.0
        if early.any():
            raise CalibrationError(
                f"labs: {int(early.sum())} values (days {days[early].min():.4g} to {days[early].max():.4g}) predate "
                f"the model's start (day 0 = the scenario's t = 0; the fit simulates from there): align the series "
                f"later (--first-sample-day, --start-date) or leave them out (--skip-before-start)")
        values = self.labs["value"].to_numpy(dtype=float)
        limits = self.labs["column"].map(lambda c: ASSAY_LIMIT.get(c, (0.0, ""))[0]).to_numpy(dtype=float)
        bad = ~np.isfinite(values) | ((values <= 0) & (limits <= 0))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise CalibrationError(f"labs: {self.labs['column'].iloc[k]} = {values[k]:g} on day {days[k]:g} is not a "
                                   f"positive number (and that analyte has no assay limit to censor it at)")
        self.limits = limits
        self.censored = (limits > 0) & (values <= limits)
        last_h = (float(days.max()) + 1.0) * units.HOURS_PER_DAY
        if last_h > self.scenario.duration_h:  # labs past the scenario's end: its open schedules go on
            from ckdmbd.scenario import with_duration

            self.scenario = with_duration(self.scenario, last_h)
        starts = [s for s, _e in session_times(self.scenario.events)]
        model_t = []
        for day, pre in zip(days, self.labs["predialysis"], strict=True):
            t = day * units.HOURS_PER_DAY
            if pre:  # the session that starts on that day
                same_day = [s for s in starts if 0 <= s - t < units.HOURS_PER_DAY]
                t = same_day[0] if same_day else t
            model_t.append(t)
        self.model_times_h = np.array(model_t)
        self.duration_h = float(self.model_times_h.max()) + 1.0
        self.grid = np.unique(np.concatenate([[0.0], self.model_times_h, [self.duration_h]]))
        self.rows = np.searchsorted(self.grid, self.model_times_h)
        self.cv = self.labs["column"].map(LAB_CV).to_numpy()
        self.replayed, self.future = split_history(self.scenario, self.duration_h)
        # a censored value is compared through the limit itself (its term uses log(limit))
        self.log_obs = np.log(np.where(self.censored, limits, values))
        self.log_limit = np.log(np.where(limits > 0, limits, 1.0))

    def predict(self, theta: np.ndarray) -> np.ndarray:
        """Model values at the lab times for natural-scale parameters ``theta`` (NaN if the solver fails)."""
        self.n_simulations += 1
        result = simulate_patient(self.scenario, self.start_state, dict(zip(self.names, theta, strict=True)),
                                  self.duration_h, output_times_h=self.grid, replayed=self.replayed,
                                  future=self.future)
        if not result.ok:
            return np.full(len(self.labs), np.nan)
        frame = result.to_frame(include_states=False)
        return np.array([frame[col].iloc[row] for col, row in zip(self.labs["column"], self.rows, strict=True)])

    def standardised(self, pred: np.ndarray) -> np.ndarray | None:
        """Standardised residuals for model values ``pred`` (None when the model could not be evaluated): log
        residuals / cv, the model read through the assay's limit; a censored value gives sqrt(-2 log P(reading <
        limit)), signed negative (the model is above what was seen)."""
        has_limit = self.limits > 0
        if not np.all(np.isfinite(pred)) or np.any((pred <= 0) & ~has_limit):
            return None
        reading = np.where(has_limit, np.maximum(pred, self.limits), pred)
        z = (self.log_obs - np.log(reading)) / self.cv
        if self.censored.any():
            m = np.maximum(pred[self.censored], 1e-300)
            below = log_ndtr((self.log_limit[self.censored] - np.log(m)) / self.cv[self.censored])
            z[self.censored] = -np.sqrt(np.maximum(-2.0 * below, 0.0))
        return z

    def residuals(self, log_theta: np.ndarray) -> np.ndarray:
        z = self.standardised(self.predict(np.exp(log_theta)))
        if z is None:
            self.failed_simulations += 1
            return np.full(len(self.labs), FAILED_RESIDUAL)
        return z


def split_history(scenario: Scenario, duration_h: float) -> tuple[list, list]:
    """The scenario's actions: parameter settings of its history replayed at t = 0 (its state changes are in the
    start state already), and the actions inside [0, duration)."""
    actions = expand_events(scenario.events, model(scenario.configuration).state_names)
    replayed = [replace(a, time_h=0.0) for a in actions
                if a.time_h < 0.0 and isinstance(a, SetParameter | ScaleParameter)]
    return replayed, [a for a in actions if 0.0 <= a.time_h < duration_h]


def simulate_patient(scenario: Scenario, start: np.ndarray, values: dict[str, float], duration_h: float,
                     replayed: list | None = None, future: list | None = None, **options):
    """Simulate the scenario from its t = 0 state with patient parameters ``values`` (names of FIT_PARAMETERS):
    intakes from t = 0, tissue mass at t = 0."""
    if replayed is None or future is None:
        replayed, future = split_history(scenario, duration_h)
    y0 = start.copy()
    params = dict(scenario.parameter_overrides)
    if "parathyroid_tissue" in values:
        y0[model(scenario.configuration).state_index("parathyroid_tissue_native")] = values["parathyroid_tissue"]
        params["native_tissue_ref"] = values["parathyroid_tissue"]
    events = [*replayed, *future, Diet(0.0, values.get("diet_calcium"), values.get("diet_phosphorus"))]
    options.setdefault("solver", FIT_SOLVER)
    return simulate(scenario.configuration, duration_h, events, initial_state=y0, parameters=params, start_h=0.0,
                    check=False, **options)


def forecast(scenario: Scenario, start: np.ndarray, result: FitResult, n_samples: int = 30, seed: int = 0,
             output_interval_h: float = units.HOURS_PER_DAY) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the patient forward under the scenario's interventions for parameter sets drawn from the fit's
    (log-normal) uncertainty; returns the median-parameter run's frame with 5 % and 95 % percentile columns
    ``<column>_p05`` / ``<column>_p95`` of the sampled runs, and one row of parameters per sample."""
    rng = np.random.default_rng(seed)
    bounds = {p.name: (np.log(p.lower), np.log(p.upper)) for p in FIT_PARAMETERS}
    lo = np.array([bounds[n][0] for n in result.names])
    hi = np.array([bounds[n][1] for n in result.names])
    draws = rng.multivariate_normal(np.log(result.estimate), result.covariance_log, size=n_samples)
    draws = np.exp(np.clip(draws, lo, hi))
    replayed, future = split_history(scenario, scenario.duration_h)
    extra = session_output_times(scenario.events, scenario.duration_h)
    opts = {"output_interval_h": output_interval_h, "extra_output_times_h": extra}
    central = simulate_patient(scenario, start, dict(zip(result.names, result.estimate, strict=True)),
                               scenario.duration_h, replayed, future, **opts)
    frame = central.to_frame()
    columns = ["calcium_mmol_L", "ionized_calcium_mmol_L", "phosphate_mmol_L", "pth_pmol_L", "calcitriol_pmol_L",
               "fgf23_pg_mL", "deposit_diameter_cm", "ca_x_p_mmol2_L2"]
    columns = [c for c in columns if c in frame]
    runs = []
    for theta in draws:
        r = simulate_patient(scenario, start, dict(zip(result.names, theta, strict=True)), scenario.duration_h,
                             replayed, future, **opts)
        if r.ok:
            runs.append(r.to_frame(include_states=False)[columns].to_numpy())
    if not runs:
        raise CalibrationError("forecast: every sampled patient failed to simulate")
    stack = np.stack(runs)
    for k, col in enumerate(columns):
        frame[f"{col}_p05"] = np.percentile(stack[:, :, k], 5, axis=0)
        frame[f"{col}_p95"] = np.percentile(stack[:, :, k], 95, axis=0)
    return frame, pd.DataFrame(draws, columns=list(result.names))


def start_state(scenario: Scenario) -> np.ndarray:
    """The scenario's state at t = 0 (its history simulated with its own parameters)."""
    short = replace(scenario, duration_h=units.HOURS_PER_DAY, output_interval_h=units.HOURS_PER_DAY)
    return run_scenario(short, solver=FIT_SOLVER).y[0]


def _weak_direction_names(vector: np.ndarray, names: Sequence[str]) -> list[str]:
    """The parameters that make up a (unit) eigenvector: components of at least 0.3, in the fit's order."""
    big = [names[i] for i in range(len(names)) if abs(vector[i]) >= 0.3]
    return big or [names[int(np.argmax(np.abs(vector)))]]


def _diagnose(problem: Problem, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, jac: np.ndarray, pred: np.ndarray,
              z: np.ndarray | None, chi_square: float, dof: int, sol_success: bool, sol_message: str):
    """The failure lines of a fit at log parameters ``x`` with Jacobian ``jac`` of the standardised residuals, and
    the covariance (None when singular), its note and the condition number."""
    names = problem.names
    failures: list[str] = []
    if z is None:
        failures.append("the model cannot be simulated at the estimate (the solver failed): no fit")
    for i, name in enumerate(names):
        p = _BY_NAME[name]
        for side, bound, dist in (("lower", p.lower, x[i] - lo[i]), ("upper", p.upper, hi[i] - x[i])):
            if dist < BOUND_TOL_LOG:
                failures.append(f"{name} = {math.exp(x[i]):.4g} {p.unit} sits at its {side} bound ({bound:g} "
                                f"{p.unit}): the labs ask for a value outside the range the fit allows, so the "
                                f"scenario does not explain them as they are")
    info = jac.T @ jac
    cov, note, cond = None, "", None
    w, v = np.linalg.eigh(info) if np.all(np.isfinite(info)) else (np.zeros(len(names)), np.eye(len(names)))
    dead = [names[i] for i in range(len(names)) if not np.any(jac[:, i])]
    if w.max() <= 0.0 or w.min() <= SINGULAR * w.max():
        weak = dead or _weak_direction_names(v[:, 0], names)
        note = "singular information matrix"
        failures.append("not identifiable from these labs: the information matrix is singular; "
                        + (f"{', '.join(dead)} changes no fitted value" if dead else
                           f"{' and '.join(weak)} can change together without changing any fitted value"))
    else:
        cond = float(w.max() / w.min())
        cov = (v / w) @ v.T
        half_width = 1.959963984540054 / math.sqrt(w.min())  # 95 % along the weakest direction (log units)
        weak = _weak_direction_names(v[:, 0], names)
        span = max(hi[names.index(n)] - lo[names.index(n)] for n in weak)
        if cond > MAX_CONDITION or half_width > span / 2:
            how = (f"constrained only to a factor of {math.exp(half_width):.3g} either way (95 %)"
                   if half_width < math.log(1e6) else "not constrained (95 %: beyond a factor of 1e6 either way)")
            failures.append(
                f"not identifiable from these labs: the information matrix is ill-conditioned (condition number "
                f"{cond:.3g}); {' and '.join(weak)} {'is' if len(weak) == 1 else 'together are'} {how}, wider "
                f"than {'its' if len(weak) == 1 else 'their'} bounds allow")
    p = float(chi2.sf(chi_square, dof)) if dof > 0 and math.isfinite(chi_square) else float("nan")
    if z is not None and p < P_REJECT:
        worst = np.argsort(-np.abs(z))[:3]
        labs = problem.labs
        items = []
        for k in worst:
            obs = labs["value"].iloc[k]
            items.append(f"{labs['column'].iloc[k]} day {labs['time_days'].iloc[k]:.4g} "
                         f"({'< ' if problem.censored[k] else ''}{obs:.3g} observed, model "
                         f"{pred[k]:.3g}, {z[k]:+.1f} SD)")
        failures.append(f"goodness of fit rejects the model: chi-square {chi_square:.4g} on {dof} degrees of "
                        f"freedom, p = {p:.2g} < {P_REJECT:g}; largest standardised residuals: " + "; ".join(items))
    if not sol_success:
        failures.append(f"the optimiser stopped without converging: {sol_message}")
    return failures, cov, note, cond


def fit(problem: Problem, n_starts: int = 3, seed: int = 0, initial: Sequence[float] | None = None) -> FitResult:
    """Weighted least squares on log parameters from ``n_starts`` starts (the first at ``initial`` or the bounds'
    geometric mean, the others random within the bounds); returns the best, with 95 % intervals and the list of
    reasons (``failures``) why it cannot be trusted, if any."""
    bounds = [(_BY_NAME[n].lower, _BY_NAME[n].upper) for n in problem.names]
    lo = np.log([b[0] for b in bounds])
    hi = np.log([b[1] for b in bounds])
    rng = np.random.default_rng(seed)
    first = np.log(initial) if initial is not None else 0.5 * (lo + hi)
    starts = [np.clip(first, lo + 1e-9, hi - 1e-9)] + [rng.uniform(lo, hi) for _ in range(n_starts - 1)]
    best, costs = None, []
    for x0 in starts:
        sol = least_squares(problem.residuals, x0, bounds=(lo, hi), method="trf", x_scale=1.0, diff_step=DIFF_STEP,
                            max_nfev=200)
        costs.append(float(2 * sol.cost))
        if best is None or sol.cost < best.cost:
            best = sol
    pred = problem.predict(np.exp(best.x))  # the model at the estimate, kept for the residual table
    z = problem.standardised(pred)
    chi_square = float(np.sum(z**2)) if z is not None else float("nan")
    dof = len(problem.labs) - len(lo)
    failures, cov, note, cond = _diagnose(problem, best.x, lo, hi, best.jac, pred, z, chi_square, dof,
                                          bool(best.success), str(best.message))
    if cov is not None:
        se = np.sqrt(np.clip(np.diag(cov), 0.0, np.inf))
        z95 = 1.959963984540054  # two-sided 95 % normal quantile
        ci_low = np.exp(np.maximum(best.x - z95 * se, lo))  # a bounded parameter's interval stops at its bound
        ci_high = np.exp(np.minimum(best.x + z95 * se, hi))
    else:
        se = ci_low = ci_high = np.full(len(lo), np.nan)
    rms, rows = {}, []
    labs = problem.labs
    for col in sorted(set(labs["column"])):
        mask = (labs["column"] == col).to_numpy()
        rms[col] = float(np.sqrt(np.mean((z[mask] * problem.cv[mask]) ** 2))) if z is not None else float("nan")
    for k in range(len(labs)):
        rows.append({"time_days": float(labs["time_days"].iloc[k]), "column": str(labs["column"].iloc[k]),
                     "observed": float(labs["value"].iloc[k]), "model": float(pred[k]),
                     "censored": bool(problem.censored[k]),
                     "standardised_residual": float(z[k]) if z is not None else float("nan")})
    return FitResult(
        names=problem.names,
        estimate=np.exp(best.x),
        ci_low=ci_low,
        ci_high=ci_high,
        se_log=se,
        covariance_log=cov,
        chi_square=chi_square,
        dof=dof,
        rms_log_residual=rms,
        success=bool(best.success),
        message=str(best.message),
        n_starts=len(starts),
        n_simulations=problem.n_simulations,
        cost_by_start=costs,
        failures=failures,
        residuals=rows,
        condition_number=cond,
        covariance_note=note,
        failed_simulations=problem.failed_simulations,
    )


def calibrated_scenario_text(original: str, scenario: Scenario, result: FitResult, labs_source: str) -> str:
    """The original scenario file with the estimates as events at t = 0 (inserted before the first later event, so
    the timeline stays in order) and a comment with the fit: estimates, 95 % intervals, goodness of fit."""
    values = dict(zip(result.names, result.estimate, strict=True))
    block = ["# --- calibrated by `ckdmbd fit` from " + labs_source.replace("\n", " ") + " ---"]
    if result.failures:
        block.append("# THE FIT FAILED (written because --force was given); do not trust these values:")
        block += ["#   - " + " ".join(f.split()) for f in result.failures]
    for row in result.table().itertuples():
        ci = (f"95 % CI {row.ci95_low:.4g} to {row.ci95_high:.4g}" if math.isfinite(row.ci95_low)
              else "no 95 % interval: " + (result.covariance_note or "no covariance"))
        block.append(f"# {row.parameter}: {row.estimate:.4g} {row.unit} ({ci})")
    block.append(f"# goodness of fit: chi-square {result.chi_square:.3g} on {result.dof} degrees of freedom "
                 f"(p = {result.p_value:.2g}); RMS log residual "
                 + ", ".join(f"{k} {v:.3f}" for k, v in result.rms_log_residual.items()))
    block += ["[[events]]", 'type = "diet"', 'time = "0 days"']
    if "diet_calcium" in values:
        block.append(f'calcium = "{values["diet_calcium"]:.0f} mg/day"')
    if "diet_phosphorus" in values:
        block.append(f'phosphorus = "{values["diet_phosphorus"]:.0f} mg/day"')
    if "parathyroid_tissue" in values:
        block += ["", "[[events]]", 'type = "parathyroid_tissue"', 'time = "0 days"',
                  f"mass = {values['parathyroid_tissue']:.4g}"]
    text = "\n".join(block) + "\n\n"
    later = [k for k, e in enumerate(scenario.events) if event_start_h(e) > 0.0]
    marker = "[[events]]"
    if "extends" in tomllib.loads(original).get("scenario", {}):
        later = []  # a child's events are merged with its parent's in time order: appending keeps the timeline
    if later:  # insert before the k-th "[[events]]" table of the file
        pos = -1
        for _ in range(later[0] + 1):
            pos = original.index(marker, pos + 1)
        out = original[:pos] + text + original[pos:]
    else:
        out = original.rstrip() + "\n\n" + text
    return out.replace(f'name = "{scenario.name}"', f'name = "{scenario.name}-calibrated"', 1)


def profile_fit(problem: Problem, result: FitResult, **options) -> list:
    """Profile-likelihood intervals (``ckdmbd.profile_likelihood``) around a fit's estimate: each parameter fixed on
    a walk outward, the others re-fitted to the same labs. Costs tens of simulations per parameter."""
    from ckdmbd.profile_likelihood import profile_all

    if not math.isfinite(result.chi_square):
        raise CalibrationError("profile: the fit has no finite chi-square to profile from")
    lo = np.log([_BY_NAME[n].lower for n in problem.names])
    hi = np.log([_BY_NAME[n].upper for n in problem.names])
    return profile_all(problem.residuals, np.log(result.estimate), result.chi_square, lo, hi, problem.names,
                       **options)
