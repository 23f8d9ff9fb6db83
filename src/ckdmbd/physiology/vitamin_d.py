"""Vitamin D as it is prescribed: 25-hydroxyvitamin D, and calcitriol, alfacalcidol and paricalcitol as drugs
(default configuration only).

25-hydroxyvitamin D (25(OH)D, calcidiol) is a state in nmol/L with the half-life of 25(OH)D3, 15.1 days (Jones
2014). Its steady level is a saturable function of the total vitamin D3 input I (IU/day: the patient's endogenous
and dietary input plus supplements), 25(OH)D_ss = M I / (I + K): the curved dose-response of Ekwaru 2014 (+12.0
nmol/L per 1000 IU/day at low doses, +1.1 at 15,000-20,000 IU/day) fixes M = 166 nmol/L and K = 4170 IU/day with
75 nmol/L at baseline, and predicts the haemodialysis patients of Tokmak 2008 (16.7 -> 74 nmol/L on 20,000 IU a
week for 9 months; published 79.5 +- 27.2). So d25D/dt = k (M I / (I + K) - 25D); a deficient patient (low
endogenous input) responds more to the same dose, as observed. The endogenous input is derived so that the
patient's untreated 25(OH)D (``vitamin_d_25_untreated_nmol_L``) is a steady state. Nutritional vitamin D doses
(cholecalciferol; ergocalciferol counted at an assumed half potency) enter vitamin D pools that are 25-hydroxylated
with an assumed 2-day half-life, so daily, weekly or monthly doses all work.

Active vitamin D drugs are doses (events add them to depots), not constant rates:
- calcitriol: a gut depot absorbed first-order (Tmax ~4 h) with bioavailability 72 % (Brandi 2002) into the body's
  calcitriol (the ``calcitriol`` state of that submodel, where it is cleared with endogenous calcitriol);
- alfacalcidol (1-alpha-hydroxyvitamin D3): a depot that hepatic 25-hydroxylation turns into calcitriol with a yield
  of 29.8 % (uraemic, oral; 42 % in healthy men: Brandi 2002) and a later peak (8-12 h);
- paricalcitol (19-nor-1,25-(OH)2-D2): its own gut depot (F 79 % in haemodialysis) and body compartment (34 L,
  t1/2 5 h healthy, 17 h in kidney failure, linear in GFR between; not dialysed; label).

What other subsystems read:
- ``vdr_gland_pM``: calcitriol-equivalent vitamin D receptor activation of the parathyroid, calcitriol + paricalcitol
  x its gland potency. The potency is derived from the 3:1 paricalcitol:calcitriol dose ratio of equal PTH
  suppression (Lund 2010) and the two drugs' steady-state concentrations per dose in kidney failure.
- ``vdr_gut_pM``: the same for the intestine, with paricalcitol's gut effect 0.4 of its gland effect (Lund 2010:
  fractional calcium absorption 0.135 vs 0.158 at equal PTH, above an untreated 0.12 in Armas 2013), so paricalcitol
  is less calcaemic and phosphataemic per unit of PTH suppression (hypercalcaemia 18 vs 33 %, Sprague 2003).
- ``vitamin_d_25_nmol_L``: the substrate of 1-alpha-hydroxylase (``calcitriol``).
Bone (``bone_mineral``, ``fgf23``) reads ``vdr_gut_pM`` too: VDR activation outside the parathyroid. The kidney
still reads plain calcitriol.
"""

import math

import numba

from ckdmbd.model.framework import Process, State, Submodel, from_parameter
from ckdmbd.physiology._math import nonneg

CALCITRIOL_G_PER_MOL = 416.6  # C27H44O3
ALFACALCIDOL_G_PER_MOL = 400.6  # C27H44O2
PARICALCITOL_G_PER_MOL = 416.64  # C27H44O3 (Zemplar label)
CHOLECALCIFEROL_IU_PER_UG = 40.0  # 1 ug vitamin D3 (or D2) = 40 IU


def _zero(_p):
    return 0.0


_zero.__doc__ = "0 (no drug at the start)"

