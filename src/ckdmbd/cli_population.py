"""``ckdmbd population SPEC``: simulate a virtual population (:mod:`ckdmbd.population`) on local worker processes
or a Dask cluster and write per-patient parameters, per-session pre-dialysis values (Parquet with pyarrow, else CSV)
and the population's HTML page (:mod:`ckdmbd.population_report`); ``ckdmbd sensitivity SPEC`` (Sobol or Morris).
Mounted on the main command in :mod:`ckdmbd.cli`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def _fail(message: str):
    from ckdmbd.cli import _fail  # imported late: ckdmbd.cli mounts this module

    _fail(message)


def population_command(
    spec: Annotated[str, typer.Argument(help="a built-in population (hemodialysis) or a population spec (TOML)")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output folder (default: out/<name>)")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", help="local worker processes (or Dask workers with "
                                                                 "--scheduler local)")] = 1,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="run on Dask: 'local' starts a LocalCluster, "
                                                  "tcp://HOST:8786 joins a running scheduler")] = None,
    size: Annotated[int | None, typer.Option("--size", "-n", help="override the spec's number of patients")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or summary table")] = False,
) -> None:
    """Simulate a virtual population: patients (sampled parameters, status, failures listed) and sessions
    (pre-dialysis values and deposit of every session) as Parquet (CSV without pyarrow), summary.json, and
    report.html (distributions, KDIGO target attainment, deposit incidence, percentile bands, failures)."""
    from ckdmbd.population import Population, PopulationError, load_population, summary
    from ckdmbd.population_backends import BackendError

    if workers < 1:
        _fail(f"--workers: {workers} must be at least 1")
    try:
        population = Population(load_population(spec, size))
    except PopulationError as exc:
        _fail(str(exc))
    out_dir = out if out is not None else Path("out") / population.spec.name
    if out_dir.exists() and not out_dir.is_dir():
        _fail(f"--out: {str(out_dir)!r} exists and is not a folder")
    try:
        if quiet:
            result = population.run(workers=workers, scheduler=scheduler)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("[bold]patients"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          transient=True) as bar:
                task = bar.add_task("patients", total=population.spec.size)
                result = population.run(workers=workers, scheduler=scheduler,
                                        progress=lambda done, total: bar.update(task, completed=done))
    except BackendError as exc:
        _fail(str(exc))
    table = summary(result)
    try:
        written = result.write(out_dir)
        path = out_dir / "summary.json"
        path.write_text(json.dumps({
            "name": population.spec.name, "scenario": population.spec.scenario.name, "size": population.spec.size,
            "seed": population.spec.seed, "failures": len(result.failures),
            "units": result.patients.attrs.get("units", {}),
            "predialysis_last_4_weeks": table.to_dict(orient="records"),
        }, indent=2), encoding="utf-8")
        written.append(path)
        from ckdmbd.population_report import write_page

        written.append(write_page(result, out_dir / "report.html"))
    except OSError as exc:
        _fail(f"cannot write to {str(out_dir)!r}: {exc.strerror or exc}")
    if quiet:
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    rows = Table(title=escape(f"{population.spec.name}: {population.spec.size} patients, pre-dialysis values "
                              f"(each patient's mean over the last 4 weeks)"))
    for col in ("quantity", "patients", "5th percentile", "median", "95th percentile"):
        rows.add_column(col, justify="left" if col == "quantity" else "right")
    for r in table.itertuples():
        rows.add_row(r.quantity, str(r.patients), f"{r.p05:.4g}", f"{r.median:.4g}", f"{r.p95:.4g}")
    console.print(rows)
    failures = result.failures
    console.print(f"{len(failures)} of {population.spec.size} patients failed", markup=False)
    for r in failures.itertuples():
        console.print(f"  patient {r.patient}: {r.message}", markup=False, highlight=False)
    console.print("wrote " + ", ".join(str(p) for p in written), markup=False, highlight=False, soft_wrap=True)


def sensitivity_command(
    spec: Annotated[str, typer.Argument(help="a built-in population (hemodialysis) or a population spec (TOML)")],
    method: Annotated[str, typer.Option("--method", help="sobol (variance-based, Saltelli design) or morris "
                                                          "(elementary effects, screening)")] = "sobol",
    n: Annotated[int, typer.Option("--n", help="sobol: base samples N, N x (parameters + 2) runs; morris: "
                                               "trajectories r, r x (parameters + 1) runs")] = 64,
    output: Annotated[list[str] | None, typer.Option("--output", help="phosphate, calcium, pth (repeatable; "
                                                                       "default phosphate and pth)")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", help="local worker processes")] = 1,
    scheduler: Annotated[str | None, typer.Option("--scheduler",
                                                  help="run on Dask: 'local' or tcp://HOST:8786")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o",
                                             help="output folder (default: out/<name>-<method>)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or table")] = False,
) -> None:
    """Sobol indices (first order S1, total ST, 95 % bootstrap intervals) or Morris screening (mu*, sigma) of each
    patient's last-4-week mean pre-dialysis phosphate, calcium or PTH in the spec's sampled parameters; writes
    sobol.csv or morris.csv."""
    from ckdmbd.population import PopulationError, load_population
    from ckdmbd.population_backends import BackendError
    from ckdmbd.sensitivity import population_morris, population_sobol

    if method not in ("sobol", "morris"):
        _fail(f"--method: {method!r} is not available (sobol, morris)")
    analyse = population_sobol if method == "sobol" else population_morris
    if n < 2:
        _fail(f"--n: {n} must be at least 2")
    if workers < 1:
        _fail(f"--workers: {workers} must be at least 1")
    outputs = tuple(output) if output else ("phosphate", "pth")
    try:
        population = load_population(spec)
        out_dir = out if out is not None else Path("out") / f"{population.name}-{method}"
        if out_dir.exists() and not out_dir.is_dir():
            _fail(f"--out: {str(out_dir)!r} exists and is not a folder")
        d = len(population.distributions)
        runs = n * (d + 2) if method == "sobol" else n * (d + 1)
        if quiet:
            table = analyse(population, n, outputs, workers, scheduler=scheduler)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("[bold]runs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          transient=True) as bar:
                task = bar.add_task("runs", total=runs)
                table = analyse(population, n, outputs, workers, scheduler=scheduler,
                                progress=lambda done, total: bar.update(task, completed=done))
    except (PopulationError, BackendError) as exc:
        _fail(str(exc))
    path = out_dir / f"{method}.csv"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False)
    except OSError as exc:
        _fail(f"cannot write to {str(out_dir)!r}: {exc.strerror or exc}")
    if quiet:
        return
    from rich.console import Console
    from rich.table import Table

    if method == "sobol":
        rows = Table(title=f"Sobol indices, {population.name}: N = {n}, {runs} runs, 95 % bootstrap intervals")
        for col in ("output", "parameter", "S1", "ST"):
            rows.add_column(col, justify="left" if col in ("output", "parameter") else "right")
        for r in table.itertuples():
            rows.add_row(r.output, r.parameter, f"{r.S1:.3f} [{r.S1_low:.3f}, {r.S1_high:.3f}]",
                         f"{r.ST:.3f} [{r.ST_low:.3f}, {r.ST_high:.3f}]")
    else:
        rows = Table(title=f"Morris screening, {population.name}: r = {n} trajectories, {runs} runs; mu* in the "
                           f"output's unit across each input's 1st-99th percentile grid, 95 % interval")
        for col in ("output", "parameter", "mu*", "sigma"):
            rows.add_column(col, justify="left" if col in ("output", "parameter") else "right")
        for r in table.itertuples():
            rows.add_row(r.output, r.parameter, f"{r.mu_star:.4g} +- {r.mu_star_conf:.2g}", f"{r.sigma:.4g}")
    console = Console()
    if not console.is_terminal:  # piped or captured: keep each row on one line
        console = Console(width=140)
    console.print(rows)
    console.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)
