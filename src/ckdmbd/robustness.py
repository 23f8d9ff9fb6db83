"""Robustness across the parameter and treatment space (issue 15): seeded virtual patients whose every sampled
parameter is drawn across its declared physiological range (``parameters/ranges.toml``, log-uniform for positive
ranges) and whose treatment is drawn across the treatments the scenario language offers (diet, phosphate binders
and adherence, dialysis schedule, session length, dialyzer clearance and dialysate calcium, active and nutritional
vitamin D, calcimimetics, parathyroidectomy). Each patient is simulated; a failure is kept with its parameter set,
its time and its reason, never dropped.

Used by ``tests/test_robustness.py`` (a small seeded sample in the fast suite, a larger one marked slow) and
``benchmarks/robustness.py`` (the issue's 1,000 dialysis and 500 CKD patients, with wall time).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ckdmbd.parameter_ranges import ranges

KINDS = ("dialysis", "ckd")
SCHEDULES = {  # days of a week's sessions
    "thrice weekly (Mon, Wed, Fri)": ["Mon", "Wed", "Fri"],
    "thrice weekly (Tue, Thu, Sat)": ["Tue", "Thu", "Sat"],
    "four times weekly": ["Mon", "Tue", "Thu", "Sat"],
    "twice weekly": ["Mon", "Thu"],
}
BINDER_PBE_PER_G = {"calcium_carbonate": 1.0, "calcium_acetate": 1.0, "sevelamer": 0.75, "lanthanum": 2.0}
"""Phosphate-binder equivalents per gram (Daugirdas 2011, as ckdmbd.protocol.BINDERS): the sampled dose is drawn
as 1-6 g/day PBE, the range of prescribed binder loads, and converted to grams of the binder."""


@dataclass(frozen=True)
class VirtualPatient:
    """One sampled patient: ``parameters`` {symbol: model-unit value} pinned for the whole run, and the scenario
    TOML text holding the treatment (``treatment`` says it in words)."""

    index: int
    kind: str
    parameters: dict[str, float]
    scenario: str
    treatment: str


@dataclass(frozen=True)
class Outcome:
    """``status``: ok | solver (the integrator gave up) | negative (an amount became negative) | non-finite |
    refused (the parameter set was refused) | error (any other exception: a bug); ``failed_at_day`` where known."""

    patient: VirtualPatient
    status: str
    reason: str
    failed_at_day: float | None
    wall_s: float

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self) -> str:
        """One line: patient, status, time, reason and the treatment (the parameters are in ``patient``)."""
        when = "" if self.failed_at_day is None else f" at day {self.failed_at_day:.4g}"
        return (f"patient {self.patient.index} ({self.patient.kind}; {self.patient.treatment}): {self.status}{when}: "
                f"{self.reason}")


@dataclass
class Campaign:
    outcomes: list[Outcome] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def counts(self) -> Counter:
        return Counter(o.status for o in self.outcomes)


def sampled_ranges(configuration: str = "default"):
    """The ranges the robustness sample varies: every parameter of ``configuration`` with ``sample = true`` and a
    range of positive width."""
    from ckdmbd.model.configurations import parameters

    names = set(parameters(configuration))
    return [r for name, r in ranges(configuration).items() if name in names and r.sample and r.high > r.low]


def sample_parameters(n: int, seed: int, configuration: str = "default") -> list[dict[str, float]]:
    """``n`` parameter sets drawn independently across the declared ranges (log-uniform where the range is positive,
    uniform otherwise), from one generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    chosen = sampled_ranges(configuration)
    u = rng.random((n, len(chosen)))
    sets = []
    for row in u:
        values = {}
        for r, x in zip(chosen, row, strict=True):
            if r.low > 0:
                values[r.name] = math.exp(math.log(r.low) + x * (math.log(r.high) - math.log(r.low)))
            else:
                values[r.name] = r.low + x * (r.high - r.low)
        sets.append(values)
    return sets


def _q(value: float, unit: str) -> str:
    return f'"{value:.4g} {unit}"'


