"""Calcimimetics with kinetics: oral cinacalcet and intravenous etelcalcetide (default configuration only).

Cinacalcet: each daily dose (an event) enters a gut depot, is absorbed first-order (Tmax 2-6 h) with bioavailability
22 % (20-25 %; Padhi & Harris 2009) into a central compartment exchanging with a peripheral one. The two-compartment
constants come from the label's biphasic decline (initial t1/2 ~6 h, terminal 30-40 h) and Vd ~1000 L with an assumed
k21: k10 = alpha beta / k21, k12 = alpha + beta - k10 - k21, V1 = Vss / (1 + k12 / k21) (derive). Steady state is
then reached within about 7 days, as published. (Schappacher-Tilp, Fuertinger & Kotanko built a physiological
multi-compartment model with first pass and protein binding; its parameters were not read, so this is the
classical two-compartment form that reproduces the same published summary numbers.)

Etelcalcetide: a dose (an event at the end of each haemodialysis session) enters free plasma drug, which forms a
serum albumin peptide conjugate about 18x faster than the conjugate reverts (Edson 2016), so the free volume is
Vss / 19 = 42 L of the 796 L steady-state volume (label). The 67 kDa conjugate is not dialysed; the dialyzer clears
free drug at 7.66 L/h while ``dialysis_on`` (label), and the conjugate refills plasma drug after the session
(Subramanian 2017). A small non-dialytic clearance lets ~60 % of a dose leave in the dialysate (Subramanian 2017);
with kidney function the free peptide is filtered (rapid renal elimination in health).

Effect: both drugs are positive allosteric modulators of the calcium-sensing receptor (Chen 2016); they lower the
calcium set point of PTH secretion. ``calcimimetic_setpoint_factor`` = 1 - Emax x / (1 + x), x = C_cinacalcet /
EC50_cinacalcet + C_etelcalcetide / EC50_etelcalcetide (1 = no drug). Calibration (an assumption, tied to Block NEJM
2004, PTH -40 to -50 % at 6 months on cinacalcet): Emax 0.15 and EC50 = the mean steady-state concentration at 30
mg/day, so 60 mg/day lowers the set point by 10 % on average, as the previous dose-based model did; etelcalcetide's
EC50 is its mean steady-state free concentration at 5 mg thrice weekly (both labels' starting doses taken as
equipotent).
"""

import math

import numba

from ckdmbd.model.framework import Process, State, Submodel
from ckdmbd.physiology._math import nonneg

ETELCALCETIDE_G_PER_MOL = 1048.0  # Subramanian 2017
SESSIONS_PER_WEEK = 3.0  # reference schedule for the etelcalcetide EC50 (3 x 4 h)
SESSION_H = 4.0


def _zero(_p):
    return 0.0


_zero.__doc__ = "0 (no drug at the start)"

STATES = (
    State("cinacalcet_gut", "mg", "cinacalcet doses not yet absorbed", _zero, {}, ""),
    State("cinacalcet_central", "mg", "cinacalcet in the central compartment", _zero, {}, ""),
    State("cinacalcet_peripheral", "mg", "cinacalcet in the peripheral compartment", _zero, {}, ""),
    State("etelcalcetide_free", "mg", "free (unconjugated) etelcalcetide", _zero, {}, ""),
    State("etelcalcetide_conjugate", "mg", "etelcalcetide bound to albumin by a disulfide (not dialysed)", _zero,
          {}, ""),
)
OUTPUTS = ("cinacalcet_absorption", "cinacalcet_unabsorbed", "cinacalcet_distribution", "cinacalcet_return",
           "cinacalcet_elimination", "etelcalcetide_conjugation", "etelcalcetide_reversion",
           "etelcalcetide_dialysis_removal", "etelcalcetide_other_elimination", "cinacalcet_ng_mL",
           "etelcalcetide_ng_mL", "calcimimetic_setpoint_factor")
PROCESSES = (
    Process("cinacalcet_absorption", "cinacalcet_absorption", {"cinacalcet_gut": -1.0, "cinacalcet_central": 1.0},
            "F * ka * gut, mg/h"),
    Process("cinacalcet_unabsorbed", "cinacalcet_unabsorbed", {"cinacalcet_gut": -1.0},
            "(1 - F) * ka * gut (faeces, first pass), mg/h"),
    Process("cinacalcet_distribution", "cinacalcet_distribution", {"cinacalcet_central": -1.0,
                                                                    "cinacalcet_peripheral": 1.0}, "k12 * central"),
    Process("cinacalcet_return", "cinacalcet_return", {"cinacalcet_peripheral": -1.0, "cinacalcet_central": 1.0},
            "k21 * peripheral"),
    Process("cinacalcet_elimination", "cinacalcet_elimination", {"cinacalcet_central": -1.0},
            "k10 * central (hepatic)"),
    Process("etelcalcetide_conjugation", "etelcalcetide_conjugation", {"etelcalcetide_free": -1.0,
                                                                        "etelcalcetide_conjugate": 1.0},
            "kf * free"),
    Process("etelcalcetide_reversion", "etelcalcetide_reversion", {"etelcalcetide_conjugate": -1.0,
                                                                    "etelcalcetide_free": 1.0}, "kf / 18 * conjugate"),
    Process("etelcalcetide_dialysis_removal", "etelcalcetide_dialysis_removal", {"etelcalcetide_free": -1.0},
            "dialysis_on * CL_HD * free / V_free"),
    Process("etelcalcetide_other_elimination", "etelcalcetide_other_elimination", {"etelcalcetide_free": -1.0},
            "(CL_other + f * GFR) * free / V_free"),
)