STATES = (
    State("vitamin_d_25", "nmol/L", "serum 25-hydroxyvitamin D (calcidiol)",
          from_parameter("vitamin_d_25_untreated_nmol_L"), {}, ""),
    State("cholecalciferol_pool", "IU", "supplemented vitamin D3 before 25-hydroxylation", _zero, {}, ""),
    State("ergocalciferol_pool", "IU", "supplemented vitamin D2 before 25-hydroxylation", _zero, {}, ""),
    State("calcitriol_gut_depot", "pmol", "oral calcitriol not yet absorbed", _zero, {}, ""),
    State("alfacalcidol_depot", "pmol", "alfacalcidol not yet absorbed and 25-hydroxylated", _zero, {}, ""),
    State("paricalcitol_gut_depot", "pmol", "oral paricalcitol not yet absorbed", _zero, {}, ""),
    State("paricalcitol", "pmol", "paricalcitol in the body", _zero, {}, ""),
)
OUTPUTS = ("vitamin_d_25_production", "vitamin_d_25_elimination", "cholecalciferol_hydroxylation",
           "ergocalciferol_hydroxylation",
           "calcitriol_drug_absorption", "calcitriol_drug_unabsorbed", "alfacalcidol_to_calcitriol",
           "alfacalcidol_loss", "paricalcitol_absorption", "paricalcitol_unabsorbed", "paricalcitol_elimination",
           "paricalcitol_pM", "vdr_gland_pM", "vdr_gut_pM", "vitamin_d_25_nmol_L")
PROCESSES = (
    Process("vitamin_d_25_production", "vitamin_d_25_production", {"vitamin_d_25": 1.0},
            "k * M * I / (I + K), nmol/L/h"),
    Process("vitamin_d_25_elimination", "vitamin_d_25_elimination", {"vitamin_d_25": -1.0}, "k * 25D, nmol/L/h"),
    Process("cholecalciferol_hydroxylation", "cholecalciferol_hydroxylation", {"cholecalciferol_pool": -1.0},
            "supplemented vitamin D3 to the liver, IU/h"),
    Process("ergocalciferol_hydroxylation", "ergocalciferol_hydroxylation", {"ergocalciferol_pool": -1.0},
            "supplemented vitamin D2 to the liver, IU/h (counted at its relative potency)"),
    Process("calcitriol_drug_absorption", "calcitriol_drug_absorption", {"calcitriol_gut_depot": -1.0,
                                                                          "calcitriol": 1.0},
            "F * ka * depot, pmol/h"),
    Process("calcitriol_drug_unabsorbed", "calcitriol_drug_unabsorbed", {"calcitriol_gut_depot": -1.0},
            "(1 - F) * ka * depot (faeces, first pass), pmol/h"),
    Process("alfacalcidol_to_calcitriol", "alfacalcidol_to_calcitriol", {"alfacalcidol_depot": -1.0,
                                                                          "calcitriol": 1.0},
            "yield * k * depot, pmol/h"),
    Process("alfacalcidol_loss", "alfacalcidol_loss", {"alfacalcidol_depot": -1.0}, "(1 - yield) * k * depot"),
    Process("paricalcitol_absorption", "paricalcitol_absorption", {"paricalcitol_gut_depot": -1.0,
                                                                    "paricalcitol": 1.0}, "F * ka * depot"),
    Process("paricalcitol_unabsorbed", "paricalcitol_unabsorbed", {"paricalcitol_gut_depot": -1.0},
            "(1 - F) * ka * depot"),
    Process("paricalcitol_elimination", "paricalcitol_elimination", {"paricalcitol": -1.0},
            "k(GFR) * paricalcitol, hepatobiliary"),
)


def _per_h(half_life: float, unit_h: float = 1.0) -> float:
    return math.log(2.0) / (half_life * unit_h)


def derive(p):
    """Rate constants from half-lives; the endogenous vitamin D input that makes the patient's untreated 25(OH)D a
    steady state; paricalcitol's gland potency from the 3:1 dose ratio of equal PTH suppression (Lund 2010), compared
    at steady state in kidney failure (GFR 0): mean concentration per daily dose is F / CL for each drug, so
    potency = (F_c / CL_c) / (ratio x F_p / CL_p), with CL_c = T69 x uraemic ratio x V1 and CL_p = k_ckd x V_p."""
    target, top = p["vitamin_d_25_untreated_nmol_L"], p["vitamin_d_25_max_nmol_L"]
    if not 0.0 < target < top:
        raise ValueError(f"untreated 25(OH)D must be in (0, {top:g}) nmol/L, got {target:g}")
    k_ckd = _per_h(p["paricalcitol_half_life_ckd_h"])
    cl_calcitriol = p["T69"] * p["calcitriol_clearance_uraemic_ratio"] * p["V1"]
    cl_paricalcitol = k_ckd * p["paricalcitol_volume_L"]
    potency = ((p["calcitriol_oral_bioavailability"] / cl_calcitriol)
               / (p["paricalcitol_calcitriol_dose_ratio"] * p["paricalcitol_oral_bioavailability"] / cl_paricalcitol))
    return {
        "vitamin_d_25_rate": _per_h(p["vitamin_d_25_half_life_d"], 24.0),
        "vitamin_d_endogenous_iu_per_day": p["vitamin_d_25_half_saturation_iu_per_day"] * target / (top - target),
        "cholecalciferol_rate": _per_h(p["cholecalciferol_half_life_d"], 24.0),
        "paricalcitol_rate_healthy": _per_h(p["paricalcitol_half_life_healthy_h"]),
        "paricalcitol_rate_ckd": k_ckd,
        "paricalcitol_gland_potency": potency,
    }


