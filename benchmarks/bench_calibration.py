"""Benchmark: calibrating one dialysis patient to a year of monthly labs (pre-dialysis calcium, phosphate, PTH).

Prints, for 1 and 3 optimiser starts, the median wall time over a few repeats, the number of simulations and the
time per simulated patient-year, next to the time of one forward year measured in the same run.
Run: ``.venv/bin/python benchmarks/bench_calibration.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from ckdmbd.calibration import LAB_CV, Problem, fit, start_state
from ckdmbd.scenario import load_scenario

TRUTH = np.array([1300.0, 900.0, 8.0])
"""The simulated patient's diet_phosphorus (mg/day), diet_calcium (mg/day) and parathyroid_tissue (x normal)."""


def year_of_labs(sc, y0) -> tuple[pd.DataFrame, Problem]:
    """12 4-weekly pre-dialysis samples of calcium, phosphate and PTH of the patient TRUTH, with lab noise (LAB_CV,
    seed 1), and the Problem that simulated them."""
    days = np.arange(0, 12) * 28
    rows = [(d, c) for d in days for c in LAB_CV]
    labs = pd.DataFrame({"time_days": [r[0] for r in rows], "column": [r[1] for r in rows], "value": 1.0,
                         "predialysis": True})
    probe = Problem(sc, labs, y0)
    clean = probe.predict(TRUTH)
    labs["value"] = clean * np.exp(np.random.default_rng(1).normal(0, labs["column"].map(LAB_CV).to_numpy()))
    return labs, probe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sc = load_scenario("hemodialysis-adherent")
    t = time.perf_counter()
    y0 = start_state(sc)
    history_s = time.perf_counter() - t
    labs, probe = year_of_labs(sc, y0)
    forward = []
    for _ in range(5):
        t = time.perf_counter()
        probe.predict(TRUTH)
        forward.append(time.perf_counter() - t)
    print(f"start state (5-year history simulated once): {history_s:.2f} s")
    print(f"one forward simulation over the lab window (~11 months): median {statistics.median(forward) * 1e3:.0f} ms")
    print(f"{'starts':>6s} {'median s':>9s} {'min s':>7s} {'simulations':>12s} {'s per simulation':>17s}")
    for starts in (1, 3):
        times, sims = [], 0
        for _ in range(args.repeats):
            problem = Problem(sc, labs, y0)
            t = time.perf_counter()
            result = fit(problem, n_starts=starts)
            times.append(time.perf_counter() - t)
            sims = result.n_simulations
        med = statistics.median(times)
        print(f"{starts:6d} {med:9.1f} {min(times):7.1f} {sims:12d} {med / sims:17.3f}")


if __name__ == "__main__":
    main()
