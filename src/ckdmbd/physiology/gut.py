"""Intestinal calcium and phosphate absorption (Peterson & Riggs 2010, gut section).

Calcium: dietary calcium ``OralCa`` enters an absorbable gut pool T at fraction F11, which rises with the
calcitriol-regulated absorption capacity R (R relaxes between rates T36 and T37 set by calcitriol); the pool is
absorbed (J40) by a saturable, R-dependent route plus a passive one (T87). The non-absorbable fraction 1 - F11
passes to the faeces without entering the model.
Phosphate: dietary phosphate ``OralPhos`` enters a gut pool at a fixed fraction F12 (0.7) and is absorbed at
first order (T52).
The dietary inputs cross the body boundary ("diet") and are booked in the mass ledger.

Extensions in the default configuration (``absorption_extended``), needed once calcitriol is low (kidney failure).
Active transport reads ``vdr_gut_pM``, the calcitriol-equivalent intestinal VDR activation (``vitamin_d``: calcitriol
plus paricalcitol at its lower gut potency), instead of calcitriol alone:
- phosphate: the absorbable fraction is calcitriol-dependent, F12 = F12_passive + (F12 - F12_passive) x E, with E
  = 1 at baseline calcitriol and 0 without it (active NaPi-2b transport is calcitriol-induced; paracellular
  absorption is not). F12_passive is calibrated (see the parameter) to the phosphate balance of anuric
  haemodialysis patients.
- calcium: a passive, calcitriol-independent absorbable fraction is added to the active, calcitriol-dependent
  part (PR's F11 tends to 0 without calcitriol, but haemodialysis patients absorb a median 12 % of a calcium load;
  Armas 2013); the active part is PR's F11 scaled so that the total equals PR's at baseline.
- phosphate binders bind gut phosphate in proportion to the binder dose (phosphate-binder-equivalent grams per day
  x adherence); bound phosphate leaves in the faeces (boundary "faeces"). Calcium-based binders add their calcium
  to the diet's (calcium acetate 25.3 %, carbonate 40 % elemental calcium), absorbed like dietary calcium.
"""

import numba

from ckdmbd.model.framework import Process, State, Submodel, from_parameter
from ckdmbd.physiology._math import ppow

STATES = (
    State("gut_calcium", "mmol", "absorbable calcium in the gut lumen", from_parameter("T_0"), {"calcium": 1.0}, "T"),
    State("gut_ca_absorption_capacity", "1", "calcitriol-regulated intestinal calcium absorption capacity",
          from_parameter("R_0"), {}, "R"),
    State("gut_phosphate", "mmol", "absorbable phosphate in the gut lumen", from_parameter("PhosGut_0"),
          {"phosphate": 1.0}, "PhosGut"),
)
OUTPUTS = ("diet_calcium_absorbable", "calcium_absorption", "gut_capacity_gain", "gut_capacity_loss",
           "diet_phosphate_absorbable", "phosphate_absorption")
PROCESSES = (
    Process("diet_calcium", "diet_calcium_absorbable", {"gut_calcium": 1.0}, "OralCa*F11, mmol/h", "diet"),
    Process("calcium_absorption", "calcium_absorption", {"gut_calcium": -1.0, "ecf_calcium": 1.0}, "J40, mmol/h"),
    Process("gut_capacity_gain", "gut_capacity_gain", {"gut_ca_absorption_capacity": 1.0}, "T36*(1-R), 1/h"),
    Process("gut_capacity_loss", "gut_capacity_loss", {"gut_ca_absorption_capacity": -1.0}, "T37*R, 1/h"),
    Process("diet_phosphate", "diet_phosphate_absorbable", {"gut_phosphate": 1.0}, "OralPhos*F12, mmol/h", "diet"),
    Process("phosphate_absorption", "phosphate_absorption", {"gut_phosphate": -1.0, "ecf_phosphate": 1.0},
            "J53, mmol/h"),
)


def derive(p):
    """T29: half-saturation of the R-dependent calcium absorption, fixed by the baseline gut pool T0
    (BIOMD0000000613 writes the constant 0.17533)."""
    return {"T29": (p["T28"] * p["T0"] - p["T29_ratio"] * p["T0"]) / p["T29_ratio"]}


