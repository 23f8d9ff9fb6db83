"""Profile-likelihood intervals for a least-squares fit (Raue et al. 2009, Bioinformatics 25:1923).

Why: the fit's Wald intervals (``calibration.fit``) read the curvature at the estimate and assume the chi-square is
quadratic in the log parameters. A mechanistic model is not: a parameter can be bounded on one side only (PTH
caps how small the parathyroid tissue can be, nothing caps how large), or flat beyond some value. The profile of a
parameter is the best chi-square with that parameter fixed and the others re-optimised; its 95 % interval is
where the profile stays within chi2(1; 0.95) = 3.84 of the minimum. When the profile reaches a bound of the allowed
range before rising that far, the labs do not limit the parameter on that side: the interval is reported open
there, and that is the honest answer (practically non-identifiable on that side).

The module works on a residual function of the log parameters, so it is independent of the model (tests use
analytic residuals, where the profile interval of a linear model equals the Wald interval exactly).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import chi2

CONFIDENCE = 0.95
THRESHOLD = float(chi2.ppf(CONFIDENCE, 1))  # 3.841: one fixed parameter, 95 % (Raue 2009, pointwise interval)


@dataclass
class Profile:
    """One parameter's profile: log values tried, the chi-square rise above the fit's minimum at each, and the
    interval (natural scale). ``open_low``/``open_high``: the rise stayed below the threshold to the end of the walk
    on that side, which is the parameter's bound (the doubling steps reach it within ``max_points`` unless the rise
    keeps growing without crossing), so the labs do not limit the parameter there."""

    name: str
    log_values: list[float] = field(default_factory=list)
    delta_chi_square: list[float] = field(default_factory=list)
    low: float = float("nan")
    high: float = float("nan")
    open_low: bool = False
    open_high: bool = False
    evaluations: int = 0

    def to_dict(self) -> dict:
        """Strict JSON (no NaN or infinity): the interval, whether each side is open, and the profile points."""
        def number(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {"parameter": self.name, "ci95_low": number(self.low), "ci95_high": number(self.high),
                "open_low": self.open_low, "open_high": self.open_high, "threshold_delta_chi_square": THRESHOLD,
                "points": [{"value": number(math.exp(v)), "delta_chi_square": number(d)}
                           for v, d in zip(self.log_values, self.delta_chi_square, strict=True)],
                "evaluations": self.evaluations}

    def describe(self, unit: str) -> str:
        """The interval as one line, saying which side the labs leave open."""
        lo = f"{self.low:.4g}" + (" (bound: not limited by the labs)" if self.open_low else "")
        hi = f"{self.high:.4g}" + (" (bound: not limited by the labs)" if self.open_high else "")
        return f"{self.name}: {lo} - {hi} {unit}"


def _crossing(x0: float, d0: float, x1: float, d1: float) -> float:
    """Where the chi-square rise crosses the threshold between two profile points (linear in log value)."""
    if d1 == d0:
        return x1
    return x0 + (THRESHOLD - d0) * (x1 - x0) / (d1 - d0)


def profile_parameter(residuals: Callable[[np.ndarray], np.ndarray], x_hat: np.ndarray, chi_square_min: float,
                      lo: np.ndarray, hi: np.ndarray, index: int, name: str, step: float = 0.15,
                      max_points: int = 12, max_nfev: int = 60, refine: int = 8) -> Profile:
    """Profile parameter ``index`` of a fit at log parameters ``x_hat`` (chi-square ``chi_square_min``), walking
    out from the estimate in steps of ``step`` (log units; the step doubles while the profile stays flat) on each
    side until the chi-square rise passes the threshold or the bound is reached; the other parameters are
    re-optimised at each point, starting from the previous point's solution (a continuation). Once the rise passes
    the threshold, up to ``refine`` bisections narrow the crossing before it is interpolated."""
    prof = Profile(name)
    n = len(x_hat)
    others = [i for i in range(n) if i != index]
    points: list[tuple[float, float]] = [(float(x_hat[index]), 0.0)]

    def best_delta(value: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        if not others:
            z = residuals(np.array([value]))
            prof.evaluations += 1
            return float(np.sum(z**2)) - chi_square_min, start

        def reduced(sub: np.ndarray) -> np.ndarray:
            x = np.empty(n)
            x[index] = value
            x[others] = sub
            return residuals(x)

        sol = least_squares(reduced, np.clip(start, lo[others] + 1e-9, hi[others] - 1e-9),
                            bounds=(lo[others], hi[others]), method="trf", max_nfev=max_nfev)
        prof.evaluations += int(sol.nfev)
        return float(2.0 * sol.cost) - chi_square_min, sol.x

    for direction in (-1.0, 1.0):
        bound = lo[index] if direction < 0 else hi[index]
        start = x_hat[others].copy()
        x_prev, d_prev, h = float(x_hat[index]), 0.0, step
        crossed = False
        for _ in range(max_points):
            x_new = x_prev + direction * h
            at_bound = (x_new <= bound) if direction < 0 else (x_new >= bound)
            if at_bound:
                x_new = float(bound)
            d_new, start = best_delta(x_new, start)
            d_new = max(d_new, 0.0)  # a lower minimum than the fit's is the fit's own inaccuracy, not information
            points.append((x_new, d_new))
            if d_new >= THRESHOLD:
                # bisect the bracket (the walk's steps grow), then interpolate in the last, short one
                a, da, b, db, sub = x_prev, d_prev, x_new, d_new, start
                for _ in range(refine):
                    if abs(db - da) < 0.05 * THRESHOLD:
                        break
                    m = 0.5 * (a + b)
                    dm, sub = best_delta(m, sub)
                    dm = max(dm, 0.0)
                    points.append((m, dm))
                    if dm >= THRESHOLD:
                        b, db = m, dm
                    else:
                        a, da = m, dm
                edge = _crossing(a, da, b, db)
                crossed = True
                break
            if at_bound:
                break
            if d_new - d_prev < 0.25 * THRESHOLD:  # flat: step out faster
                h *= 2.0
            x_prev, d_prev = x_new, d_new
        if not crossed:
            edge = points[-1][0]  # the bound, or where the walk stopped
        if direction < 0:
            prof.low, prof.open_low = math.exp(edge), not crossed
        else:
            prof.high, prof.open_high = math.exp(edge), not crossed
    points.sort()
    prof.log_values = [p[0] for p in points]
    prof.delta_chi_square = [p[1] for p in points]
    return prof


def profile_all(residuals: Callable[[np.ndarray], np.ndarray], x_hat: np.ndarray, chi_square_min: float,
                lo: np.ndarray, hi: np.ndarray, names: Sequence[str], **options) -> list[Profile]:
    """Every parameter's profile (see :func:`profile_parameter`)."""
    return [profile_parameter(residuals, np.asarray(x_hat, float), chi_square_min, np.asarray(lo, float),
                              np.asarray(hi, float), i, name, **options) for i, name in enumerate(names)]