def _treatment(rng: np.random.Generator, kind: str, history_days: float, duration_days: float) -> tuple[str, str]:
    """(scenario events and patient table as TOML, a short description) of one sampled treatment."""
    words: list[str] = []
    lines = ["[patient]",
             f"diet_calcium = {_q(rng.uniform(400, 1500), 'mg/day')}",
             f"diet_phosphorus = {_q(rng.uniform(500, 1800), 'mg/day')}", ""]
    start = f'"{-history_days:g} days"'
    if kind == "dialysis":
        name = list(SCHEDULES)[rng.integers(len(SCHEDULES))]
        session_h = float(rng.choice([3.0, 3.5, 4.0, 4.5, 5.0]))
        bath = float(rng.choice([1.25, 1.5, 1.75]))
        clearance = rng.uniform(110, 210)
        words.append(f"HD {name}, {session_h:g} h, {clearance:.0f} mL/min, bath {bath:g} mM")
        lines += ["[[events]]", 'type = "set_gfr"', f"time = {start}", 'gfr = "0 mL/min"', "",
                  "[[events]]", 'type = "hemodialysis"', f"time = {start}",
                  "days = [" + ", ".join(f'"{d}"' for d in SCHEDULES[name]) + "]",
                  f'session = "{session_h:g} h"', f'start_clock = "{float(rng.choice([7.0, 8.0, 13.0])):g} h"',
                  f"phosphate_clearance = {_q(clearance, 'mL/min')}", f'dialysate_calcium = "{bath:g} mmol/L"', ""]
    else:
        if rng.random() < 0.5:
            gfr = rng.uniform(15, 60)
            words.append(f"CKD GFR {gfr:.0f} mL/min")
            lines += ["[[events]]", 'type = "set_gfr"', f"time = {start}", f"gfr = {_q(gfr, 'mL/min')}", ""]
        else:
            g0, g1 = rng.uniform(45, 100), rng.uniform(10, 30)
            words.append(f"CKD GFR {g0:.0f} -> {g1:.0f} mL/min")
            lines += ["[[events]]", 'type = "gfr_decline"', f"time = {start}", f"from = {_q(g0, 'mL/min')}",
                      f"to = {_q(g1, 'mL/min')}", f'over = "{history_days + duration_days:g} days"', ""]
    if rng.random() < (0.85 if kind == "dialysis" else 0.35):
        binder = list(BINDER_PBE_PER_G)[rng.integers(len(BINDER_PBE_PER_G))]
        pbe, adherence = rng.uniform(1.0, 6.0), rng.uniform(0.0, 1.0)
        words.append(f"{binder} {pbe:.1f} g PBE/day x {adherence:.2f}")
        lines += ["[[events]]", 'type = "phosphate_binder"', f"time = {start}", f'binder = "{binder}"',
                  f"dose = {_q(pbe / BINDER_PBE_PER_G[binder], 'g/day')}", f"adherence = {adherence:.3f}", ""]
    drugs = ["none", "calcitriol", "alfacalcidol", "paricalcitol", "cholecalciferol"]
    if kind == "dialysis":
        drugs += ["calcitriol iv", "paricalcitol iv", "cinacalcet", "etelcalcetide"]
    drug = drugs[rng.integers(len(drugs))]
    event = ["[[events]]", 'time = "0 h"']
    if drug in ("calcitriol", "alfacalcidol", "paricalcitol"):
        dose = rng.uniform(0.25, 1.0) * (4.0 if drug == "paricalcitol" else 1.0)
        lines += [*event, 'type = "active_vitamin_d"', f'drug = "{drug}"', f"dose = {_q(dose, 'ug/day')}", ""]
        words.append(f"{drug} {dose:.2g} ug/day")
    elif drug.endswith(" iv"):
        name = drug.split()[0]
        dose = rng.uniform(0.5, 2.0) * (3.0 if name == "paricalcitol" else 1.0)
        lines += [*event, 'type = "active_vitamin_d"', f'drug = "{name}"', 'route = "iv"', f"dose = {_q(dose, 'ug')}",
                  ""]
        words.append(f"{name} {dose:.2g} ug i.v. per session")
    elif drug == "cholecalciferol":
        dose = rng.uniform(800, 4000)
        lines += [*event, 'type = "nutritional_vitamin_d"', 'drug = "cholecalciferol"',
                  f"dose = {_q(dose, 'IU/day')}", ""]
        words.append(f"cholecalciferol {dose:.0f} IU/day")
    elif drug == "cinacalcet":
        dose = float(rng.choice([30, 60, 90, 120, 180]))
        lines += [*event, 'type = "cinacalcet"', f'dose = "{dose:g} mg/day"', ""]
        words.append(f"cinacalcet {dose:g} mg/day")
    elif drug == "etelcalcetide":
        dose = float(rng.choice([2.5, 5.0, 7.5, 10.0, 15.0]))
        lines += [*event, 'type = "etelcalcetide"', f'dose = "{dose:g} mg"', ""]
        words.append(f"etelcalcetide {dose:g} mg per session")
    if rng.random() < 0.1:
        day = rng.uniform(0.0, duration_days)
        removed = float(rng.choice([0.875, 1.0]))
        graft = 0.0 if removed < 1 else float(rng.choice([0.0, 0.1, 0.25]))
        lines += ["[[events]]", 'type = "parathyroidectomy"', f'time = "{day:.3f} days"',
                  f"fraction_removed = {removed:g}", f"autograft = {graft:g}", ""]
        words.append(f"parathyroidectomy day {day:.0f} ({removed:g}, graft {graft:g})")
    return "\n".join(lines), "; ".join(words) or "untreated"