@numba.njit(cache=True, error_model="numpy")
def absorption(calcitriol_pM, gut_calcium, gut_ca_absorption_capacity, gut_phosphate, OralCa, OralPhos, F12,
               T28, T29, T33, T34, T35, CaPOgam, T52, T77, T80, T81, T87, R_0):
    R = gut_ca_absorption_capacity
    c8 = ppow(calcitriol_pM, CaPOgam)
    frac = c8 / (T35**CaPOgam + c8)
    T36 = T33 + (T34 - T33) * frac
    T37 = T34 - (T34 - T33) * frac
    T31 = T28 * gut_calcium / (gut_calcium + T29)
    J40 = T31 * gut_calcium * (R / R_0) / (gut_calcium + T81) + T87 * gut_calcium
    F11 = T77 * ppow(R, T80) / (ppow(R, T80) + T81**T80)
    return OralCa * F11, J40, T36 * (1.0 - R), T37 * R, OralPhos * F12, T52 * gut_phosphate


SUBMODEL = Submodel("gut", __doc__, absorption, OUTPUTS, STATES, PROCESSES, ("PetersonRiggs2010",), derive, ("T29",))

EXTENDED_OUTPUTS = (*OUTPUTS, "phosphate_bound_by_binder")
EXTENDED_PROCESSES = (
    *PROCESSES,
    Process("phosphate_binding", "phosphate_bound_by_binder", {"gut_phosphate": -1.0},
            "binder-bound phosphate to faeces, mmol/h", "faeces"),
)


@numba.njit(cache=True, error_model="numpy")
def absorption_extended(vdr_gut_pM, gut_calcium, gut_ca_absorption_capacity, gut_phosphate, OralCa, OralPhos,
                        F12, T28, T29, T33, T34, T35, CaPOgam, T52, T77, T80, T81, T87, R_0, calcitriol_baseline_pM,
                        phosphate_passive_fraction, calcium_passive_fraction, binder_pbe_g_per_day,
                        binder_adherence, binder_binding_rate_per_g, binder_calcium_mmol_per_h):
    oral_ca = OralCa + binder_calcium_mmol_per_h * binder_adherence  # calcium-based binders add calcium
    (diet_ca, J40, cap_gain, cap_loss, _diet_p, J53) = absorption(
        vdr_gut_pM, gut_calcium, gut_ca_absorption_capacity, gut_phosphate, oral_ca, OralPhos, F12, T28, T29,
        T33, T34, T35, CaPOgam, T52, T77, T80, T81, T87, R_0)
    # passive (paracellular) absorption plus the calcitriol-dependent active part: PR's absorbable fraction F11 is
    # read as passive + active with the passive share fixed at what haemodialysis patients absorb (Armas 2013),
    # scaled so that the total equals PR's F11 at baseline (the healthy steady state); adding rather than taking
    # the larger of the two lets calcitriol raise absorption also where it is low
    f11_0 = T77 * R_0**T80 / (R_0**T80 + T81**T80)
    f11 = diet_ca / oral_ca if oral_ca > 0.0 else 0.0
    diet_ca = oral_ca * (calcium_passive_fraction + (1.0 - calcium_passive_fraction / f11_0) * f11)
    c8 = ppow(vdr_gut_pM, CaPOgam)
    c80 = calcitriol_baseline_pM**CaPOgam
    active = (c8 / (T35**CaPOgam + c8)) / (c80 / (T35**CaPOgam + c80))  # 1 at baseline, 0 without calcitriol
    fraction = phosphate_passive_fraction + (F12 - phosphate_passive_fraction) * active
    if fraction > 1.0:
        fraction = 1.0
    bound = binder_binding_rate_per_g * binder_pbe_g_per_day * binder_adherence * gut_phosphate
    return diet_ca, J40, cap_gain, cap_loss, OralPhos * fraction, J53, bound


DEFAULT = Submodel("gut", __doc__, absorption_extended, EXTENDED_OUTPUTS, STATES, EXTENDED_PROCESSES,
                   ("PetersonRiggs2010", "Armas2013", "Daugirdas2011PBE"), derive, ("T29",))
