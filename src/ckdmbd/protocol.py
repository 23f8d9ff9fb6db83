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

from ckdmbd.physiology.teriparatide import dose_pmol
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
    """

    start_h: float
    end_h: float
    weekdays: tuple[int, ...] = (0, 2, 4)
    session_h: float = 4.0
    start_hour: float = 8.0
    phosphate_clearance_ml_min: float | None = None
    dialysate_calcium_mM: float | None = None

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
        for begin, end in self.sessions():
            actions += [SetParameter(begin, "dialysis_on", 1.0), SetParameter(end, "dialysis_on", 0.0)]
        return actions


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


ACTIVE_VITAMIN_D = {
    # calcitriol-equivalent potency per ug (assumed: alfacalcidol is clinically dosed at ~1.5-2x calcitriol)
    "calcitriol": 1.0,
    "alfacalcidol": 0.5,
}
CALCITRIOL_PMOL_PER_UG = 1e6 / 416.6  # molar mass of calcitriol 416.6 g/mol
ORAL_CALCITRIOL_BIOAVAILABILITY = 0.7  # assumed: oral calcitriol is well absorbed (about 70 %)


@dataclass(frozen=True)
class ActiveVitaminD:
    """From ``time_h`` on, oral active vitamin D: ``dose_ug_per_day`` of ``drug`` (calcitriol or alfacalcidol);
    0 stops it."""

    time_h: float
    dose_ug_per_day: float
    drug: str = "calcitriol"

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(self.drug in ACTIVE_VITAMIN_D,
                 f"unknown active vitamin D {self.drug!r}; expected {', '.join(ACTIVE_VITAMIN_D)}")
        _require(0 <= self.dose_ug_per_day <= 10,
                 f"active vitamin D dose must be 0-10 ug/day, got {self.dose_ug_per_day}")
        pmol_h = (self.dose_ug_per_day * ACTIVE_VITAMIN_D[self.drug] * CALCITRIOL_PMOL_PER_UG
                  * ORAL_CALCITRIOL_BIOAVAILABILITY / HOURS_PER_DAY)
        return [SetParameter(self.time_h, "active_vitamin_d_pmol_per_h", pmol_h)]


@dataclass(frozen=True)
class Cinacalcet:
    """From ``time_h`` on, cinacalcet at ``dose_mg_per_day`` (0 stops it)."""

    time_h: float
    dose_mg_per_day: float

    def actions(self, state_names: tuple[str, ...] = ()) -> list[Action]:
        _require(0 <= self.dose_mg_per_day <= 360, f"cinacalcet dose must be 0-360 mg/day, got {self.dose_mg_per_day}")
        return [SetParameter(self.time_h, "cinacalcet_mg_per_day", self.dose_mg_per_day)]


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
         | Adherence | ActiveVitaminD | Cinacalcet | DepositExcision | Diet | SetParameterEvent
         | CalcificationSiteOnset)


def event_start_h(event: Event) -> float:
    """When an event begins (its first action)."""
    return getattr(event, "time_h", getattr(event, "start_h", 0.0))
