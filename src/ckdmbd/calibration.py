"""Calibration: estimate a small, identifiable set of patient parameters from a lab series, with uncertainty.

Estimated (on a log scale, within bounds): the patient's dietary phosphorus and calcium intake (what the gut sees,
so it absorbs adherence to diet and to binders) and the mass of his parathyroid tissue at the start of the lab
series (what sets PTH). They are what pre-dialysis phosphate, calcium and PTH inform; dialysis kinetics (K_M, the
dialyzer) are not identifiable from pre-dialysis values and stay at the scenario's values.

Observation model: a laboratory value y = model x exp(e), e ~ N(0, cv^2) with the analytical-plus-short-term
biological CVs of ``LAB_CV`` (assumed typical values); a sample flagged pre-dialysis is compared with the model at
the start of that day's session (as a clinic draws it). The fit minimises the weighted log residuals
(scipy.optimize.least_squares, trust-region reflective, bounds) from several starts; the 95 % confidence intervals
come from the Gauss-Newton covariance (J^T J)^-1 of the weighted problem at the optimum (log scale, so the intervals
are asymmetric on the natural scale). Goodness of fit: chi-square, degrees of freedom and RMS log residual per
analyte.

The patient's state at the start of the series is the scenario's state at t = 0 (its history simulated once with the
scenario's own parameters); the estimated intakes act from t = 0 and the tissue mass scales the t = 0 state.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.stats import chi2

from ckdmbd import units
from ckdmbd.model.configurations import model
from ckdmbd.protocol import Diet, ScaleParameter, SetParameter, event_start_h
from ckdmbd.scenario import Scenario, run_scenario
from ckdmbd.sessions import session_output_times
from ckdmbd.sessions import sessions as session_times
from ckdmbd.simulation import expand_events, simulate

LAB_CV = {
    # assumed: analytical + within-subject short-term variation of pre-dialysis samples (typical laboratory values)
    "calcium_mmol_L": 0.03,
    "phosphate_mmol_L": 0.08,
    "pth_pmol_L": 0.15,
}


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


class CalibrationError(ValueError):
    """The lab series or the scenario cannot be fitted (too few samples, unknown analyte...)."""


@dataclass
class FitResult:
    names: tuple[str, ...]
    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    se_log: np.ndarray
    covariance_log: np.ndarray
    chi_square: float
    dof: int
    rms_log_residual: dict[str, float]
    success: bool
    message: str
    n_starts: int
    n_simulations: int
    cost_by_start: list[float] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        units_ = {p.name: p.unit for p in FIT_PARAMETERS}
        return pd.DataFrame({
            "parameter": self.names,
            "estimate": self.estimate,
            "ci95_low": self.ci_low,
            "ci95_high": self.ci_high,
            "unit": [units_[n] for n in self.names],
        })

    def to_dict(self) -> dict:
        return {
            "parameters": [dict(r._asdict()) | {"se_log": float(se)}
                           for r, se in zip(self.table().itertuples(index=False), self.se_log, strict=True)],
            "covariance_log": self.covariance_log.tolist(),
            "goodness_of_fit": {"chi_square": self.chi_square, "dof": self.dof, "p_value": self.p_value,
                                "rms_log_residual": self.rms_log_residual},
            "optimiser": {"success": self.success, "message": self.message, "starts": self.n_starts,
                          "simulations": self.n_simulations, "cost_by_start": self.cost_by_start},
            "noise_model": {"log_cv": LAB_CV},
        }

    @classmethod
    def from_dict(cls, data: dict) -> FitResult:
        """Read back a fit written by :meth:`to_dict` (for ``ckdmbd forecast``)."""
        try:
            rows = data["parameters"]
            known = {p.name for p in FIT_PARAMETERS}
            names = tuple(r["parameter"] for r in rows)
            if not set(names) <= known:
                raise CalibrationError(f"fit file: unknown parameters {sorted(set(names) - known)}")
            cov = np.array(data["covariance_log"], dtype=float)
            if cov.shape != (len(names), len(names)):
                raise CalibrationError(f"fit file: covariance has shape {cov.shape}, expected {len(names)} square")
            gof = data.get("goodness_of_fit", {})
            return cls(names, np.array([r["estimate"] for r in rows], float),
                       np.array([r["ci95_low"] for r in rows], float), np.array([r["ci95_high"] for r in rows], float),
                       np.array([r["se_log"] for r in rows], float), cov, float(gof.get("chi_square", np.nan)),
                       int(gof.get("dof", 0)), dict(gof.get("rms_log_residual", {})), True, "read from file", 0, 0)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, CalibrationError):
                raise
            raise CalibrationError(f"fit file: not a ckdmbd fit ({exc.__class__.__name__}: {exc})") from None

    @property
    def p_value(self) -> float:
        """Probability of a chi-square at least this large if the model and noise model were right."""
        return float(chi2.sf(self.chi_square, self.dof)) if self.dof > 0 else float("nan")


@dataclass
class Problem:
    """A scenario, its state at t = 0, and a lab series to fit (long table: time_days, column, value, predialysis)."""

    scenario: Scenario
    labs: pd.DataFrame
    start_state: np.ndarray
    names: tuple[str, ...] = tuple(p.name for p in FIT_PARAMETERS)
    n_simulations: int = 0

    def __post_init__(self):
        unknown = sorted(set(self.labs["column"]) - set(LAB_CV))
        if unknown:
            raise CalibrationError(f"labs: cannot fit {', '.join(unknown)} (fitted: {', '.join(LAB_CV)})")
        if len(self.labs) < len(self.names) + 1:
            raise CalibrationError(f"labs: {len(self.labs)} values cannot determine {len(self.names)} parameters")
        last_h = (float(self.labs["time_days"].max()) + 1.0) * units.HOURS_PER_DAY
        if last_h > self.scenario.duration_h:  # labs past the scenario's end: its open schedules go on
            from ckdmbd.scenario import with_duration

            self.scenario = with_duration(self.scenario, last_h)
        starts = [s for s, _e in session_times(self.scenario.events)]
        model_t = []
        for day, pre in zip(self.labs["time_days"], self.labs["predialysis"], strict=True):
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
        self.log_obs = np.log(self.labs["value"].to_numpy())

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

    def residuals(self, log_theta: np.ndarray) -> np.ndarray:
        pred = self.predict(np.exp(log_theta))
        if not np.all(np.isfinite(pred)) or np.any(pred <= 0):
            return np.full(len(self.labs), 1e3)
        return (self.log_obs - np.log(pred)) / self.cv


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
    return run_scenario(short).y[0]


def fit(problem: Problem, n_starts: int = 3, seed: int = 0, initial: Sequence[float] | None = None) -> FitResult:
    """Weighted least squares on log parameters from ``n_starts`` starts (the first at ``initial`` or the bounds'
    geometric mean, the others random within the bounds); returns the best, with 95 % intervals."""
    bounds = [(p.lower, p.upper) for p in FIT_PARAMETERS if p.name in problem.names]
    lo = np.log([b[0] for b in bounds])
    hi = np.log([b[1] for b in bounds])
    rng = np.random.default_rng(seed)
    first = np.log(initial) if initial is not None else 0.5 * (lo + hi)
    starts = [np.clip(first, lo + 1e-9, hi - 1e-9)] + [rng.uniform(lo, hi) for _ in range(n_starts - 1)]
    best, costs = None, []
    for x0 in starts:
        sol = least_squares(problem.residuals, x0, bounds=(lo, hi), method="trf", x_scale=1.0, diff_step=1e-3,
                            max_nfev=200)
        costs.append(float(2 * sol.cost))
        if best is None or sol.cost < best.cost:
            best = sol
    jac = best.jac
    try:
        cov = np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        cov = np.full((len(lo), len(lo)), np.inf)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, np.inf))
    z = 1.959963984540054  # two-sided 95 % normal quantile
    residuals = best.fun
    rms = {}
    for col in sorted(set(problem.labs["column"])):
        mask = (problem.labs["column"] == col).to_numpy()
        rms[col] = float(np.sqrt(np.mean((residuals[mask] * problem.cv[mask]) ** 2)))
    return FitResult(
        names=problem.names,
        estimate=np.exp(best.x),
        ci_low=np.exp(np.maximum(best.x - z * se, lo)),  # a bounded parameter's interval stops at its bound
        ci_high=np.exp(np.minimum(best.x + z * se, hi)),
        se_log=se,
        covariance_log=cov,
        chi_square=float(np.sum(residuals**2)),
        dof=len(residuals) - len(lo),
        rms_log_residual=rms,
        success=bool(best.success),
        message=str(best.message),
        n_starts=len(starts),
        n_simulations=problem.n_simulations,
        cost_by_start=costs,
    )


def calibrated_scenario_text(original: str, scenario: Scenario, result: FitResult, labs_source: str) -> str:
    """The original scenario file with the estimates as events at t = 0 (inserted before the first later event, so
    the timeline stays in order) and a comment with the fit: estimates, 95 % intervals, goodness of fit."""
    values = dict(zip(result.names, result.estimate, strict=True))
    block = ["# --- calibrated by `ckdmbd fit` from " + labs_source.replace("\n", " ") + " ---"]
    for row in result.table().itertuples():
        block.append(f"# {row.parameter}: {row.estimate:.4g} {row.unit} (95 % CI {row.ci95_low:.4g} to "
                     f"{row.ci95_high:.4g})")
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