def derive(p):
    """Cinacalcet two-compartment constants from the published half-lives and Vss, and both EC50s (mg/L) as mean
    steady-state concentrations at the reference doses (see the module docstring)."""
    alpha = math.log(2.0) / p["cinacalcet_initial_half_life_h"]
    beta = math.log(2.0) / p["cinacalcet_terminal_half_life_h"]
    k21 = p["cinacalcet_k21"]
    k10 = alpha * beta / k21
    k12 = alpha + beta - k10 - k21
    if k12 <= 0.0 or k21 >= alpha or k21 <= beta:
        raise ValueError(f"cinacalcet_k21 = {k21:g} /h must lie between the two disposition rates "
                         f"({beta:.4g} and {alpha:.4g} /h) with k12 > 0")
    v1 = p["cinacalcet_vss_L"] / (1.0 + k12 / k21)
    ec50_cin = p["cinacalcet_bioavailability"] * p["cinacalcet_reference_ed50_mg_per_day"] / 24.0 / (k10 * v1)
    ratio = p["etelcalcetide_conjugate_ratio"]
    v_free = p["etelcalcetide_vss_L"] / (1.0 + ratio)
    mean_clearance = (p["etelcalcetide_dialyzer_clearance"] * SESSIONS_PER_WEEK * SESSION_H / 168.0
                      + p["etelcalcetide_nondialytic_clearance"])
    ec50_ete = p["etelcalcetide_reference_dose_mg"] * SESSIONS_PER_WEEK / 168.0 / mean_clearance
    return {"cinacalcet_k10": k10, "cinacalcet_k12": k12, "cinacalcet_central_volume_L": v1,
            "cinacalcet_ec50_mg_L": ec50_cin, "etelcalcetide_free_volume_L": v_free,
            "etelcalcetide_reversion_rate": p["etelcalcetide_conjugation_rate"] / ratio,
            "etelcalcetide_ec50_mg_L": ec50_ete}


DERIVED = ("cinacalcet_k10", "cinacalcet_k12", "cinacalcet_central_volume_L", "cinacalcet_ec50_mg_L",
           "etelcalcetide_free_volume_L", "etelcalcetide_reversion_rate", "etelcalcetide_ec50_mg_L")


@numba.njit(cache=True, error_model="numpy")
def calcimimetic_kinetics(cinacalcet_gut, cinacalcet_central, cinacalcet_peripheral, etelcalcetide_free,
                          etelcalcetide_conjugate, gfr, dialysis_on, cinacalcet_bioavailability,
                          cinacalcet_absorption_rate, cinacalcet_k10, cinacalcet_k12, cinacalcet_k21,
                          cinacalcet_central_volume_L, cinacalcet_ec50_mg_L, etelcalcetide_free_volume_L,
                          etelcalcetide_conjugation_rate, etelcalcetide_reversion_rate,
                          etelcalcetide_dialyzer_clearance, etelcalcetide_nondialytic_clearance,
                          etelcalcetide_renal_filtration_fraction, etelcalcetide_ec50_mg_L,
                          calcimimetic_setpoint_shift_max):
    absorbed = cinacalcet_absorption_rate * cinacalcet_gut
    c_cin = nonneg(cinacalcet_central) / cinacalcet_central_volume_L  # mg/L
    c_ete = nonneg(etelcalcetide_free) / etelcalcetide_free_volume_L
    other = etelcalcetide_nondialytic_clearance + etelcalcetide_renal_filtration_fraction * max(gfr, 0.0)
    x = c_cin / cinacalcet_ec50_mg_L + c_ete / etelcalcetide_ec50_mg_L
    factor = 1.0 - calcimimetic_setpoint_shift_max * x / (1.0 + x)
    return (cinacalcet_bioavailability * absorbed, (1.0 - cinacalcet_bioavailability) * absorbed,
            cinacalcet_k12 * cinacalcet_central, cinacalcet_k21 * cinacalcet_peripheral,
            cinacalcet_k10 * cinacalcet_central, etelcalcetide_conjugation_rate * etelcalcetide_free,
            etelcalcetide_reversion_rate * etelcalcetide_conjugate,
            dialysis_on * etelcalcetide_dialyzer_clearance * c_ete, other * c_ete,
            1000.0 * c_cin, 1000.0 * c_ete, factor)


SUBMODEL = Submodel("calcimimetics", __doc__, calcimimetic_kinetics, OUTPUTS, STATES, PROCESSES,
                    ("Padhi2009Cinacalcet", "SensiparLabel", "ParsabivLabel", "Edson2016", "Subramanian2017",
                     "Chen2016CaSR", "Block2004"), derive, DERIVED)