DERIVED = ("vitamin_d_25_rate", "vitamin_d_endogenous_iu_per_day", "cholecalciferol_rate",
           "paricalcitol_rate_healthy", "paricalcitol_rate_ckd", "paricalcitol_gland_potency")


@numba.njit(cache=True, error_model="numpy")
def vitamin_d_kinetics(vitamin_d_25, cholecalciferol_pool, ergocalciferol_pool, calcitriol_gut_depot,
                       alfacalcidol_depot, paricalcitol_gut_depot, paricalcitol, calcitriol_pM, gfr,
                       calcitriol_reference_gfr,
                       vitamin_d_25_rate, vitamin_d_25_max_nmol_L, vitamin_d_25_half_saturation_iu_per_day,
                       vitamin_d_endogenous_iu_per_day, cholecalciferol_rate, calcitriol_oral_bioavailability,
                       calcitriol_absorption_rate, alfacalcidol_calcitriol_yield, alfacalcidol_conversion_rate,
                       paricalcitol_oral_bioavailability, paricalcitol_absorption_rate, paricalcitol_volume_L,
                       paricalcitol_rate_healthy, paricalcitol_rate_ckd, paricalcitol_gland_potency,
                       paricalcitol_gut_selectivity, ergocalciferol_relative_potency):
    d3 = cholecalciferol_rate * nonneg(cholecalciferol_pool)  # IU/h
    d2 = cholecalciferol_rate * nonneg(ergocalciferol_pool)
    total_iu_day = vitamin_d_endogenous_iu_per_day + 24.0 * (d3 + ergocalciferol_relative_potency * d2)
    steady = vitamin_d_25_max_nmol_L * total_iu_day / (total_iu_day + vitamin_d_25_half_saturation_iu_per_day)
    ca_in = calcitriol_absorption_rate * calcitriol_gut_depot
    alfa = alfacalcidol_conversion_rate * alfacalcidol_depot
    pari_in = paricalcitol_absorption_rate * paricalcitol_gut_depot
    kidney = max(gfr, 0.0) / calcitriol_reference_gfr  # 1 = healthy, 0 = anuric
    k_pari = paricalcitol_rate_ckd + (paricalcitol_rate_healthy - paricalcitol_rate_ckd) * min(kidney, 1.0)
    pari_pM = nonneg(paricalcitol) / paricalcitol_volume_L
    gland = calcitriol_pM + paricalcitol_gland_potency * pari_pM
    gut = calcitriol_pM + paricalcitol_gut_selectivity * paricalcitol_gland_potency * pari_pM
    return (vitamin_d_25_rate * steady, vitamin_d_25_rate * vitamin_d_25, d3, d2,
            calcitriol_oral_bioavailability * ca_in, (1.0 - calcitriol_oral_bioavailability) * ca_in,
            alfacalcidol_calcitriol_yield * alfa, (1.0 - alfacalcidol_calcitriol_yield) * alfa,
            paricalcitol_oral_bioavailability * pari_in, (1.0 - paricalcitol_oral_bioavailability) * pari_in,
            k_pari * paricalcitol, pari_pM, gland, gut, nonneg(vitamin_d_25))


SUBMODEL = Submodel("vitamin_d", __doc__, vitamin_d_kinetics, OUTPUTS, STATES, PROCESSES,
                    ("Jones2014VitD", "Ekwaru2014", "Tokmak2008", "Brandi2002", "ZemplarLabel", "Lund2010",
                     "Sprague2003", "Armas2013"), derive, DERIVED)


def pmol(dose_ug: float, drug: str) -> float:
    """pmol in ``dose_ug`` micrograms of an active vitamin D drug."""
    molar = {"calcitriol": CALCITRIOL_G_PER_MOL, "alfacalcidol": ALFACALCIDOL_G_PER_MOL,
             "paricalcitol": PARICALCITOL_G_PER_MOL}[drug]
    return dose_ug * 1e6 / molar
