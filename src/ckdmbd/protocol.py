"""Protocols: typed events on a timeline, and the primitive actions they apply to the model.

A scenario's interventions are *events* (a teriparatide dose, a change of GFR, parathyroidectomy...). Each event
expands into primitive *actions* at exact times: set or scale a parameter, set or add to a state. The solve
orchestrator (``ckdmbd.simulation``) stops the integrator at every action time, applies the actions and restarts,
so no equation ever contains an ``if t > ...`` switch and every discontinuity is resolved exactly.

Times are in hours (the model's unit); events are constructed from clinical units by the scenario loader.
Every event has ``actions(state_names)``: the model's state names let an event that depends on the model's structure
(parathyroid tissue exists only in the default configuration) choose its actions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ckdmbd.units import CALCIUM_G_PER_MOL, HOURS_PER_DAY, PHOSPHORUS_G_PER_MOL, ml_min_to_l_h


class ProtocolError(ValueError):
    """An event is malformed (negative dose, unknown target...)."""


@dataclass(frozen=True)
class SetParameter:
    time_h: float
    name: str
    value: float


@dataclass(frozen=True)
class ScaleParameter:
    time_h: float
    name: str
    factor: float


@dataclass(frozen=True)
class SetState:
    time_h: float
    state: str
    value: float


@dataclass(frozen=True)
class AddToState:
    time_h: float
    state: str
    amount: float


@dataclass(frozen=True)
class ScaleState:
    time_h: float
    state: str
    factor: float


Action = SetParameter | ScaleParameter | SetState | AddToState | ScaleState


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ProtocolError(message)


@dataclass(frozen=True)
class TeriparatideDoses:
    """Subcutaneous teriparatide: ``count`` doses of ``dose_ug`` every ``interval_h`` from ``start_h``."""

    start_h: float
    dose_ug: float
    interval_h: float = HOURS_PER_DAY
    count: int = 1

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(self.dose_ug > 0, f"teriparatide dose must be positive, got {self.dose_ug} ug")
        _require(self.count >= 1, f"teriparatide count must be at least 1, got {self.count}")
        _require(self.interval_h > 0, f"teriparatide interval must be positive, got {self.interval_h} h")
        from ckdmbd.physiology.teriparatide import dose_pmol  # numba only when a run needs it (cold start)

        amount = dose_pmol(self.dose_ug)
        return [AddToState(self.start_h + k * self.interval_h, "teriparatide_depot", amount) for k in range(self.count)]


@dataclass(frozen=True)
class SetGFR:
    """GFR set to ``gfr_ml_min`` at ``time_h`` (and any ongoing decline stopped)."""

    time_h: float
    gfr_ml_min: float

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(self.gfr_ml_min >= 0, f"GFR must be >= 0 mL/min, got {self.gfr_ml_min}")
        return [SetState(self.time_h, "gfr", ml_min_to_l_h(self.gfr_ml_min)), SetParameter(self.time_h, "kGFR", 0.0)]


@dataclass(frozen=True)
class GFRDecline:
    """GFR falls first-order from ``from_ml_min`` to ``to_ml_min`` over ``duration_h`` (as OpenBoneMin's
    secondary-hyperparathyroidism simulation), then stays."""

    start_h: float
    from_ml_min: float
    to_ml_min: float
    duration_h: float

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(self.from_ml_min > 0 and self.to_ml_min > 0,
                 f"GFR decline needs positive start and end GFR, got {self.from_ml_min} -> {self.to_ml_min} mL/min")
        _require(self.duration_h > 0, f"GFR decline duration must be positive, got {self.duration_h} h")
        rate = math.log(self.from_ml_min / self.to_ml_min) / self.duration_h
        return [
            SetState(self.start_h, "gfr", ml_min_to_l_h(self.from_ml_min)),
            SetParameter(self.start_h, "kGFR", rate),
            SetState(self.start_h + self.duration_h, "gfr", ml_min_to_l_h(self.to_ml_min)),
            SetParameter(self.start_h + self.duration_h, "kGFR", 0.0),
        ]


@dataclass(frozen=True)
class Parathyroidectomy:
    """Removal of ``fraction_removed`` of the native parathyroid tissue at ``time_h`` (1 = total), optionally
    with autotransplantation of ``autograft_mass`` (relative to normal total gland mass) into the forearm, which
    starts secreting as it revascularises over weeks.

    In the reference configuration (no tissue states) it scales ``gland_tissue_fraction``; an autograft needs the
    default configuration.
    """

    time_h: float
    fraction_removed: float = 1.0
    autograft_mass: float = 0.0

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(0 < self.fraction_removed <= 1,
                 f"parathyroidectomy fraction_removed must be in (0, 1], got {self.fraction_removed}")
        _require(self.autograft_mass >= 0, f"autograft mass must be >= 0, got {self.autograft_mass}")
        keep = 1.0 - self.fraction_removed
        if "parathyroid_tissue_native" not in state_names:
            _require(self.autograft_mass == 0, "an autograft needs the default configuration (parathyroid tissue)")
            return [ScaleParameter(self.time_h, "gland_tissue_fraction", keep)]
        actions: list[Action] = [
            ScaleState(self.time_h, "parathyroid_tissue_native", keep),
            ScaleParameter(self.time_h, "native_tissue_ref", keep),
        ]
        if self.autograft_mass > 0:
            actions += [
                SetState(self.time_h, "parathyroid_tissue_graft", self.autograft_mass),
                SetParameter(self.time_h, "graft_tissue_ref", self.autograft_mass),
                SetState(self.time_h, "graft_function", 0.0),
            ]
        return actions


@dataclass(frozen=True)
class SetParathyroidTissue:
    """The native parathyroid tissue mass (x normal glands) at ``time_h``, e.g. as estimated by calibration."""

    time_h: float
    mass: float

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(self.mass > 0, f"parathyroid tissue mass must be positive, got {self.mass}")
        _require("parathyroid_tissue_native" in state_names, "parathyroid tissue needs the default configuration")
        return [SetState(self.time_h, "parathyroid_tissue_native", self.mass),
                SetParameter(self.time_h, "native_tissue_ref", self.mass)]


@dataclass(frozen=True)
class GraftExcision:
    """Surgical removal of the autografted parathyroid tissue at ``time_h``."""

    time_h: float

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require("parathyroid_tissue_graft" in state_names, "graft excision needs the default configuration")
        return [SetState(self.time_h, "parathyroid_tissue_graft", 0.0),
                SetParameter(self.time_h, "graft_tissue_ref", 0.0)]


@dataclass(frozen=True)
class SetParameterEvent:
    """Generic: set a model parameter (in model units) at ``time_h`` — for modellers; scenarios prefer typed events."""

    time_h: float
    name: str
    value: float

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        return [SetParameter(self.time_h, self.name, self.value)]


@dataclass(frozen=True)
class Hemodialysis:
    """In-centre haemodialysis from ``start_h`` until ``end_h``: sessions of ``session_h`` hours on the given
    weekdays (0 = Monday; the run's t = 0 is a Monday at midnight) starting at ``start_hour`` o'clock.

    Optional prescription changes take effect at ``start_h``: dialyzer phosphate clearance (mL/min) and dialysate
    calcium (mmol/L). A later ``Hemodialysis`` event with another schedule replaces the earlier one from its start
    (schedules must not overlap in time).

    ``ultrafiltration``: "auto" (each session removes the fluid gained since the patient was at dry volume, at a
    constant rate by its end), "none", or a volume in litres per session (removed at a constant rate). Acts only
    in a model with an extracellular volume state (default configuration).
    """

    start_h: float
    end_h: float
    weekdays: tuple[int, ...] = (0, 2, 4)
    session_h: float = 4.0
    start_hour: float = 8.0
    phosphate_clearance_ml_min: float | None = None
    dialysate_calcium_mM: float | None = None
    ultrafiltration: str | float = "auto"

    def sessions(self) -> list[tuple[float, float]]:
        """(start, end) of every session, in hours."""
        _require(self.end_h > self.start_h, f"dialysis schedule must end after it starts ({self.start_h} h)")
        _require(0 < self.session_h < 24, f"session duration must be in (0, 24) h, got {self.session_h}")
        _require(self.start_hour >= 0 and self.start_hour + self.session_h <= 24,
                 f"sessions must start and end within a day, got start {self.start_hour} h")
        _require(len(self.weekdays) > 0 and all(d in range(7) for d in self.weekdays),
                 f"weekdays must be numbers 0 (Monday) to 6, got {self.weekdays}")
        first_day = math.floor(self.start_h / HOURS_PER_DAY)
        out = []
        day = first_day
        while day * HOURS_PER_DAY < self.end_h:
            begin = day * HOURS_PER_DAY + self.start_hour
            if day % 7 in self.weekdays and begin >= self.start_h and begin + self.session_h <= self.end_h:
                out.append((begin, begin + self.session_h))
            day += 1
        return out

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        actions: list[Action] = []
        if self.phosphate_clearance_ml_min is not None:
            _require(self.phosphate_clearance_ml_min > 0,
                     f"dialyzer phosphate clearance must be positive, got {self.phosphate_clearance_ml_min} mL/min")
            actions.append(SetParameter(self.start_h, "dialyzer_phosphate_clearance",
                                        ml_min_to_l_h(self.phosphate_clearance_ml_min)))
        if self.dialysate_calcium_mM is not None:
            _require(0.5 <= self.dialysate_calcium_mM <= 2.5,
                     f"dialysate calcium must be 0.5-2.5 mmol/L, got {self.dialysate_calcium_mM}")
            actions.append(SetParameter(self.start_h, "dialysate_calcium_mM", self.dialysate_calcium_mM))
        fluid = "ecf_volume" in state_names
        if fluid:
            actions += self._ultrafiltration_prescription()
        for begin, end in self.sessions():
            if fluid:  # the automatic ultrafiltration aims at the session's end
                actions.append(SetParameter(begin, "dialysis_session_end_h", end))
            actions += [SetParameter(begin, "dialysis_on", 1.0), SetParameter(end, "dialysis_on", 0.0)]
        return actions

    def _ultrafiltration_prescription(self) -> list[Action]:
        uf = self.ultrafiltration
        if uf == "auto":
            return [SetParameter(self.start_h, "ultrafiltration_auto", 1.0)]
        if uf == "none":
            volume = 0.0
        else:
            _require(isinstance(uf, int | float) and not isinstance(uf, bool) and 0 <= uf <= 10,
                     f"ultrafiltration must be 'auto', 'none' or 0-10 L per session, got {uf!r}")
            volume = float(uf)
        return [SetParameter(self.start_h, "ultrafiltration_auto", 0.0),
                SetParameter(self.start_h, "ultrafiltration_rate_L_per_h", volume / self.session_h)]


@dataclass(frozen=True)
class BinderType:
    """Phosphate-binding power per gram relative to calcium carbonate (phosphate binder equivalent, Daugirdas
    2011) and elemental calcium per gram of the compound."""

    pbe_per_g: float
    calcium_fraction: float
    source: str


BINDERS = {
    "calcium_carbonate": BinderType(1.0, 0.40, "Daugirdas2011PBE; CaCO3 is 40 % calcium"),
    "calcium_acetate": BinderType(1.0, 0.253, "Daugirdas2011PBE; 667 mg holds 169 mg calcium"),
    "sevelamer": BinderType(0.75, 0.0, "Daugirdas2011PBE (hydrochloride or carbonate)"),
    "lanthanum": BinderType(2.0, 0.0, "Daugirdas2011PBE (per g elemental lanthanum)"),
    "pbe": BinderType(1.0, 0.0, "dose already given as phosphate-binder-equivalent grams"),
}


@dataclass(frozen=True)
class PhosphateBinder:
    """From ``time_h`` on, a phosphate binder: ``dose_g_per_day`` grams per day of ``binder`` (a key of
    ``BINDERS``; "pbe" means the dose is already in phosphate-binder-equivalent grams), taken with ``adherence``
    (fraction of doses, 0-1). Calcium-based binders add their elemental calcium to the diet."""

    time_h: float
    dose_g_per_day: float
    adherence: float = 1.0
    binder: str = "pbe"

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(self.binder in BINDERS, f"unknown binder {self.binder!r}; expected one of {', '.join(BINDERS)}")
        _require(self.dose_g_per_day >= 0, f"binder dose must be >= 0 g/day, got {self.dose_g_per_day}")
        _require(0 <= self.adherence <= 1, f"adherence must be in [0, 1], got {self.adherence}")
        kind = BINDERS[self.binder]
        calcium_mmol_h = self.dose_g_per_day * kind.calcium_fraction * 1000.0 / CALCIUM_G_PER_MOL / HOURS_PER_DAY
        return [SetParameter(self.time_h, "binder_pbe_g_per_day", self.dose_g_per_day * kind.pbe_per_g),
                SetParameter(self.time_h, "binder_adherence", self.adherence),
                SetParameter(self.time_h, "binder_calcium_mmol_per_h", calcium_mmol_h)]


@dataclass(frozen=True)
class Adherence:
    """From ``time_h`` on, the patient takes ``fraction`` of the prescribed binder doses (non-adherence periods)."""

    time_h: float
    fraction: float

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(0 <= self.fraction <= 1, f"adherence must be in [0, 1], got {self.fraction}")
        return [SetParameter(self.time_h, "binder_adherence", self.fraction)]


@dataclass(frozen=True)
class ActiveVitaminDDrug:
    """Where a dose of an active vitamin D drug goes (states of ``ckdmbd.physiology.vitamin_d``) and the largest
    plausible doses (oral ug/day; i.v. ug per dialysis session, None if there is no i.v. form modelled)."""

    oral_state: str
    iv_state: str | None
    max_oral_ug_per_day: float
    max_iv_ug: float | None


ACTIVE_VITAMIN_D = {
    # label maxima, rounded up: calcitriol oral/iv a few ug; alfacalcidol oral up to several ug/day; paricalcitol
    # oral up to ~ 30 ug/day (iPTH/80 thrice weekly), i.v. 0.24 ug/kg per session
    "calcitriol": ActiveVitaminDDrug("calcitriol_gut_depot", "calcitriol", 10.0, 10.0),
    "alfacalcidol": ActiveVitaminDDrug("alfacalcidol_depot", None, 10.0, None),
    "paricalcitol": ActiveVitaminDDrug("paricalcitol_gut_depot", "paricalcitol", 40.0, 40.0),
}
NUTRITIONAL_VITAMIN_D = {"cholecalciferol": "cholecalciferol_pool", "ergocalciferol": "ergocalciferol_pool"}
MAX_NUTRITIONAL_IU_PER_DAY = 20_000.0  # averaged over the dosing interval (50,000 IU/week is 7,143 IU/day)


def dose_times(start_h: float, until_h: float, interval_h: float, clock_h: float | None, what: str) -> list[float]:
    """Times of repeated doses from ``start_h`` (the first at ``clock_h`` o'clock on or after it, if given) every
    ``interval_h`` before ``until_h``, which must be finite (the scenario loader closes an open prescription at the
    next event of the same kind or at the end of the run)."""
    _require(math.isfinite(until_h), f"{what}: a prescription needs an end (until_h); the scenario loader sets it "
                                     f"to the next {what} event or the end of the run")
    _require(interval_h > 0, f"{what}: dosing interval must be positive, got {interval_h} h")
    first = start_h
    if clock_h is not None:
        _require(0 <= clock_h < HOURS_PER_DAY, f"{what}: clock time must be in [0, 24) h, got {clock_h}")
        first = math.floor(start_h / HOURS_PER_DAY) * HOURS_PER_DAY + clock_h
        if first < start_h:
            first += HOURS_PER_DAY
    count = max(0, math.ceil((until_h - first) / interval_h - 1e-9))
    return [first + k * interval_h for k in range(count)]


def session_ends(schedules: tuple[Hemodialysis, ...], start_h: float, until_h: float, what: str) -> list[float]:
    """Ends of the dialysis sessions of ``schedules`` in [start_h, until_h): when a drug given at dialysis is
    injected."""
    _require(len(schedules) > 0, f"{what} is given at the end of dialysis sessions: it needs a hemodialysis "
                                 f"schedule (the scenario loader passes the scenario's)")
    return sorted(end for sch in schedules for _begin, end in sch.sessions() if start_h <= end < until_h)


def _needs_state(state: str, state_names: tuple[str, ...], what: str) -> None:
    _require(state in state_names, f"{what} needs the default configuration (state {state!r})")


@dataclass(frozen=True)
class ActiveVitaminD:
    """From ``time_h`` until ``until_h``, oral active vitamin D: ``dose_ug_per_day`` of ``drug`` (calcitriol,
    alfacalcidol or paricalcitol) as one dose a day into its gut depot, at ``clock_h`` o'clock if given (else every
    24 h from ``time_h``); 0 gives nothing (in a scenario it ends the previous prescription)."""

    time_h: float
    dose_ug_per_day: float
    drug: str = "calcitriol"
    until_h: float = math.inf
    clock_h: float | None = None

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(self.drug in ACTIVE_VITAMIN_D,
                 f"unknown active vitamin D {self.drug!r}; expected {', '.join(ACTIVE_VITAMIN_D)}")
        spec = ACTIVE_VITAMIN_D[self.drug]
        _require(0 <= self.dose_ug_per_day <= spec.max_oral_ug_per_day,
                 f"{self.drug} dose must be 0-{spec.max_oral_ug_per_day:g} ug/day, got {self.dose_ug_per_day}")
        if self.dose_ug_per_day == 0:
            return []
        _needs_state(spec.oral_state, state_names, "active vitamin D")
        from ckdmbd.physiology.vitamin_d import pmol

        amount = pmol(self.dose_ug_per_day, self.drug)
        return [AddToState(t, spec.oral_state, amount)
                for t in dose_times(self.time_h, self.until_h, HOURS_PER_DAY, self.clock_h, self.drug)]


@dataclass(frozen=True)
class IntravenousVitaminD:
    """From ``time_h`` until ``until_h``, ``dose_ug`` of calcitriol or paricalcitol i.v. at the end of every
    haemodialysis session of ``schedules``."""

    time_h: float
    dose_ug: float
    drug: str = "paricalcitol"
    until_h: float = math.inf
    schedules: tuple[Hemodialysis, ...] = ()

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(self.drug in ACTIVE_VITAMIN_D and ACTIVE_VITAMIN_D[self.drug].iv_state is not None,
                 f"no intravenous form of {self.drug!r} is modelled; expected "
                 f"{', '.join(d for d, s in ACTIVE_VITAMIN_D.items() if s.iv_state)}")
        spec = ACTIVE_VITAMIN_D[self.drug]
        _require(0 <= self.dose_ug <= spec.max_iv_ug,
                 f"i.v. {self.drug} dose must be 0-{spec.max_iv_ug:g} ug per session, got {self.dose_ug}")
        if self.dose_ug == 0:
            return []
        _needs_state(spec.iv_state, state_names, "i.v. vitamin D")
        from ckdmbd.physiology.vitamin_d import pmol

        amount = pmol(self.dose_ug, self.drug)
        return [AddToState(t, spec.iv_state, amount)
                for t in session_ends(self.schedules, self.time_h, self.until_h, f"i.v. {self.drug}")]


@dataclass(frozen=True)
class NutritionalVitaminD:
    """From ``time_h`` until ``until_h``, nutritional vitamin D (cholecalciferol or ergocalciferol) at
    ``dose_iu_per_day`` on average, given as one dose every ``interval_h`` (daily, weekly, monthly...)."""

    time_h: float
    dose_iu_per_day: float
    drug: str = "cholecalciferol"
    interval_h: float = HOURS_PER_DAY
    until_h: float = math.inf
    clock_h: float | None = None

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(self.drug in NUTRITIONAL_VITAMIN_D,
                 f"unknown nutritional vitamin D {self.drug!r}; expected {', '.join(NUTRITIONAL_VITAMIN_D)}")
        _require(0 <= self.dose_iu_per_day <= MAX_NUTRITIONAL_IU_PER_DAY,
                 f"{self.drug} dose must be 0-{MAX_NUTRITIONAL_IU_PER_DAY:g} IU/day on average, "
                 f"got {self.dose_iu_per_day}")
        _require(HOURS_PER_DAY <= self.interval_h <= 31 * HOURS_PER_DAY,
                 f"{self.drug} dosing interval must be 1-31 days, got {self.interval_h} h")
        if self.dose_iu_per_day == 0:
            return []
        state = NUTRITIONAL_VITAMIN_D[self.drug]
        _needs_state(state, state_names, "nutritional vitamin D")
        amount = self.dose_iu_per_day * self.interval_h / HOURS_PER_DAY
        return [AddToState(t, state, amount)
                for t in dose_times(self.time_h, self.until_h, self.interval_h, self.clock_h, self.drug)]


MAX_CINACALCET_MG_PER_DAY = 360.0
MAX_ETELCALCETIDE_MG = 15.0  # label maximum per session


@dataclass(frozen=True)
class Cinacalcet:
    """From ``time_h`` until ``until_h``, oral cinacalcet ``dose_mg_per_day`` as one dose a day into the gut depot,
    at ``clock_h`` o'clock if given (else every 24 h from ``time_h``); 0 gives nothing."""

    time_h: float
    dose_mg_per_day: float
    until_h: float = math.inf
    clock_h: float | None = None

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(0 <= self.dose_mg_per_day <= MAX_CINACALCET_MG_PER_DAY,
                 f"cinacalcet dose must be 0-{MAX_CINACALCET_MG_PER_DAY:g} mg/day, got {self.dose_mg_per_day}")
        if self.dose_mg_per_day == 0:
            return []
        _needs_state("cinacalcet_gut", state_names, "cinacalcet")
        return [AddToState(t, "cinacalcet_gut", self.dose_mg_per_day)
                for t in dose_times(self.time_h, self.until_h, HOURS_PER_DAY, self.clock_h, "cinacalcet")]


@dataclass(frozen=True)
class Etelcalcetide:
    """From ``time_h`` until ``until_h``, ``dose_mg`` of etelcalcetide i.v. at the end of every haemodialysis
    session of ``schedules``."""

    time_h: float
    dose_mg: float
    until_h: float = math.inf
    schedules: tuple[Hemodialysis, ...] = ()

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(0 <= self.dose_mg <= MAX_ETELCALCETIDE_MG,
                 f"etelcalcetide dose must be 0-{MAX_ETELCALCETIDE_MG:g} mg per session, got {self.dose_mg}")
        if self.dose_mg == 0:
            return []
        _needs_state("etelcalcetide_free", state_names, "etelcalcetide")
        return [AddToState(t, "etelcalcetide_free", self.dose_mg)
                for t in session_ends(self.schedules, self.time_h, self.until_h, "etelcalcetide")]


@dataclass(frozen=True)
class DepositExcision:
    """Surgical removal of ``fraction`` of the calcified soft-tissue deposit at ``time_h``; the removed calcium and
    phosphate leave the body and are booked in the mass balance (boundary "surgery")."""

    time_h: float
    fraction: float = 0.5

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(0 < self.fraction <= 1, f"fraction of the deposit removed must be in (0, 1], got {self.fraction}")
        return [ScaleState(self.time_h, "deposit_calcium", 1.0 - self.fraction)]


@dataclass(frozen=True)
class Diet:
    """From ``time_h`` on, dietary calcium and/or phosphorus intake (mg/day)."""

    time_h: float
    calcium_mg_per_day: float | None = None
    phosphorus_mg_per_day: float | None = None

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        actions: list[Action] = []
        if self.calcium_mg_per_day is not None:
            _require(self.calcium_mg_per_day >= 0, f"dietary calcium must be >= 0, got {self.calcium_mg_per_day}")
            actions.append(SetParameter(self.time_h, "OralCa",
                                        self.calcium_mg_per_day / CALCIUM_G_PER_MOL / HOURS_PER_DAY))
        if self.phosphorus_mg_per_day is not None:
            _require(self.phosphorus_mg_per_day >= 0,
                     f"dietary phosphorus must be >= 0, got {self.phosphorus_mg_per_day}")
            actions.append(SetParameter(self.time_h, "OralPhos",
                                        self.phosphorus_mg_per_day / PHOSPHORUS_G_PER_MOL / HOURS_PER_DAY))
        return actions


DGF_START_FRACTION = 0.05
"""Graft function at the start of delayed graft function, as a fraction of the final graft GFR (assumed: DGF is
defined by the need for dialysis in the first week, i.e. near-anuric function at first; Orandi 2015)."""


@dataclass(frozen=True)
class KidneyTransplant:
    """Kidney transplantation at ``time_h``: the graft filters ``graft_gfr_ml_min`` (native kidney function is
    negligible by then and is replaced). With ``delayed_function_h`` > 0 (delayed graft function, 27 % of
    deceased-donor recipients, Orandi 2015) the graft starts at 5 % of its GFR and recovers exponentially over that
    time, during which dialysis continues; the scenario loader ends every dialysis schedule then. Everything else
    the recipient brings (gland mass, FGF23 expression, bone) carries over, which is what makes the post-transplant
    course: high PTH and FGF23 acting on a new kidney, whose tubule carries the klotho and PTH receptors of healthy
    tissue (``graft_reference_gfr``: the graft is judged against its own GFR, see ``renal_receptors``)."""

    time_h: float
    graft_gfr_ml_min: float
    delayed_function_h: float = 0.0

    @property
    def dialysis_end_h(self) -> float:
        return self.time_h + self.delayed_function_h

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(0 < self.graft_gfr_ml_min <= 150,
                 f"graft GFR must be in (0, 150] mL/min, got {self.graft_gfr_ml_min}")
        _require(0 <= self.delayed_function_h <= 90 * HOURS_PER_DAY,
                 f"delayed graft function must last 0-90 days, got {self.delayed_function_h / HOURS_PER_DAY} days")
        graft = ml_min_to_l_h(self.graft_gfr_ml_min)
        healthy_tissue = SetParameter(self.time_h, "graft_reference_gfr", graft)  # judged against its own GFR
        if self.delayed_function_h == 0:
            return [SetState(self.time_h, "gfr", graft), SetParameter(self.time_h, "kGFR", 0.0), healthy_tissue]
        rate = math.log(1.0 / DGF_START_FRACTION) / self.delayed_function_h  # dGFR/dt = -kGFR GFR with kGFR < 0
        return [healthy_tissue, SetState(self.time_h, "gfr", DGF_START_FRACTION * graft),
                SetParameter(self.time_h, "kGFR", -rate),
                SetState(self.dialysis_end_h, "gfr", graft), SetParameter(self.dialysis_end_h, "kGFR", 0.0)]


@dataclass(frozen=True)
class CalcificationSiteOnset:
    """From ``time_h`` on, the predisposed soft-tissue site ``site`` (declared in the scenario's
    ``[[calcification_sites]]``) holds a nidus on which calcium phosphate can deposit."""

    time_h: float
    site: str = "site"

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        return [SetParameter(self.time_h, "deposit_site_active", 1.0)]


Event = (TeriparatideDoses | SetGFR | GFRDecline | Parathyroidectomy | SetParathyroidTissue | GraftExcision
         | Hemodialysis | PhosphateBinder
         | Adherence | ActiveVitaminD | Cinacalcet | DepositExcision | Diet | KidneyTransplant | SetParameterEvent
         | IntravenousVitaminD | NutritionalVitaminD | Etelcalcetide | CalcificationSiteOnset)


def event_start_h(event: Event) -> float:
    """When an event begins (its first action)."""
    return getattr(event, "time_h", getattr(event, "start_h", 0.0))
