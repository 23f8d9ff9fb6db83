"""Core speed benchmark: ckdmbd's compiled Rodas integrator against libRoadRunner on BIOMD0000000613.

What is measured, all in one process and one run, after warm-up, with many repeats (``time.perf_counter``;
median plus interquartile range, min and max are reported; the cases compared with each other are timed
interleaved, round by round, so that other load on the machine slows them alike):

1. One simulated healthy year (teriparatide off, default GFR) on a daily grid (366 points over 8,760 h) and an
   hourly grid (8,761 points), for
   - libRoadRunner (CVODE, its default tolerances), loaded once; ``reset()`` before each run keeps
     ``teri_dose_mcg = 0`` (``resetAll()`` would restore the SBML's 20 µg dose) and is not timed;
   - ``ckdmbd.simulate("reference", ...)`` returning a :class:`Result` (this includes loading the parameter set,
     building the parameter vector and initial state: everything a caller pays);
   - ``Result.to_frame()`` on its own (the labelled, clinical-unit table: observables, mass balance, states) and
     ``simulate(...).to_frame()`` end to end;
   - the raw compiled ``integrate_segment`` call (output array allocation included), i.e. the integrator alone.
   The ratio ckdmbd / libRoadRunner is printed for every ckdmbd row against libRoadRunner on the same grid.
2. The teriparatide year (20 µg at 12, 36 and 60 h) on the hourly grid, in both (libRoadRunner through its own
   SBML event after an untimed ``resetAll()``; ckdmbd through ``TeriparatideDoses``).
3. 100 patient-years with GFR × U[0.5, 1.5] (seeded), daily output, as a plain Python loop in both; the
   libRoadRunner loop includes its per-patient ``reset()`` and GFR assignment.
4. Command-line cold start: ``ckdmbd scenarios`` and ``ckdmbd run peterson-riggs-2010 --out <tmp> -q`` as
   subprocesses (one untimed warm-up run first, which fills numba's on-disk cache).
5. Accuracy, to show that the comparison is like for like: the largest relative difference over the year for
   calcium, phosphate, PTH and calcitriol between ckdmbd and libRoadRunner at tight tolerances (rtol 1e-10), and
   the error each tool makes at the default tolerances used for the timings, measured against that reference.

Why the same output grid: for a model at (or near) steady state both integrators take few steps, so the cost of
a simulated year is mostly the work per output point (dense-output interpolation, copying, building the result
table). A daily-output run against an hourly-output run would measure the grids, not the integrators. Load and
compile times (libRoadRunner's SBML load and LLVM compile; ckdmbd's import, model build and numba compile or
cache load) are one-off costs: they are excluded from the per-run numbers and reported separately.

The SBML is read from ``$CKDMBD_REFERENCE_SBML`` (default ``<repo>/../shared/reference/BIOMD0000000613.xml``);
if libRoadRunner is not importable or the file is missing, only the ckdmbd numbers are printed.

Usage::

    .venv/bin/python benchmarks/bench_core.py [--quick] [--json results.json] [--budget SECONDS_PER_CASE]
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SBML = REPO.parent / "shared" / "reference" / "BIOMD0000000613.xml"

YEAR_H = 8760.0  # 365 days: the daily grid then has exactly 366 points and the hourly grid 8,761
DAILY = np.linspace(0.0, YEAR_H, 366)
HOURLY = np.linspace(0.0, YEAR_H, 8761)
V1 = 14.0  # BIOMD0000000613: species are amounts in the 14 L extracellular volume (compartment sizes are 1)
# clinical column of Result.to_frame() -> SBML species
SPECIES = {"calcium_mmol_L": "P", "phosphate_mmol_L": "ECCPhos", "pth_pmol_L": "PTH", "calcitriol_pmol_L": "B"}
LABELS = {"calcium_mmol_L": "Ca", "phosphate_mmol_L": "PO4", "pth_pmol_L": "PTH", "calcitriol_pmol_L": "calcitriol"}
TERI = (12.0, 20.0, 24.0, 3)  # start h, dose µg, interval h, count (the SBML's own event)
N_PATIENTS = 100
SEED = 20100901


# --------------------------------------------------------------------------------------------------------------
# timing helpers
# --------------------------------------------------------------------------------------------------------------
def stats(times: list[float]) -> dict:
    q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times[0], None, times[0])
    return {
        "repeats": len(times),
        "median_s": statistics.median(times),
        "q1_s": q1,
        "q3_s": q3,
        "min_s": min(times),
        "max_s": max(times),
    }


def bench(
    fn: Callable[[], object],
    budget_s: float,
    setup: Callable[[], object] | None = None,
    warmup: int = 3,
    min_repeats: int = 5,
    max_repeats: int = 5000,
) -> dict:
    """Time ``fn`` (``setup`` runs untimed before every call): ``warmup`` untimed calls, then enough timed repeats
    to fill about ``budget_s`` seconds, at least ``min_repeats`` and at most ``max_repeats``. The first three
    timed calls size the run and are kept as repeats."""

    def timed() -> float:
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    warm = [timed() for _ in range(warmup)]
    times = [timed() for _ in range(min(3, max_repeats))]
    n = int(min(max_repeats, max(min_repeats, budget_s / max(statistics.median(times), 1e-7))))
    times += [timed() for _ in range(n - len(times))]
    return {**stats(times), "warmup_s": warm}


def bench_group(
    cases: dict[str, tuple[Callable[[], object], Callable[[], object] | None]],
    budget_s: float,
    warmup: int = 3,
    min_repeats: int = 5,
    max_repeats: int = 5000,
) -> dict[str, dict]:
    """Like :func:`bench` for several cases ``{name: (fn, setup)}``, interleaved: every round times each case
    that still needs repeats once, so a slow-down from other load on the machine hits all cases alike instead of
    whichever case happened to be running."""

    def timed(fn, setup) -> float:
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    warm: dict[str, list[float]] = {k: [] for k in cases}
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(warmup):
        for k, (fn, setup) in cases.items():
            warm[k].append(timed(fn, setup))
    for _ in range(min(3, max_repeats)):
        for k, (fn, setup) in cases.items():
            times[k].append(timed(fn, setup))
    target = {k: int(min(max_repeats, max(min_repeats, budget_s / max(statistics.median(v), 1e-7))))
              for k, v in times.items()}
    for r in range(len(next(iter(times.values()))), max(target.values())):
        for k, (fn, setup) in cases.items():
            if r < target[k]:
                times[k].append(timed(fn, setup))
    return {k: {**stats(times[k]), "warmup_s": warm[k]} for k in cases}


def once(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def fmt_ms(s: float) -> str:
    ms = s * 1e3
    return f"{ms:.3g}" if ms < 1 else (f"{ms:.2f}" if ms < 100 else f"{ms:.1f}")


# --------------------------------------------------------------------------------------------------------------
# machine information
# --------------------------------------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict:
    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "numba": version("numba"),
        "pandas": version("pandas"),
        "libroadrunner": version("libroadrunner"),
        "ckdmbd": version("ckdmbd"),
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# --------------------------------------------------------------------------------------------------------------
# the benchmark
# --------------------------------------------------------------------------------------------------------------
class Table:
    """Rows of timings; ``ratio`` is ckdmbd / libRoadRunner on the same grid where a baseline exists."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, section: str, case: str, grid: str, result: dict, baseline: dict | None = None) -> dict:
        row = {"section": section, "case": case, "grid": grid, **result}
        if baseline is not None:
            row["ratio_vs_roadrunner"] = result["median_s"] / baseline["median_s"]
        self.rows.append(row)
        return row

    def render(self) -> str:
        head = f"{'case':<44} {'grid':<14} {'n':>5} {'median ms':>10} {'IQR ms':>17} {'min ms':>9} {'max ms':>9}"
        head += f" {'ckdmbd/RR':>9}"
        lines = [head, "-" * len(head)]
        section = None
        for r in self.rows:
            if r["section"] != section:
                section = r["section"]
                lines.append(f"[{section}]")
            iqr = f"{fmt_ms(r['q1_s'])}-{fmt_ms(r['q3_s'])}"
            ratio = f"{r['ratio_vs_roadrunner']:.2f}" if "ratio_vs_roadrunner" in r else ""
            lines.append(
                f"  {r['case']:<42} {r['grid']:<14} {r['repeats']:>5} {fmt_ms(r['median_s']):>10} {iqr:>17}"
                f" {fmt_ms(r['min_s']):>9} {fmt_ms(r['max_s']):>9} {ratio:>9}")
        return "\n".join(lines)


