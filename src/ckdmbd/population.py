"""Virtual populations (issue 12): a base scenario, a size, a seed and a distribution per parameter; every patient
simulated, their pre-dialysis values per session collected, failures kept and listed.

::

    [population]
    name = "hd-diet"                      # optional (default: the file's name); names the output folder
    scenario = "hemodialysis-adherent"    # a built-in scenario or a path relative to this file
    size = 200                            # patients
    seed = 2011                           # the same spec and seed give the same numbers on any number of workers
    duration = "1 year"                   # optional: overrides the scenario's
    accuracy = "population"               # optional: report | population (default) | screen (solver presets)

    [distributions.dietary_phosphorus]    # any parameter by readable name or symbol (`ckdmbd parameters`)
    type = "normal"                       # normal | lognormal | uniform | categorical
    mean = "982 mg/day"
    sd = "192 mg/day"
    low = "500 mg/day"                    # optional bounds: a truncated distribution (normal and lognormal)
    high = "1600 mg/day"

    [distributions.phosphate_mobilisation_clearance]
    type = "lognormal"
    median = "99 mL/min"
    sigma = 0.45                          # standard deviation of the natural logarithm

    [distributions.binder_adherence]
    type = "uniform"
    low = 0.0
    high = 1.0

    [distributions.dialyzer_phosphate_clearance]
    type = "categorical"
    values = ["140 mL/min", "180 mL/min"]
    weights = [0.7, 0.3]                  # optional (default: equal)

Optional ``[correlations]`` (pairs of distributions with the correlation of their normal scores) and ``[cohort]``
(a CSV of real patients, one row each): :mod:`ckdmbd.population_draws`.

A sampled value is the patient's for the whole run, history included: it overrides the base scenario's
``[patient]`` and ``[parameters]``, and events that would set that parameter leave it alone (a ``phosphate_binder``
event's adherence, a ``hemodialysis`` event's ``phosphate_clearance``, a ``diet`` event for a sampled diet).

Quantities follow :mod:`ckdmbd.parameter_names` (a unit, or a bare number in the unit ``ckdmbd parameters``
shows). Sampling happens once, in the calling process, by inverse CDF from one generator seeded with ``seed``
(parameters in the spec's order, one uniform per patient each), so the draws do not depend on how the patients are
spread over workers; each patient's run is deterministic.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ckdmbd.bounded_read import BoundedReadError, read_bounded_text
from ckdmbd.parameter_names import NamedParameter, ParameterNameError, lookup
from ckdmbd.population_draws import Cohort, DrawError, correlate, correlation_matrix, read_cohort
from ckdmbd.scenario import MAX_FILE_BYTES, Scenario, ScenarioError, load_scenario, with_overrides

MAX_SIZE = 100_000
DISTRIBUTIONS = ("normal", "lognormal", "uniform", "categorical")
_FIELDS = {
    "normal": ({"type", "mean", "sd"}, {"low", "high"}),
    "lognormal": ({"type", "median", "sigma"}, {"low", "high"}),
    "uniform": ({"type", "low", "high"}, set()),
    "categorical": ({"type", "values"}, {"weights"}),
}
PREDIALYSIS = ("pre_calcium_mmol_L", "pre_phosphate_mmol_L", "pre_pth_pmol_L", "pre_ionized_calcium_mmol_L")


class PopulationError(ScenarioError):
    """A malformed population spec; the message names the field and the value (one line)."""


@dataclass(frozen=True)
class Distribution:
    """One parameter's distribution, in model units."""

    parameter: NamedParameter
    kind: str
    a: float = math.nan  # normal: mean; lognormal: log of the median; uniform: low
    b: float = math.nan  # normal: sd; lognormal: sigma; uniform: high
    low: float = -math.inf
    high: float = math.inf
    values: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()

    def sample(self, u: np.ndarray) -> np.ndarray:
        """Values for uniforms ``u`` in (0, 1) by inverse CDF (truncation: ``u`` mapped into the bounds' CDF).
        The standard normal's CDF and its inverse come from scipy.special (what scipy.stats.norm calls, the same
        numbers): importing scipy.stats costs ~0.8 s, a tenth of a 1,000-patient run's goal."""
        from scipy.special import ndtr, ndtri

        if self.kind == "uniform":
            return self.a + (self.b - self.a) * u
        if self.kind == "categorical":
            edges = np.cumsum(self.weights) / np.sum(self.weights)
            return np.asarray(self.values)[np.minimum(np.searchsorted(edges, u, side="right"), len(self.values) - 1)]
        if self.kind == "normal":
            lo, hi = (self.low - self.a) / self.b, (self.high - self.a) / self.b
            z = ndtri(ndtr(lo) + u * (ndtr(hi) - ndtr(lo)))
            return self.a + self.b * z
        lo = (math.log(self.low) - self.a) / self.b if self.low > 0 else -math.inf
        hi = (math.log(self.high) - self.a) / self.b if math.isfinite(self.high) else math.inf
        z = ndtri(ndtr(lo) + u * (ndtr(hi) - ndtr(lo)))
        return np.exp(self.a + self.b * z)


