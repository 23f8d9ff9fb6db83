"""Engine benchmark: the rows of issue 11's table that one process can measure, medians and ratios from one run.

Rows (all after warm-up, median of ``--repeats`` runs, ``time.perf_counter``):

1. A dialysis patient-year (thrice-weekly sessions, a phosphate binder, from the adherent haemodialysis steady
   state, daily output) at each tolerance preset that exists (``report``, ``population``, ``screen``; before the
   presets existed only the default ``SolverOptions()`` is timed), with steps, right-hand-side calls (a Jacobian
   colour's partial re-evaluation counts as one) and the largest relative error over the year on calcium, phosphate,
   PTH and calcitriol against a tight run (rtol 1e-9); the ratio is to the first row (the former engine, measured
   in the same run), and "/ RR" to libRoadRunner's healthy reference year on a daily grid measured in the same run
   (a machine-speed anchor). Rows: the analytic Jacobian (the default in the model's own solver) and coloured
   finite differences at the same tolerances; every row but the former engine's factors each step's iteration
   matrix with the sparse LU (``SolverOptions.lu``, the default), and the "dense LU" rows repeat the analytic ones
   with the dense LU with partial pivoting, so the two compare within one run; row 1b alternates the two runs
   (sparse, dense, sparse, ...) and gives the median of the per-pair ratios, the comparison least moved by a
   shared machine's drifting load; row 1c times one step's factorisation and stage solves alone (the general
   sparse routine, the dense LU, and the model's straight-line LU in its generated module, the one runs use).
2. The healthy year of the reference configuration against libRoadRunner on the same daily and hourly grids,
   ``simulate(...).to_frame()`` end to end (libRoadRunner's ``reset()`` is not timed), if libroadrunner is
   installed and the SBML is found (``$CKDMBD_REFERENCE_SBML``, default ``../shared/reference/...xml``).
4. ``simulate_many``: ``--patients`` dialysis patient-years in one compiled call on 1 and 2 threads, and the
   same patients one ``simulate`` call at a time, ms per patient-year.
3. CLI cold starts, ``ckdmbd scenarios`` and ``ckdmbd run peterson-riggs-2010 -q``, as subprocesses of this
   interpreter with this checkout's ``src`` on ``PYTHONPATH`` (one untimed warm-up fills numba's cache).

The machine's load average (``os.getloadavg``) is printed before and after: timings on a shared machine are only
comparable within one run. Run: ``python benchmarks/bench_engine.py [--repeats N] [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ckdmbd.protocol import Hemodialysis, PhosphateBinder
from ckdmbd.scenario import load_scenario, run_scenario
from ckdmbd.simulation import SolverOptions, simulate
from ckdmbd.units import HOURS_PER_YEAR

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SBML = REPO.parent / "shared" / "reference" / "BIOMD0000000613.xml"
YEAR_H = 8760.0
DAILY = np.linspace(0.0, YEAR_H, 366)
HOURLY = np.linspace(0.0, YEAR_H, 8761)
OBSERVED = ("ca_mM", "phosphate_mM", "pth_pM", "calcitriol_pM")
SPECIES = ("P", "ECCPhos", "PTH", "B")  # BIOMD0000000613 species of calcium, phosphate, PTH, calcitriol


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: numba cache load, first-call overheads
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def max_rel_error(a, b) -> float:
    """Largest relative difference over the run on the four observables (``a``, ``b``: Results)."""
    oa, ob = a.outputs(), b.outputs()
    worst = 0.0
    for name in OBSERVED:
        x, ref = oa[name].to_numpy(), ob[name].to_numpy()
        worst = max(worst, float(np.max(np.abs(x - ref) / np.maximum(np.abs(ref), 1e-300))))
    return worst


def presets() -> dict[str, SolverOptions]:
    """The accuracy presets (with the solver compiled for the model, as batch work gets it), and the former engine
    (dense finite-difference Jacobian, shared solver, previous step at restarts) at report accuracy for the ratio."""
    if not hasattr(SolverOptions, "preset"):
        return {"report (SolverOptions())": SolverOptions()}
    rows = {"report, former engine": SolverOptions(jacobian="dense", restart_estimate=False, specialised=False)}
    rows["report, one-off process"] = SolverOptions.preset("report", specialised=False)
    rows["report, coloured FD"] = SolverOptions.preset("report", jacobian="coloured", specialised=True)
    rows["population, coloured FD"] = SolverOptions.preset("population", jacobian="coloured", specialised=True)
    rows.update({f"{name}, analytic": SolverOptions.preset(name, specialised=True)
                 for name in ("report", "population", "screen")})
    if "one_call" in SolverOptions.__dataclass_fields__:  # the event loop in Python, for the one-call ratio
        rows.update({f"{name}, analytic, Python loop": SolverOptions.preset(name, specialised=True, one_call=False)
                     for name in ("report", "population")})
    if "lu" in SolverOptions.__dataclass_fields__:  # the sparse LU is the default: the dense one for comparison
        rows.update({f"{name}, analytic, dense LU": SolverOptions.preset(name, specialised=True, lu="dense")
                     for name in ("report", "population", "screen")})
    return rows


def roadrunner_anchor(repeats: int):
    """libRoadRunner's healthy reference year on a daily grid (ms, median), the machine-speed anchor every row is
    also divided by (a shared machine's speed varies between runs; the ratio to the anchor travels), and the
    RoadRunner instance (None when libroadrunner or the SBML is missing)."""
    sbml = Path(os.environ.get("CKDMBD_REFERENCE_SBML", DEFAULT_SBML))
    try:
        import roadrunner
    except ImportError:
        return None, None
    if not sbml.is_file():
        return None, None
    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
    rr = roadrunner.RoadRunner(str(sbml))
    return _rr_ms(rr, DAILY, repeats), rr


def _rr_ms(rr, grid, repeats: int) -> float:
    times = []
    for _ in range(repeats + 1):
        rr.reset()  # keeps teri_dose_mcg, a global parameter (untimed)
        rr.teri_dose_mcg = 0.0
        t = time.perf_counter()
        rr.simulate(0.0, YEAR_H, len(grid), selections=["time", *SPECIES])
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times[1:])


def dialysis_rows(repeats: int, anchor: float | None) -> None:
    start = run_scenario(load_scenario("hemodialysis-adherent")).y[0]
    events = [Hemodialysis(0.0, HOURS_PER_YEAR), PhosphateBinder(0.0, 2.4, 1.0)]

    def run(opts: SolverOptions):
        return simulate("default", HOURS_PER_YEAR, events, initial_state=start, solver=opts)

    tight = run(SolverOptions(rtol=1e-9, atol=1e-12))
    print("1. dialysis patient-year (default configuration, 156 sessions, daily output)")
    print(f"   {'accuracy, Jacobian':30s} {'median ms':>10s} {'ratio':>6s} {'/ RR':>6s} {'steps':>7s} "
          f"{'rejected':>8s} {'rhs calls':>10s} {'max rel err':>12s}")
    first = None
    for name, opts in presets().items():
        r = run(opts)
        ms = median_ms(lambda o=opts: run(o), repeats)
        first = first or ms
        err = max_rel_error(r, tight)
        rr = f"{ms / anchor:6.2f}" if anchor else f"{'-':>6s}"
        rejected = f"{r.n_rejected:8d}" if opts.jacobian != "dense" else f"{'-':>8s}"  # the dense driver counts none
        print(f"   {name:30s} {ms:10.1f} {ms / first:6.2f} {rr} {r.n_steps:7d} {rejected} {r.n_rhs:10d} "
              f"{err:12.2e}")
    print("   (ratio: to the first row; / RR: to libRoadRunner's healthy reference year, daily grid, this run)")


def lu_pair_rows(repeats: int) -> None:
    """Sparse against dense LU, the two runs alternated (a shared machine's load drifts between table rows):
    median ms of each and the median of the per-pair ratios."""
    if "lu" not in SolverOptions.__dataclass_fields__:
        return
    start = run_scenario(load_scenario("hemodialysis-adherent")).y[0]
    events = [Hemodialysis(0.0, HOURS_PER_YEAR), PhosphateBinder(0.0, 2.4, 1.0)]
    print("1b. the same patient-year, analytic Jacobian, sparse and dense LU alternated")
    print(f"   {'preset':12s} {'sparse ms':>10s} {'dense ms':>10s} {'median sparse/dense':>20s}")
    for name in ("report", "population", "screen"):
        times: dict[str, list[float]] = {"sparse": [], "dense": []}
        for k in range(repeats + 1):
            for lu in ("sparse", "dense"):
                opts = SolverOptions.preset(name, specialised=True, lu=lu)
                t = time.perf_counter()
                simulate("default", HOURS_PER_YEAR, events, initial_state=start, solver=opts)
                if k:  # the first pair warms up
                    times[lu].append((time.perf_counter() - t) * 1e3)
        ratio = statistics.median(a / b for a, b in zip(times["sparse"], times["dense"], strict=True))
        print(f"   {name:12s} {statistics.median(times['sparse']):10.1f} {statistics.median(times['dense']):10.1f} "
              f"{ratio:20.2f}")


def lu_kernel_rows() -> None:
    """One step's linear algebra alone: factor E = I/(h gamma) - J (the analytic Jacobian at the adherent
    haemodialysis steady state) and solve the six stages, in a compiled loop (no dispatch in the timing), best of 5
    loops of 2,000 (the minimum: what the kernels cost when the shared machine lets them run)."""
    if "lu" not in SolverOptions.__dataclass_fields__:
        return
    from numba import njit

    from ckdmbd.model.configurations import model as build_model
    from ckdmbd.solvers import rosenbrock as rb
    from ckdmbd.solvers.sparse_lu import NO_PLAN

    def factor_solve_loop(factor, solve, own):
        """A compiled loop of ``reps`` factorisations with six stage solves each, through ``factor`` and ``solve``
        (the shared solver's, or the model module's with its straight-line LU when ``own``); returns the number of
        dense fallbacks (kind 1)."""

        @njit(cache=False)
        def loop(jac, fac, plan, w, b, reps):
            ni = jac.shape[1]
            e, piv, xw = np.empty((ni, ni)), np.empty(ni, dtype=np.int64), np.empty(ni)
            lptr, uptr = np.empty(ni + 1, dtype=np.int64), np.empty(ni + 1, dtype=np.int64)
            lidx, uidx = np.empty(ni * ni, dtype=np.int64), np.empty(ni * ni, dtype=np.int64)
            x = b.copy()
            fallbacks = 0
            for _ in range(reps):
                kind = factor(jac, fac, e, piv, plan, w, lptr, lidx, uptr, uidx, own)
                fallbacks += kind == 1
                for _s in range(6):
                    x[:] = b
                    solve(kind, e, piv, x, plan, xw, lptr, lidx, uptr, uidx)
            return fallbacks

        return loop

    m = build_model("default")
    loop = factor_solve_loop(rb._factor_iteration, rb._solve_iteration, False)
    loop_own = factor_solve_loop(m.generated._factor_iteration, m.generated._solve_iteration, True)

    has_own = hasattr(m.generated, "_own_factor")
    ni, n = len(m.states), m.n_states
    res = run_scenario(load_scenario("hemodialysis-adherent"), solver=SolverOptions(specialised=True))
    y, p = res.y[0].copy(), res.segment_parameters[-1]
    jac, fx = np.zeros((n, ni)), np.zeros(n)
    m.generated._analytic_jacobian(0.0, y, p, jac, fx)
    opts = SolverOptions.preset("report")
    w = opts.atol + opts.rtol * np.abs(y[:ni])
    b = np.random.default_rng(1).standard_normal(n)
    reps = 2000
    lu = m.sparse_lu
    print(f"1c. one step's factorisation + 6 stage solves, {ni} x {ni} implicit block (L + U: {lu.nnz_factors} of "
          f"{ni * ni} entries, {lu.ordering} order), compiled loop, best of 5 x {reps}")
    print(f"   {'step h':8s} {'sparse us':>10s} {'dense us':>10s} {'ratio':>6s} {'fallbacks':>10s} "
          f"{'straight-line us':>17s} {'ratio':>6s}")
    for h in (0.1, 1.0):
        fac = 1.0 / (h * rb.GAMMA)
        best = {}
        fallbacks = 0
        runs = [("sparse", loop, lu.plan), ("dense", loop, NO_PLAN)] + ([("own", loop_own, lu.plan)] if has_own else [])
        for name, fn, plan in runs:
            fn(jac, fac, plan, w, b, 1)
            ts = []
            for _ in range(5):
                t = time.perf_counter()
                k = fn(jac, fac, plan, w, b, reps)
                ts.append((time.perf_counter() - t) / reps * 1e6)
            best[name] = min(ts)
            if name == "sparse":
                fallbacks = k
        own = (f"{best['own']:17.1f} {best['own'] / best['dense']:6.2f}" if has_own else f"{'-':>17s} {'-':>6s}")
        print(f"   {h:<8g} {best['sparse']:10.1f} {best['dense']:10.1f} {best['sparse'] / best['dense']:6.2f} "
              f"{fallbacks:>10d} {own}")


def batch_rows(patients: int, anchor: float | None) -> None:
    """``simulate_many``: ``patients`` dialysis patient-years (mobilisation and dialyzer clearances drawn per
    patient) in one compiled call on 1 and 2 threads, after a warm-up batch, against the same patients one
    ``simulate`` at a time (one-call path, full output) in this process."""
    try:
        from ckdmbd.simulation import simulate_many
    except ImportError:
        return
    from ckdmbd.units import ml_min_to_l_h

    start = run_scenario(load_scenario("hemodialysis-adherent")).y[0]
    events = [Hemodialysis(0.0, HOURS_PER_YEAR), PhosphateBinder(0.0, 2.4, 1.0)]
    rng = np.random.default_rng(1)
    params = [{"phosphate_mobilisation_clearance": ml_min_to_l_h(rng.uniform(45, 208)),
               "dialyzer_phosphate_clearance": ml_min_to_l_h(rng.uniform(130, 190))} for _ in range(patients)]
    opts = SolverOptions.preset("population", specialised=True)
    simulate_many("default", HOURS_PER_YEAR, events, parameters=params[:2], initial_states=[start] * 2,
                  solver=opts)
    print(f"4. {patients} dialysis patient-years, population preset (pre-dialysis values per session and daily "
          f"Ca, P, PTH, calcitriol)")
    print(f"   {'path':36s} {'wall s':>8s} {'ms / patient-year':>18s} {'/ RR':>6s} {'failed':>7s}")
    t = time.perf_counter()
    for values in params:
        simulate("default", HOURS_PER_YEAR, events, initial_state=start, parameters=values, solver=opts)
    wall = time.perf_counter() - t
    rr = f"{wall / patients * 1e3 / anchor:6.2f}" if anchor else f"{'-':>6s}"
    print(f"   {'simulate() one at a time':36s} {wall:8.2f} {wall / patients * 1e3:18.1f} {rr} {'-':>7s}")
    for threads in (1, 2):
        t = time.perf_counter()
        batch = simulate_many("default", HOURS_PER_YEAR, events, parameters=params,
                              initial_states=[start] * patients, solver=opts, threads=threads)
        wall = time.perf_counter() - t
        rr = f"{wall / patients * 1e3 / anchor:6.2f}" if anchor else f"{'-':>6s}"
        print(f"   {f'simulate_many, {threads} thread(s)':36s} {wall:8.2f} {wall / patients * 1e3:18.1f} {rr} "
              f"{int((~batch.ok).sum()):7d}")


def healthy_rows(repeats: int, rr) -> None:
    print("2. healthy year, reference configuration, simulate(...).to_frame()")
    print(f"   {'grid':10s} {'ckdmbd ms':>10s} {'libRoadRunner ms':>17s} {'ratio':>7s}")
    for label, grid in (("daily", DAILY), ("hourly", HOURLY)):
        ck = median_ms(lambda g=grid: simulate("reference", YEAR_H, output_times_h=g).to_frame(), repeats)
        if rr is None:
            print(f"   {label:10s} {ck:10.1f} {'(not available)':>17s}")
            continue
        rrm = _rr_ms(rr, grid, repeats)
        print(f"   {label:10s} {ck:10.1f} {rrm:17.1f} {ck / rrm:7.2f}")


def cli_rows(repeats: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    print("3. command-line cold start (subprocess wall, numba cache filled)")
    with tempfile.TemporaryDirectory(prefix="ckdmbd-bench-") as tmp:
        commands = {"ckdmbd scenarios": ["scenarios"],
                    "ckdmbd run peterson-riggs-2010 -q": ["run", "peterson-riggs-2010", "--out", tmp, "-q"],
                    "ckdmbd run seed-case -q (report too)": ["run", "seed-case", "--out", tmp, "-q"]}
        for name, args in commands.items():
            cmd = [sys.executable, "-m", "ckdmbd.cli", *args]
            ms = median_ms(lambda c=cmd: subprocess.run(c, check=True, env=env, stdout=subprocess.DEVNULL,
                                                        stderr=subprocess.PIPE), max(1, repeats // 2))
            print(f"   {name:36s} {ms:8.0f} ms")


def calibration_row(repeats: int) -> None:
    """One optimiser start of the fit to a year of 4-weekly pre-dialysis labs (as benchmarks/bench_calibration.py)."""
    from bench_calibration import year_of_labs  # this folder, next to this script

    from ckdmbd.calibration import Problem, fit, start_state
    from ckdmbd.scenario import load_scenario

    sc = load_scenario("hemodialysis-adherent")
    y0 = start_state(sc)
    labs, _probe = year_of_labs(sc, y0)
    sims = []

    def one_start():
        problem = Problem(sc, labs, y0)
        fit(problem, n_starts=1)
        sims.append(problem.n_simulations)

    ms = median_ms(one_start, max(1, repeats // 2))
    print("5. calibration, one start, a year of 4-weekly labs (3 parameters, hemodialysis-adherent)")
    print(f"   {'fit(n_starts=1)':36s} {ms:8.0f} ms   ({sims[-1]} simulations)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 repeats, 16 batch patients, no CLI rows")
    parser.add_argument("--patients", type=int, default=64, help="patients of the simulate_many rows")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    print(f"load average before (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    anchor, rr = roadrunner_anchor(repeats)
    if anchor:
        print(f"anchor: libRoadRunner healthy reference year, daily grid: {anchor:.1f} ms")
    dialysis_rows(repeats, anchor)
    lu_pair_rows(repeats)
    lu_kernel_rows()
    batch_rows(16 if args.quick else args.patients, anchor)
    healthy_rows(repeats, rr)
    if not args.quick:
        cli_rows(repeats)
        calibration_row(repeats)
    print(f"load average after (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
