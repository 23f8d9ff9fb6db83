"""Global sensitivity analysis (issue 12): variance-based Sobol indices with bootstrap confidence intervals, over
any vectorised function of the unit hypercube, and over a population spec's distributions through the population
machinery (:mod:`ckdmbd.population`).

Estimators (Saltelli et al. 2010, Comput Phys Commun 181:259, Table 2): with two independent sample matrices A and
B (N x d) and AB_i = A with column i taken from B, the first-order index S_i = mean(f(B) (f(AB_i) - f(A))) / V and
the total index ST_i = mean((f(A) - f(AB_i))^2) / (2 V) (Jansen's estimator), V the variance of f over A and B.
The points are a scrambled Sobol' sequence (scipy.stats.qmc) of dimension 2d split into A and B; the intervals are
percentile bootstraps over the N rows. Cost: N (d + 2) evaluations.

Screening (Morris 1991; mu* of Campolongo et al. 2007) through SALib: r one-at-a-time trajectories on a 4-level
grid, r (d + 1) evaluations; mu* is the mean absolute elementary effect, scaled to the whole grid (for a linear
effect: the output's change from the grid's lowest to its highest level), sigma their spread (interaction or
non-linearity).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd


def saltelli_points(d: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A, B (n x d) and the stacked AB_i (d x n x d) in the unit hypercube, open at 0 and 1 (inverse CDFs)."""
    from scipy.stats import qmc

    if d < 1 or n < 2:
        raise ValueError(f"need at least one parameter and two base samples, got d = {d}, n = {n}")
    m = int(np.ceil(np.log2(n)))
    points = qmc.Sobol(2 * d, scramble=True, seed=seed).random_base2(m)[:n]
    points = np.clip(points, 1e-12, 1 - 1e-12)
    a, b = points[:, :d], points[:, d:]
    ab = np.repeat(a[None, :, :], d, axis=0)
    for i in range(d):
        ab[i, :, i] = b[:, i]
    return a, b, ab


