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
- calcium: absorption is *true* absorption (the isotope-measured fraction, as Armas 2013's 12 %), and calcium also
  enters the gut from digestive secretions and sloughed mucosa (Heaney & Abrams 2004: 0.8067 mg per cm of height a
  day, 141 mg/day at 175 cm), of which 77.7 % meets the absorptive surface and is reabsorbed with the same efficiency;
  the rest of it leaves in the faeces. Endogenous faecal calcium = secretion x (1 - 0.777 x true fraction), booked
  as a "faeces" boundary flux, proportional to plasma calcium (the secretions carry plasma-derived calcium, and it
  vanishes as calcium runs out). Net absorption = true - endogenous: at the healthy baseline it is PR's net
  absorption (the true fraction there is derived: 0.27 at PR's 964 mg/day, as in healthy adults), so that the
  baseline stays a steady state; on haemodialysis without calcitriol (true 12-13 %) the gut is a net calcium loser
  at 900 mg/day, as in uremic balance studies. Before this, the HD patient absorbed 2.9 mmol/day net and his
  mineralised bone grew by 29 % over five years of dialysis.
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

EXTENDED_OUTPUTS = (*OUTPUTS, "phosphate_bound_by_binder", "endogenous_faecal_calcium",
                    "calcium_true_absorption_fraction")
EXTENDED_PROCESSES = (
    *PROCESSES,
    Process("phosphate_binding", "phosphate_bound_by_binder", {"gut_phosphate": -1.0},
            "binder-bound phosphate to faeces, mmol/h", "faeces"),
    Process("endogenous_faecal_calcium", "endogenous_faecal_calcium", {"ecf_calcium": -1.0},
            "calcium of digestive secretions not reabsorbed, to faeces (Heaney & Abrams 2004), mmol/h", "faeces"),
)
EXTENDED_STATES = (
    State("gut_calcium", "mmol", "absorbable calcium in the gut lumen", from_parameter("gut_calcium_0"),
          {"calcium": 1.0}, "T"),
    *STATES[1:],
)


def _j40(T, T28, T29, T81, T87):
    """PR's absorption J40 at R = R_0 (mmol/h) from a gut pool T: increasing in T."""
    return T28 * T / (T + T29) * T / (T + T81) + T87 * T


def derive_default(p):
    """T29 as in PR; the true fractional absorption at the healthy baseline, which with the endogenous faecal
    calcium gives PR's net absorption there; and the gut pool that absorbs it at steady state."""
    t29 = derive(p)["T29"]
    f11_0 = p["T77"] * p["R_0"] ** p["T80"] / (p["R_0"] ** p["T80"] + p["T81"] ** p["T80"])
    diet = p["calcium_diet_reference"]
    secretion = p["calcium_digestive_secretion"] * p["body_height_cm"] / 40.078 / 24.0  # mg/cm/day -> mmol/h
    share = p["calcium_secretion_absorbable_share"]
    # true x diet - secretion x (1 - share x true) = f11_0 x diet
    true0 = (f11_0 * diet + secretion) / (diet + share * secretion)
    target = true0 * diet
    lo, hi = 0.0, 1.0
    while _j40(hi, p["T28"], t29, p["T81"], p["T87"]) < target:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _j40(mid, p["T28"], t29, p["T81"], p["T87"]) < target:
            lo = mid
        else:
            hi = mid
    return {"T29": t29, "calcium_true_absorption_0": true0, "calcium_secretion_mmol_h": secretion,
            "gut_calcium_0": 0.5 * (lo + hi)}


@numba.njit(cache=True, error_model="numpy")
def absorption_extended(vdr_gut_pM, gut_calcium, gut_ca_absorption_capacity, gut_phosphate, OralCa, OralPhos,
                        F12, T28, T29, T33, T34, T35, CaPOgam, T52, T77, T80, T81, T87, R_0, calcitriol_baseline_pM,
                        phosphate_passive_fraction, calcium_passive_fraction, binder_pbe_g_per_day,
                        binder_adherence, binder_binding_rate_per_g, binder_calcium_mmol_per_h,
                        calcium_true_absorption_0, calcium_secretion_mmol_h, calcium_secretion_absorbable_share,
                        ca_mM, calcium_baseline_mM):
    oral_ca = OralCa + binder_calcium_mmol_per_h * binder_adherence  # calcium-based binders add calcium
    (_diet_ca, J40, cap_gain, cap_loss, _diet_p, J53) = absorption(
        vdr_gut_pM, gut_calcium, gut_ca_absorption_capacity, gut_phosphate, oral_ca, OralPhos, F12, T28, T29,
        T33, T34, T35, CaPOgam, T52, T77, T80, T81, T87, R_0)
    # true absorption: a passive (paracellular) part plus the calcitriol-dependent active part. PR's absorbable
    # fraction F11 (through R) shapes the active part; the passive share is what haemodialysis patients absorb
    # (Armas 2013), and the active part is scaled so that the total is the derived true fraction at the healthy
    # baseline; adding rather than taking the larger of the two lets calcitriol raise absorption also where it is low
    f11_0 = T77 * R_0**T80 / (R_0**T80 + T81**T80)
    f11 = T77 * ppow(gut_ca_absorption_capacity, T80) / (ppow(gut_ca_absorption_capacity, T80) + T81**T80)
    true_fraction = calcium_passive_fraction + (calcium_true_absorption_0 - calcium_passive_fraction) / f11_0 * f11
    if true_fraction > 1.0:
        true_fraction = 1.0
    diet_ca = oral_ca * true_fraction
    # digestive secretions' calcium not reabsorbed (Heaney & Abrams 2004), following plasma calcium
    endogenous = (calcium_secretion_mmol_h * max(ca_mM, 0.0) / calcium_baseline_mM
                  * (1.0 - calcium_secretion_absorbable_share * true_fraction))
    c8 = ppow(vdr_gut_pM, CaPOgam)
    c80 = calcitriol_baseline_pM**CaPOgam
    active = (c8 / (T35**CaPOgam + c8)) / (c80 / (T35**CaPOgam + c80))  # 1 at baseline, 0 without calcitriol
    fraction = phosphate_passive_fraction + (F12 - phosphate_passive_fraction) * active
    if fraction > 1.0:
        fraction = 1.0
    bound = binder_binding_rate_per_g * binder_pbe_g_per_day * binder_adherence * gut_phosphate
    return diet_ca, J40, cap_gain, cap_loss, OralPhos * fraction, J53, bound, endogenous, true_fraction


DEFAULT = Submodel("gut", __doc__, absorption_extended, EXTENDED_OUTPUTS, EXTENDED_STATES, EXTENDED_PROCESSES,
                   ("PetersonRiggs2010", "Armas2013", "Daugirdas2011PBE", "HeaneyAbrams2004"), derive_default,
                   ("T29", "calcium_true_absorption_0", "calcium_secretion_mmol_h", "gut_calcium_0"))