@dataclass(frozen=True)
class PopulationSpec:
    name: str
    scenario: Scenario
    size: int
    seed: int
    distributions: tuple[Distribution, ...]
    accuracy: str = "population"
    source: str = "<memory>"
    correlation: tuple[tuple[float, ...], ...] | None = None  # of the distributions' normal scores (population_draws)
    cohort: Cohort | None = None  # patients read from a table (population_draws)


def _fail(message: str) -> PopulationError:
    return PopulationError(" ".join(message.split()))


def _check_fields(table: Any, where: str, required: set[str], optional: set[str]) -> None:
    if not isinstance(table, dict):
        raise _fail(f"{where}: expected a table ([{where}])")
    missing = sorted(required - table.keys())
    if missing:
        raise _fail(f"{where}.{missing[0]}: missing; this field is required")
    unknown = sorted(table.keys() - required - optional)
    if unknown:
        raise _fail(f"{where}.{unknown[0]}: unknown field (allowed: {', '.join(sorted(required | optional))})")


def parse_population(text: str, source: str = "<memory>") -> PopulationSpec:
    """Validate a population spec; every error names the field and the value."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(f"{source}: not a valid TOML file ({exc})") from None
    _check_fields(doc, "", {"population"}, {"distributions", "correlations", "cohort"})
    head = doc["population"]
    _check_fields(head, "population", {"scenario", "seed"} | ({"size"} if "cohort" not in doc else set()),
                  {"name", "duration", "accuracy", "size"})
    size, seed = head.get("size", 1), head["seed"]
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        raise _fail(f"population.size: {size!r} must be a whole number from 1 to {MAX_SIZE}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _fail(f"population.seed: {seed!r} must be a whole number >= 0")
    accuracy = head.get("accuracy", "population")
    from ckdmbd.simulation import TOLERANCE_PRESETS

    if accuracy not in TOLERANCE_PRESETS:
        raise _fail(f"population.accuracy: {accuracy!r} must be one of {', '.join(TOLERANCE_PRESETS)}")
    ref = head["scenario"]
    if not isinstance(ref, str) or not ref.strip():
        raise _fail(f"population.scenario: {ref!r} must be a built-in scenario name or a file path")
    here = Path(source)
    relative = here.parent / ref if here.is_file() and not Path(ref).is_absolute() else Path(ref)
    try:
        sc = load_scenario(ref if not relative.is_file() else relative)
        if "duration" in head:
            sc = with_overrides(sc, str(head["duration"]))
    except ScenarioError as exc:
        raise _fail(f"population.scenario: {exc}") from None
    name = head.get("name", here.stem if source != "<memory>" else sc.name)
    if not isinstance(name, str) or not name.strip() or "/" in name or "\\" in name or name.startswith("."):
        raise _fail(f"population.name: {name!r} must be a non-empty text without '/' or '\\' (it names the "
                    f"output folder)")
    raw = doc.get("distributions", {})
    if not isinstance(raw, dict):
        raise _fail("distributions: expected tables ([distributions.NAME])")
    dists = []
    seen: dict[str, str] = {}
    for key, table in raw.items():
        where = f"distributions.{key}"
        try:
            p = lookup(key, sc.configuration, where)
        except ParameterNameError as exc:
            raise _fail(str(exc)) from None
        if p.symbol in seen:
            raise _fail(f"{where}: the same parameter as distributions.{seen[p.symbol]}, given twice")
        seen[p.symbol] = key
        dists.append(_distribution(p, table, where))
    try:
        corr = correlation_matrix(doc.get("correlations"), [d.parameter.name for d in dists]
                                  if not raw else list(raw))
        cohort = read_cohort(doc["cohort"], sc.configuration, source) if "cohort" in doc else None
    except DrawError as exc:
        raise _fail(str(exc)) from None
    if cohort is not None:
        both = [p.name for p in cohort.parameters if p.symbol in seen]
        if both:
            raise _fail(f"cohort.file: {both[0]} is both a column of the table and a distribution")
        if "size" in head and size != cohort.size:
            raise _fail(f"population.size: {size} but the cohort table has {cohort.size} patients (leave size out)")
        size = cohort.size
    return PopulationSpec(name.strip(), sc, size, seed, tuple(dists), accuracy, source,
                          None if corr is None else tuple(map(tuple, corr.tolist())), cohort)


def _distribution(p: NamedParameter, table: Any, where: str) -> Distribution:
    if not isinstance(table, dict) or "type" not in table:
        raise _fail(f"{where}.type: missing; each distribution needs a type ({', '.join(DISTRIBUTIONS)})")
    kind = table["type"]
    if kind not in DISTRIBUTIONS:
        raise _fail(f"{where}.type: {kind!r} is not one of {', '.join(DISTRIBUTIONS)}")
    _check_fields(table, where, *_FIELDS[kind])

    def value(key: str) -> float:
        try:
            return p.to_model(table[key], f"{where}.{key}")
        except ParameterNameError as exc:
            raise _fail(str(exc)) from None

    def number(key: str) -> float:
        v = table[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise _fail(f"{where}.{key}: {v!r} must be a positive number")
        return float(v)

    low = value("low") if "low" in table else -math.inf
    high = value("high") if "high" in table else math.inf
    if kind in ("normal", "lognormal", "uniform") and not low < high:
        raise _fail(f"{where}.high: {table.get('high')!r} must be above low ({table.get('low')!r})")
    if kind == "uniform":
        return Distribution(p, kind, low, high)
    if kind == "normal":
        mean, sd = value("mean"), value("sd")
        if not sd > 0:
            raise _fail(f"{where}.sd: {table['sd']!r} must be positive")
        if not low < mean + 8 * sd or not high > mean - 8 * sd:
            raise _fail(f"{where}: the bounds leave (almost) nothing of the distribution")
        return Distribution(p, kind, mean, sd, low, high)
    if kind == "lognormal":
        median = value("median")
        if median <= 0:
            raise _fail(f"{where}.median: {table['median']!r} must be positive")
        return Distribution(p, kind, math.log(median), number("sigma"), max(low, 0.0), high)
    values = table["values"]
    if not isinstance(values, list) or not values:
        raise _fail(f"{where}.values: {values!r} must be a non-empty list")
    converted = []
    for k, v in enumerate(values):
        try:
            converted.append(p.to_model(v, f"{where}.values[{k}]"))
        except ParameterNameError as exc:
            raise _fail(str(exc)) from None
    weights = table.get("weights", [1.0] * len(values))
    if (not isinstance(weights, list) or len(weights) != len(values)
            or not all(not isinstance(w, bool) and isinstance(w, int | float) and w >= 0 for w in weights)
            or not sum(weights) > 0):
        raise _fail(f"{where}.weights: {weights!r} must be {len(values)} non-negative numbers, not all 0")
    return Distribution(p, kind, values=tuple(converted), weights=tuple(float(w) for w in weights))


BUILTIN_PACKAGE = "ckdmbd.populations"


def builtin_populations() -> list[str]:
    from importlib import resources

    return sorted(p.name[:-5] for p in resources.files(BUILTIN_PACKAGE).iterdir() if p.name.endswith(".toml"))


def load_population(path: str | Path, size: int | None = None) -> PopulationSpec:
    """A built-in population spec by name (``hemodialysis``) or a spec file; ``size`` overrides its size."""
    if str(path) in builtin_populations() and not Path(path).is_file():
        from importlib import resources

        text = resources.files(BUILTIN_PACKAGE).joinpath(f"{path}.toml").read_text(encoding="utf-8")
        return _with_size(parse_population(text, f"{path}.toml"), size)
    path = Path(path)
    try:
        text = read_bounded_text(path, MAX_FILE_BYTES, encoding="utf-8")
    except BoundedReadError as exc:
        hint = f" (built-ins: {', '.join(builtin_populations())})" if exc.kind == "missing" else ""
        raise _fail(f"cannot read population spec {str(path)!r}: {exc}{hint}") from None
    return _with_size(parse_population(text, str(path)), size)


def _with_size(spec: PopulationSpec, size: int | None) -> PopulationSpec:
    if size is None:
        return spec
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        raise _fail(f"--size: {size!r} must be a whole number from 1 to {MAX_SIZE}")
    if spec.cohort is not None and size > spec.cohort.size:
        raise _fail(f"--size: {size} is more than the cohort table's {spec.cohort.size} patients")
    return replace(spec, size=size)


@dataclass
class PopulationResult:
    """``patients``: one row per patient (sampled parameters in their display units, status, message, the day a
    failed run stopped at (``failed_at_day``, NaN when it ran through or was refused before starting), number of
    sessions); ``sessions``: one row per patient and dialysis session (start day, pre-dialysis values). Units of
    the parameter columns in ``patients.attrs["units"]``."""

    spec: PopulationSpec
    patients: pd.DataFrame
    sessions: pd.DataFrame
    extra: dict = field(default_factory=dict)

    @property
    def failures(self) -> pd.DataFrame:
        return self.patients[self.patients["status"] != "ok"]

    def write(self, out_dir: Path) -> list[Path]:
        """patients and sessions as Parquet when pyarrow is installed, else CSV."""
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            import pyarrow  # noqa: F401

            ext = "parquet"
        except ImportError:
            ext = "csv"
        written = []
        for name, frame in (("patients", self.patients), ("sessions", self.sessions)):
            path = out_dir / f"{name}.{ext}"
            if ext == "parquet":
                frame.to_parquet(path, index=False)
            else:
                frame.to_csv(path, index=False)
            written.append(path)
        return written


class Population:
    """A virtual population: ``Population(spec).run(workers=N)`` (a spec, a spec file's path or its TOML text)."""

    def __init__(self, spec: PopulationSpec | str | Path):
        if isinstance(spec, PopulationSpec):
            self.spec = spec
        elif isinstance(spec, Path) or (isinstance(spec, str) and "\n" not in spec):
            self.spec = load_population(spec)
        else:
            self.spec = parse_population(spec)

    def samples(self) -> list[dict[str, float]]:
        """Per patient: {symbol: value in model units}."""
        spec = self.spec
        rng = np.random.default_rng(spec.seed)
        u = np.column_stack([rng.random(spec.size) for _ in spec.distributions]) if spec.distributions else None
        columns: dict[str, np.ndarray] = {}
        if u is not None:
            u = correlate(u, None if spec.correlation is None else np.array(spec.correlation))
            columns = {d.parameter.symbol: d.sample(u[:, j]) for j, d in enumerate(spec.distributions)}
        if spec.cohort is not None:  # a table's patients, first `size` rows; an empty cell keeps the scenario's value
            columns.update({k: v[:spec.size] for k, v in spec.cohort.columns.items()})
        return [{k: float(v[i]) for k, v in columns.items() if not math.isnan(v[i])} for i in range(spec.size)]

    def run(self, workers: int = 1, progress: Callable[[int, int], None] | None = None,
            samples: list[dict[str, float]] | None = None, scheduler: str | None = None) -> PopulationResult:
        """Simulate every patient and collect the results in patient order: ``workers`` local processes (1 = in this
        process), or with ``scheduler`` a Dask cluster ("local" starts a LocalCluster of ``workers`` processes; an
        address such as "tcp://HOST:8786" joins an existing one; :mod:`ckdmbd.population_backends`). The numbers
        are the same on every backend. ``progress(done, total)`` as patients finish. ``samples``: the patients'
        values ({symbol: model-unit value} each) instead of :meth:`samples` (a sensitivity analysis's points)."""
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
        from ckdmbd.model.configurations import model
        from ckdmbd.population_backends import run_patients
        from ckdmbd.simulation import SolverOptions

        spec = self.spec
        samples = self.samples() if samples is None else samples
        options = SolverOptions.preset(spec.accuracy, specialised=True)  # the same solver in every worker
        model(spec.scenario.configuration)  # compiled once here; forked workers inherit it
        outcomes = run_patients(simulate_pinned, spec.scenario, options, samples, workers, scheduler, progress)
        return _collect(spec, samples, outcomes)


def simulate_pinned(sc: Scenario, overrides: Mapping[str, float],
                    options) -> tuple[str, str, pd.DataFrame, float]:
    """One patient: the scenario ``sc`` with the parameter values ``overrides`` (model units, by symbol) pinned for
    the whole run, history included, so that events which would set one of them leave it alone; ``options`` are the
    solver's (:class:`ckdmbd.simulation.SolverOptions`).

    Returns (status, message, pre-dialysis values per session, day the run failed at or NaN); a failure is a value,
    never an exception. Why it is public: it is the code path of every member of a population
    (:meth:`Population.run` hands it to :func:`ckdmbd.population_backends.run_patients`), and the what-if app
    (:func:`ckdmbd.app.simulate_whatif`) runs its two patients through it too, so a patient in the app and the same
    patient in a population give the same numbers."""
    from ckdmbd.sessions import session_output_times
    from ckdmbd.simulation import simulate

    patient = replace(sc, parameter_overrides={**sc.parameter_overrides, **overrides})
    try:  # as run_scenario, with the sampled parameters pinned: events do not reset them
        actions = pinned_actions(sc, overrides)
        result = simulate(sc.configuration, sc.duration_h, actions, output_interval_h=sc.output_interval_h,
                          parameters=patient.parameter_overrides, start_h=-sc.history_h,
                          extra_output_times_h=session_output_times(sc.events, sc.duration_h), solver=options,
                          check=False)
    except Exception as exc:  # a protocol or parameter error of this patient's values: listed, not raised
        return failed_outcome(exc)
    return session_outcome(result, patient.events)


def pinned_actions(sc: Scenario, pinned: Mapping[str, float]) -> list:
    """The scenario's primitive actions in time order, without any that would set or scale a pinned parameter."""
    from ckdmbd.model.configurations import model
    from ckdmbd.protocol import ScaleParameter, SetParameter
    from ckdmbd.simulation import expand_events

    return [a for a in expand_events(sc.events, model(sc.configuration).state_names)
            if not (isinstance(a, SetParameter | ScaleParameter) and a.name in pinned)]


def failed_outcome(exc: BaseException) -> tuple[str, str, pd.DataFrame, float]:
    """The outcome of a patient whose values were refused before the run (one line, no day)."""
    return "failed", " ".join(f"{exc.__class__.__name__}: {exc}".split()), pd.DataFrame(), math.nan


def session_outcome(result, events) -> tuple[str, str, pd.DataFrame, float]:
    """(status, message, pre-dialysis values and deposit per session, day of a failure or NaN) of a finished run;
    shared by a population member and the app's what-if, so both report the same columns the same way."""
    from ckdmbd.sessions import session_table

    if not result.ok:
        when = "" if result.failed_at_h is None else f" (at day {result.failed_at_h / 24.0:.4g})"
        day = math.nan if result.failed_at_h is None else result.failed_at_h / 24.0
        return "failed", result.message + when, pd.DataFrame(), day
    frame = result.to_frame(include_states=False)
    table = session_table(frame, events)
    keep = [c for c in ("start_day", *PREDIALYSIS) if c in table]
    table = table[keep] if len(table) else pd.DataFrame(columns=keep)
    if len(table) and "deposit_mass_g" in frame:  # the soft-tissue deposit at each session's start
        table = table.assign(deposit_mass_g=np.interp(table["start_day"], frame["time_days"],
                                                      frame["deposit_mass_g"]))
    return "ok", "success", table, math.nan


def _collect(spec: PopulationSpec, samples: list[dict[str, float]],
             outcomes: list[tuple[str, str, pd.DataFrame, float]]) -> PopulationResult:
    rows, session_frames, owners = [], [], []
    sampled = _sampled_parameters(spec)
    for k, (values, (status, message, sessions, failed_day)) in enumerate(zip(samples, outcomes, strict=True)):
        row: dict[str, Any] = {"patient": k}
        for p in sampled:
            row[p.name] = p.from_model(values[p.symbol]) if p.symbol in values else math.nan
        row.update(status=status, message=message, failed_at_day=failed_day, sessions=len(sessions))
        rows.append(row)
        if len(sessions):
            session_frames.append(sessions)
            owners.append(k)
    patients = pd.DataFrame(rows)
    patients.attrs["units"] = {p.name: p.unit for p in sampled}
    columns = ["patient", "session", "start_day", *PREDIALYSIS, "deposit_mass_g"]
    sessions = _stack_sessions(session_frames, owners) if session_frames else pd.DataFrame(columns=columns)
    sessions = sessions[[c for c in columns if c in sessions]]
    return PopulationResult(spec, patients, sessions)


def _stack_sessions(frames: list[pd.DataFrame], owners: list[int]) -> pd.DataFrame:
    """The patients' session tables one under the other with their patient and session numbers: the frame
    ``pd.concat`` of each table with those columns assigned makes, built from the columns' arrays when every table
    has the same float columns (a population's always do: ~10x faster, a quarter of a second per 1,000 patients
    otherwise, in the calling process after the workers are done), else by that concat."""
    names = list(frames[0].columns)
    lengths = np.array([len(f) for f in frames])
    if all(list(f.columns) == names and (f.dtypes == np.float64).all() for f in frames):
        block = np.concatenate([f.to_numpy() for f in frames])
        data: dict[str, np.ndarray] = {c: block[:, j] for j, c in enumerate(names)}
        data["patient"] = np.repeat(np.asarray(owners, dtype=np.int64), lengths)
        data["session"] = np.concatenate([np.arange(n) for n in lengths])
        return pd.DataFrame(data)
    return pd.concat([f.assign(patient=k, session=np.arange(len(f))) for f, k in zip(frames, owners, strict=True)],
                     ignore_index=True)


def _sampled_parameters(spec: PopulationSpec) -> list[NamedParameter]:
    """The parameters that vary between patients: the distributions', then the cohort table's."""
    cohort = list(spec.cohort.parameters) if spec.cohort is not None else []
    return [d.parameter for d in spec.distributions] + cohort


def per_patient_predialysis(result: PopulationResult, last_days: float = 28.0) -> pd.DataFrame:
    """Each patient's mean pre-dialysis values over the sessions of the last ``last_days`` of the run (index:
    patient; patients without sessions are missing)."""
    s = result.sessions
    if s.empty:
        return pd.DataFrame(columns=list(PREDIALYSIS))
    end = s.groupby("patient")["start_day"].transform("max")
    return s[s["start_day"] >= end - last_days].groupby("patient").mean(numeric_only=True)


def summary(result: PopulationResult, last_days: float = 28.0) -> pd.DataFrame:
    """Per pre-dialysis quantity: median and 5th / 95th percentile over patients of each patient's mean over the
    last ``last_days`` of sessions."""
    if result.sessions.empty:
        return pd.DataFrame(columns=["quantity", "patients", "p05", "median", "p95"])
    per_patient = per_patient_predialysis(result, last_days)
    rows = []
    for col in PREDIALYSIS:
        if col in per_patient:
            v = per_patient[col].dropna().to_numpy()
            rows.append({"quantity": col, "patients": len(v), "p05": np.percentile(v, 5),
                         "median": np.median(v), "p95": np.percentile(v, 95)})
    return pd.DataFrame(rows)