def sobol_from_values(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, names: Sequence[str],
                      confidence: float = 0.95, n_boot: int = 500, seed: int = 0) -> pd.DataFrame:
    """Indices from evaluations at A (n), B (n) and AB_i (d x n): one row per parameter with S1, ST and the
    half-widths of their ``confidence`` bootstrap intervals (S1_conf, ST_conf) and the intervals themselves."""
    f_a, f_b, f_ab = (np.asarray(x, dtype=float) for x in (f_a, f_b, f_ab))
    if not (np.isfinite(f_a).all() and np.isfinite(f_b).all() and np.isfinite(f_ab).all()):
        raise ValueError("the output is not finite at some sample points (failed runs): no indices")

    def indices(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, ab = f_a[rows], f_b[rows], f_ab[:, rows]
        var = np.var(np.concatenate([a, b]))
        if var == 0:
            return np.zeros(len(ab)), np.zeros(len(ab))
        s1 = np.mean(b * (ab - a), axis=1) / var
        st = 0.5 * np.mean((a - ab) ** 2, axis=1) / var
        return s1, st

    n = len(f_a)
    s1, st = indices(np.arange(n))
    rng = np.random.default_rng(seed)
    boots = [indices(rng.integers(0, n, n)) for _ in range(n_boot)]
    b1, bt = np.array([b[0] for b in boots]), np.array([b[1] for b in boots])
    q = [(1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100]
    lo1, hi1 = np.percentile(b1, q, axis=0)
    lot, hit = np.percentile(bt, q, axis=0)
    return pd.DataFrame({
        "parameter": list(names), "S1": s1, "S1_low": lo1, "S1_high": hi1, "S1_conf": (hi1 - lo1) / 2,
        "ST": st, "ST_low": lot, "ST_high": hit, "ST_conf": (hit - lot) / 2,
    })


def sobol(f: Callable[[np.ndarray], np.ndarray], names: Sequence[str], n: int = 1024, seed: int = 0,
          confidence: float = 0.95) -> pd.DataFrame:
    """Sobol indices of ``f`` (rows of unit-hypercube points -> one output each) in its ``len(names)`` inputs."""
    d = len(names)
    a, b, ab = saltelli_points(d, n, seed)
    values = f(np.concatenate([a, b, ab.reshape(-1, d)]))
    f_a, f_b, f_ab = values[:n], values[n:2 * n], values[2 * n:].reshape(d, n)
    return sobol_from_values(f_a, f_b, f_ab, names, confidence, seed=seed)


OUTPUTS = {
    # name -> pre-dialysis column averaged per patient over the last 4 weeks of sessions
    "phosphate": "pre_phosphate_mmol_L",
    "calcium": "pre_calcium_mmol_L",
    "pth": "pre_pth_pmol_L",
}


def population_sobol(spec, n: int = 64, outputs: Sequence[str] = ("phosphate", "pth"), workers: int = 1,
                     progress=None, confidence: float = 0.95, scheduler: str | None = None) -> pd.DataFrame:
    """Sobol indices of each patient's last-4-week mean pre-dialysis value in the spec's sampled parameters: the
    spec's distributions map the Saltelli points to parameter values (inverse CDF), the population machinery runs
    the N (d + 2) patients. One row per (output, parameter). Failed runs stop the analysis, naming them."""
    d = len(_check_spec(spec, outputs))
    dists = spec.distributions
    a, b, ab = saltelli_points(d, n, spec.seed)
    points = np.concatenate([a, b, ab.reshape(-1, d)])
    means = _run_points(spec, points, workers, progress, scheduler)
    frames = []
    for name in outputs:
        values = means[OUTPUTS[name]].reindex(range(len(points))).to_numpy()
        table = sobol_from_values(values[:n], values[n:2 * n], values[2 * n:].reshape(d, n),
                                  [dist.parameter.name for dist in dists], confidence, seed=spec.seed)
        frames.append(table.assign(output=name)[["output", *table.columns]])
    return pd.concat(frames, ignore_index=True)


def _check_spec(spec, outputs: Sequence[str]):
    from ckdmbd.population import PopulationError

    unknown = [o for o in outputs if o not in OUTPUTS]
    if unknown:
        raise PopulationError(f"--output: {unknown[0]!r} is not one of {', '.join(OUTPUTS)}")
    if not spec.distributions:
        raise PopulationError("distributions: a sensitivity analysis needs at least one distribution")
    if spec.correlation is not None or spec.cohort is not None:  # the estimators assume independent inputs
        raise PopulationError(f"{'correlations' if spec.cohort is None else 'cohort'}: a sensitivity analysis needs "
                              f"independent distributions only (Sobol and Morris assume independent inputs)")
    return spec.distributions


def _run_points(spec, points: np.ndarray, workers: int, progress, scheduler: str | None) -> pd.DataFrame:
    """Each patient's last-4-week mean pre-dialysis values at unit-hypercube ``points`` (rows), mapped to parameter
    values through the spec's distributions (inverse CDF). A failed run stops the analysis, naming it."""
    from ckdmbd.population import Population, PopulationError, per_patient_predialysis

    dists = spec.distributions
    samples = [{dist.parameter.symbol: float(dist.sample(points[k:k + 1, j])[0]) for j, dist in enumerate(dists)}
               for k in range(len(points))]
    result = Population(spec).run(workers=workers, progress=progress, samples=samples, scheduler=scheduler)
    failed = result.failures
    if len(failed):
        first = failed.iloc[0]
        raise PopulationError(f"{len(failed)} of {len(points)} runs failed (first: patient {first['patient']}, "
                              f"{first['message']}); no indices")
    return per_patient_predialysis(result)


MORRIS_LEVELS = 4  # grid levels per input (Morris 1991; 4 with a jump of 2 levels is SALib's default design)
MORRIS_PROBABILITY_RANGE = (0.01, 0.99)  # the grid spans these quantiles of each distribution (not its infinite tails)


def morris_points(d: int, trajectories: int, seed: int) -> np.ndarray:
    """Morris one-at-a-time trajectories ((trajectories (d + 1)) x d) in probability space (SALib's sampler)."""
    from SALib.sample import morris as morris_sample

    if d < 1 or trajectories < 2:
        raise ValueError(f"need at least one parameter and two trajectories, got d = {d}, r = {trajectories}")
    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [list(MORRIS_PROBABILITY_RANGE)] * d}
    return morris_sample.sample(problem, trajectories, num_levels=MORRIS_LEVELS, seed=seed)


def morris(f: Callable[[np.ndarray], np.ndarray], names: Sequence[str], trajectories: int = 20, seed: int = 0,
           confidence: float = 0.95) -> pd.DataFrame:
    """Morris screening of ``f`` (rows of unit-hypercube points -> one output each) on the grid between
    MORRIS_PROBABILITY_RANGE: one row per input with mu*, its interval half-width, mu and sigma."""
    from SALib.analyze import morris as morris_analyze

    d = len(names)
    points = morris_points(d, trajectories, seed)
    lo, hi = MORRIS_PROBABILITY_RANGE
    problem = {"num_vars": d, "names": list(names), "bounds": [[lo, hi]] * d}
    res = morris_analyze.analyze(problem, points, np.asarray(f(points), dtype=float), conf_level=confidence,
                                 num_levels=MORRIS_LEVELS, seed=seed)
    return pd.DataFrame({"parameter": list(names), "mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"],
                         "mu": res["mu"], "sigma": res["sigma"]})


def population_morris(spec, trajectories: int = 10, outputs: Sequence[str] = ("phosphate", "pth"),
                      workers: int = 1, progress=None, confidence: float = 0.95,
                      scheduler: str | None = None) -> pd.DataFrame:
    """Morris elementary effects (SALib; Campolongo et al. 2007's mu*) of each patient's last-4-week mean
    pre-dialysis value in the spec's sampled parameters: r trajectories of d + 1 runs each, on a 4-level grid
    between the 1st and 99th percentiles of each distribution. The screening the variance-based indices are too
    costly for: mu* ranks influence (in the output's unit per move across the grid), sigma flags interaction or
    non-linearity. One row per (output, parameter), with mu*'s bootstrap interval half-width."""
    from SALib.analyze import morris as morris_analyze

    dists = _check_spec(spec, outputs)
    d = len(dists)
    points = morris_points(d, trajectories, spec.seed)
    means = _run_points(spec, points, workers, progress, scheduler)
    lo, hi = MORRIS_PROBABILITY_RANGE
    problem = {"num_vars": d, "names": [dist.parameter.name for dist in dists], "bounds": [[lo, hi]] * d}
    frames = []
    for name in outputs:
        values = means[OUTPUTS[name]].reindex(range(len(points))).to_numpy()
        res = morris_analyze.analyze(problem, points, values, conf_level=confidence, num_levels=MORRIS_LEVELS,
                                     seed=spec.seed)
        frames.append(pd.DataFrame({"output": name, "parameter": problem["names"], "mu_star": res["mu_star"],
                                    "mu_star_conf": res["mu_star_conf"], "mu": res["mu"], "sigma": res["sigma"]}))
    return pd.concat(frames, ignore_index=True)