def sample_patients(n: int, seed: int, kind: str = "dialysis", history_days: float = 365.0,
                    duration_days: float = 365.0) -> list[VirtualPatient]:
    """``n`` patients of ``kind`` (dialysis | ckd): parameters across the declared ranges, treatments across the
    treatment space; ``history_days`` simulated before the ``duration_days`` reported (all treatments but the
    drugs, started at day 0, and surgery, in the reported part, run through the history)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    params = sample_parameters(n, seed)
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    patients = []
    for k in range(n):
        events, words = _treatment(rng, kind, history_days, duration_days)
        head = (f'[scenario]\nname = "robustness-{kind}-{k}"\nconfiguration = "default"\n'
                f'history = "{history_days:g} days"\nduration = "{duration_days:g} days"\n'
                'output_interval = "1 day"\n\n')
        patients.append(VirtualPatient(k, kind, params[k], head + events, words))
    return patients


def run_patient(patient: VirtualPatient, accuracy: str = "population") -> Outcome:
    """Simulate one patient; every failure is an :class:`Outcome`, never an exception."""
    from ckdmbd.model.configurations import model
    from ckdmbd.parameters import ParameterError
    from ckdmbd.protocol import ScaleParameter, SetParameter
    from ckdmbd.scenario import parse_scenario
    from ckdmbd.sessions import session_output_times
    from ckdmbd.simulation import NEGATIVE_STATE, SolverOptions, expand_events, simulate

    t0 = time.perf_counter()
    try:
        sc = parse_scenario(patient.scenario, f"<robustness patient {patient.index}>")
        overrides = {**sc.parameter_overrides, **patient.parameters}
        actions = [a for a in expand_events(sc.events, model(sc.configuration).state_names)
                   if not (isinstance(a, SetParameter | ScaleParameter) and a.name in patient.parameters)]
        result = simulate(sc.configuration, sc.duration_h, actions, output_interval_h=sc.output_interval_h,
                          parameters=overrides, start_h=-sc.history_h,
                          extra_output_times_h=session_output_times(sc.events, sc.duration_h),
                          solver=SolverOptions.preset(accuracy, specialised=True), check=False)
    except ParameterError as exc:
        return Outcome(patient, "refused", " ".join(str(exc).split()), None, time.perf_counter() - t0)
    except Exception as exc:
        return Outcome(patient, "error", f"{type(exc).__name__}: {' '.join(str(exc).split())}", None,
                       time.perf_counter() - t0)
    wall = time.perf_counter() - t0
    if result.ok:
        return Outcome(patient, "ok", "success", None, wall)
    status = {NEGATIVE_STATE: "negative", 3: "non-finite"}.get(result.status, "solver")
    day = None if result.failed_at_h is None else result.failed_at_h / 24.0
    return Outcome(patient, status, result.message, day, wall)


def run_campaign(patients: Sequence[VirtualPatient], accuracy: str = "population", workers: int = 1,
                 progress: Callable[[int, int], None] | None = None) -> Campaign:
    """Every patient, in order (``workers`` > 1: forked local processes)."""
    from ckdmbd.model.configurations import model

    model("default")  # compiled once; forked workers inherit it
    start = time.perf_counter()
    campaign = Campaign()
    if workers == 1:
        for k, p in enumerate(patients):
            campaign.outcomes.append(run_patient(p, accuracy))
            if progress:
                progress(k + 1, len(patients))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from functools import partial

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for k, outcome in enumerate(pool.map(partial(run_patient, accuracy=accuracy), patients, chunksize=2)):
                campaign.outcomes.append(outcome)
                if progress:
                    progress(k + 1, len(patients))
    campaign.wall_s = time.perf_counter() - start
    return campaign