def load_roadrunner(sbml: Path) -> tuple[object | None, dict]:
    """Import libRoadRunner and load the SBML; (None, reason) when either is unavailable."""
    info: dict = {"sbml": str(sbml)}
    try:
        t0 = time.perf_counter()
        import roadrunner

        t_import = time.perf_counter() - t0
    except ImportError as exc:
        info["unavailable"] = f"libroadrunner not importable ({exc})"
        return None, info
    if not sbml.is_file():
        info["unavailable"] = f"reference SBML not found at {sbml} (set CKDMBD_REFERENCE_SBML)"
        return None, info
    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
    t_load, rr = once(lambda: roadrunner.RoadRunner(str(sbml)))
    info.update({"import_s": t_import, "load_compile_s": t_load,
                 "relative_tolerance": rr.integrator.relative_tolerance,
                 "absolute_tolerance": rr.integrator.absolute_tolerance,
                 "default_gfr_L_h": rr.GFR, "default_teri_dose_mcg": rr.teri_dose_mcg})
    return rr, info


def rr_year(rr, grid: np.ndarray) -> np.ndarray:
    return rr.simulate(float(grid[0]), float(grid[-1]), len(grid), selections=["time", *SPECIES.values()])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="a short run: fewer repeats, one CLI run each without a warm-up run (this process has"
                         " already filled the numba cache)")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also save the results as JSON")
    ap.add_argument("--budget", type=float, help="seconds of timed repeats per case (default 0.8, quick 0.08)")
    ap.add_argument("--cli-runs", type=int, help="timed runs per CLI command (default 5, quick 1)")
    args = ap.parse_args(argv)
    budget = args.budget if args.budget is not None else (0.08 if args.quick else 0.8)
    loop_repeats = 1 if args.quick else 7
    cli_runs = args.cli_runs if args.cli_runs is not None else (1 if args.quick else 5)
    cli_warmup = 0 if args.quick else 1
    min_repeats = 3 if args.quick else 10
    wall0 = time.perf_counter()

    out: dict = {"machine": machine_info(), "settings": {"budget_s_per_case": budget, "quick": args.quick}}
    print("ckdmbd core benchmark (BIOMD0000000613: Peterson & Riggs 2010, one year = 8,760 h)")
    for k, v in out["machine"].items():
        print(f"  {k:<14} {v}")

    # ---- one-off costs: imports, model build, numba compile / cache load ------------------------------------
    t0 = time.perf_counter()
    from ckdmbd.model.configurations import model as build_model
    from ckdmbd.model.configurations import parameters as builtin_parameters
    from ckdmbd.protocol import TeriparatideDoses
    from ckdmbd.simulation import SolverOptions, simulate
    from ckdmbd.solvers.rosenbrock import integrate_segment

    t_import = time.perf_counter() - t0
    t_build, m = once(lambda: build_model("reference"))
    pset = builtin_parameters("reference")
    p = m.parameter_vector(pset)
    y0 = m.initial_state(pset)
    t_first, _ = once(lambda: simulate("reference", YEAR_H, output_times_h=DAILY).to_frame())
    opts = SolverOptions()
    teri = [TeriparatideDoses(*TERI)]
    gfr0 = float(dict(pset)["GFR_0"])

    rr, rr_info = load_roadrunner(Path(os.environ.get("CKDMBD_REFERENCE_SBML", DEFAULT_SBML)))
    out["one_off"] = {"ckdmbd_import_s": t_import, "ckdmbd_model_build_s": t_build,
                      "ckdmbd_first_simulate_to_frame_s": t_first, "roadrunner": rr_info}
    print("\none-off costs (excluded from the timings below)")
    print(f"  ckdmbd: import {fmt_ms(t_import)} ms, model build {fmt_ms(t_build)} ms, first simulate+to_frame"
          f" (numba compile or cache load) {fmt_ms(t_first)} ms")
    if rr is None:
        print(f"  libRoadRunner: {rr_info['unavailable']}; printing ckdmbd numbers only")
    else:
        print(f"  libRoadRunner: import {fmt_ms(rr_info['import_s'])} ms, SBML load + compile"
              f" {fmt_ms(rr_info['load_compile_s'])} ms")
    print(f"  tolerances: ckdmbd Rodas rtol {opts.rtol:g} atol {opts.atol:g}", end="")
    if rr is not None:
        print(f"; libRoadRunner CVODE rtol {rr_info['relative_tolerance']:g} atol {rr_info['absolute_tolerance']:g}")
    else:
        print()

    table = Table()
    kw = {"budget_s": budget, "min_repeats": min_repeats}

    # ---- 1. healthy year ------------------------------------------------------------------------------------
    def rr_reset_off():
        rr.reset()  # keeps teri_dose_mcg (a global parameter); resetAll() would restore the 20 µg dose
        rr.teri_dose_mcg = 0.0

    if rr is not None:
        # which reset keeps teriparatide off? (checked, not assumed)
        rr.teri_dose_mcg = 0.0
        rr.reset()
        kept = rr.teri_dose_mcg
        rr.resetAll()
        restored = rr.teri_dose_mcg
        rr_info["teri_dose_after_reset"], rr_info["teri_dose_after_resetAll"] = kept, restored
        print(f"  libRoadRunner: after teri_dose_mcg = 0, reset() leaves it at {kept:g}, resetAll() restores it to"
              f" {restored:g}; the healthy runs use reset() + teri_dose_mcg = 0 (untimed)")
        rr_info["reset_s_median"] = bench(rr_reset_off, **kw)["median_s"]
        rr_info["resetAll_s_median"] = bench(rr.resetAll, **kw)["median_s"]
        print(f"  libRoadRunner: reset() + set {fmt_ms(rr_info['reset_s_median'])} ms, resetAll()"
              f" {fmt_ms(rr_info['resetAll_s_median'])} ms (medians; untimed in the single-year rows)")

    sec = "1. healthy year, teriparatide off"
    for label, grid in (("daily", DAILY), ("hourly", HOURLY)):
        gname = f"{label} ({len(grid)})"
        res = simulate("reference", YEAR_H, output_times_h=grid)

        def fresh_frame(r=res):
            c = copy.copy(r)
            if hasattr(c, "_outputs"):
                c._outputs = None  # Result caches its observables; time the real work each repeat
            return c.to_frame()

        def raw(g=grid):
            y_out = np.empty((len(g), m.n_states))
            status, *_ = integrate_segment(m.generated.rhs, 0.0, YEAR_H, y0, p, g, y_out, 0, opts.rtol, opts.atol,
                                           0.0, opts.max_steps_per_segment, len(m.states))
            if status != 0:
                raise RuntimeError(f"integrate_segment failed with status {status}")
            return y_out

        cases = {}
        if rr is not None:
            cases["libRoadRunner simulate (reset untimed)"] = (lambda g=grid: rr_year(rr, g), rr_reset_off)
        cases["ckdmbd simulate() -> Result"] = (lambda g=grid: simulate("reference", YEAR_H, output_times_h=g), None)
        cases["ckdmbd Result.to_frame() alone"] = (fresh_frame, None)
        cases["ckdmbd simulate().to_frame() end to end"] = (
            lambda g=grid: simulate("reference", YEAR_H, output_times_h=g).to_frame(), None)
        cases["ckdmbd raw integrate_segment"] = (raw, None)
        results = bench_group(cases, **kw)
        base = None
        for name, r in results.items():
            row = table.add(sec, name, gname, r, base)
            if name.startswith("libRoadRunner"):
                base = row
    table.add(sec, "  parameters('reference') (in simulate)", "-", bench(lambda: builtin_parameters("reference"), **kw))

    # ---- 2. teriparatide year ---------------------------------------------------------------------------------
    sec = "2. teriparatide year (20 µg at 12, 36, 60 h)"
    gname = f"hourly ({len(HOURLY)})"
    cases = {}
    if rr is not None:
        # resetAll() restores teri_dose_mcg = 20 and the event counter
        cases["libRoadRunner simulate (resetAll untimed)"] = (lambda: rr_year(rr, HOURLY), rr.resetAll)
    cases["ckdmbd simulate() -> Result"] = (lambda: simulate("reference", YEAR_H, teri, output_times_h=HOURLY), None)
    cases["ckdmbd simulate().to_frame() end to end"] = (
        lambda: simulate("reference", YEAR_H, teri, output_times_h=HOURLY).to_frame(), None)
    base = None
    for name, r in bench_group(cases, **kw).items():
        row = table.add(sec, name, gname, r, base)
        if name.startswith("libRoadRunner"):
            base = row

    # ---- 3. 100 patient-years -----------------------------------------------------------------------------------
    sec = f"3. {N_PATIENTS} patient-years, GFR x U[0.5, 1.5] (seed {SEED}), loop total"
    gfrs = gfr0 * np.random.default_rng(SEED).uniform(0.5, 1.5, N_PATIENTS)
    gname = f"daily ({len(DAILY)})"

    def rr_patients():
        rr.teri_dose_mcg = 0.0  # kept by reset()
        for g in gfrs:
            rr.reset()
            rr.GFR = float(g)
            rr_year(rr, DAILY)

    def ck_patients():
        for g in gfrs:
            simulate("reference", YEAR_H, output_times_h=DAILY, parameters={"GFR_0": float(g)})

    cases = {}
    if rr is not None:
        cases["libRoadRunner loop (reset + GFR timed)"] = (rr_patients, None)
    cases["ckdmbd simulate() loop"] = (ck_patients, None)
    base = None
    for name, r in bench_group(cases, budget_s=0.0, warmup=1, min_repeats=loop_repeats,
                               max_repeats=loop_repeats).items():
        row = table.add(sec, name, gname, r, base)
        if name.startswith("libRoadRunner"):
            base = row

    print()
    print(table.render())
    out["timings"] = table.rows

    # ---- 4. CLI cold start --------------------------------------------------------------------------------------
    exe = Path(sys.executable).parent / "ckdmbd"
    exe_s = str(exe) if exe.is_file() else shutil.which("ckdmbd")
    print("\n4. command-line cold start (subprocess wall time; numba's on-disk cache already filled"
          + (" by this process)" if cli_warmup == 0 else ", after one untimed warm-up run)"))
    out["cli"] = []
    if exe_s is None:
        print("  ckdmbd executable not found; skipped")
    else:
        with tempfile.TemporaryDirectory(prefix="ckdmbd-bench-") as tmp:
            commands = {"ckdmbd scenarios": [exe_s, "scenarios"],
                        "ckdmbd run peterson-riggs-2010 -q": [exe_s, "run", "peterson-riggs-2010", "--out", tmp, "-q"]}
            for name, cmd in commands.items():
                def run_cli(c=cmd):
                    subprocess.run(c, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                r = bench(run_cli, warmup=cli_warmup, min_repeats=cli_runs, max_repeats=cli_runs, budget_s=0.0)
                out["cli"].append({"command": name, **r})
                warm = f", warm-up run {fmt_ms(r['warmup_s'][0])} ms" if r["warmup_s"] else ""
                print(f"  {name:<36} median {fmt_ms(r['median_s']):>8} ms  (min {fmt_ms(r['min_s'])}, max"
                      f" {fmt_ms(r['max_s'])}, {r['repeats']} runs{warm})")

    # ---- 5. accuracy ------------------------------------------------------------------------------------------
    out["accuracy"] = {}
    if rr is not None:
        print("\n5. accuracy: max relative difference over the year, hourly grid (species amounts / 14 L)")
        tight = SolverOptions(rtol=1e-10, atol=1e-12)
        rr_default = (rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance)

        def rr_run(teri_on: bool, tol: tuple[float, float]) -> np.ndarray:
            rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = tol
            rr.resetAll()
            if not teri_on:
                rr.teri_dose_mcg = 0.0
            return np.asarray(rr_year(rr, HOURLY))

        def ck_run(teri_on: bool, solver) -> dict:
            f = simulate("reference", YEAR_H, teri if teri_on else [], output_times_h=HOURLY,
                         solver=solver).to_frame(include_states=False)
            return {c: f[c].to_numpy() for c in SPECIES}

        def worst(a: dict, ref: np.ndarray) -> dict:
            return {LABELS[c]: float(np.max(np.abs(a[c] - ref[:, k] / V1) / np.abs(ref[:, k] / V1)))
                    for k, c in enumerate(SPECIES, start=1)}

        head = f"  {'comparison':<70}" + "".join(f"{v:>12}" for v in LABELS.values())
        print(head)
        for teri_on, title in ((False, "healthy"), (True, "teriparatide")):
            ref = rr_run(teri_on, (1e-10, 1e-12))
            rr_def = rr_run(teri_on, rr_default)
            rr_def_cols = {c: rr_def[:, k] / V1 for k, c in enumerate(SPECIES, start=1)}
            rows = {
                "ckdmbd (rtol 1e-10) vs libRoadRunner (rtol 1e-10)": worst(ck_run(teri_on, tight), ref),
                "ckdmbd default tol vs libRoadRunner (rtol 1e-10)": worst(ck_run(teri_on, opts), ref),
                "libRoadRunner default tol vs libRoadRunner (rtol 1e-10)": worst(rr_def_cols, ref),
            }
            out["accuracy"][title] = rows
            for name, vals in rows.items():
                print(f"  {title + ': ' + name:<70}" + "".join(f"{v:>12.2e}" for v in vals.values()))
        rr.integrator.relative_tolerance, rr.integrator.absolute_tolerance = rr_default

    # ---- summary ------------------------------------------------------------------------------------------------
    if rr is not None:
        print("\nsummary (median ckdmbd / libRoadRunner, same grid):")
        for r in table.rows:
            if "ratio_vs_roadrunner" in r and (r["case"].startswith("ckdmbd simulate") or "raw" in r["case"]):
                short = r["section"].split(" (")[0].split(",")[0]
                print(f"  {short:<22} {r['case']:<42} {r['grid']:<14} {r['ratio_vs_roadrunner']:6.2f}x")
    total = time.perf_counter() - wall0
    out["total_wall_s"] = total
    out["machine"]["load_average_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\ntotal benchmark wall time {total:.1f} s; load average at the end {out['machine']['load_average_at_end']}"
          " (1, 5, 15 min: other work on this machine adds noise)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=float))
        print(f"results saved to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
