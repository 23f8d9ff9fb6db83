"""Bone mineral: the exchangeable (Q) and non-exchangeable (Qbone) pools and the fluxes with the ECF.

Resorption J14 moves mineral from Q to the ECF: a constant part plus an osteoclast-dependent part that scales
with the RANK-RANKL complex per osteoclast. Formation J15 moves ECF calcium into Q in proportion to ECF calcium,
partly modulated by hydroxyapatite formation capacity HAp, which osteoblasts drive. Q and Qbone exchange slowly
(k14a, k15a). Everything from Peterson & Riggs 2010 / BIOMD0000000613.

Mineral states are counted in mmol of calcium; each holds ``MINERAL_P_PER_CA`` mmol phosphate per mmol calcium,
so bone resorption releases calcium and phosphate together (J41 = 0.464 J14, J42 = 0.464 J15 in the paper) and
the phosphate held in bone is part of the mass balance.

Noticed and left alone: 0.464 is the *mass* ratio P/Ca of hydroxyapatite (6 x 30.97 / (10 x 40.08)); the molar
ratio is 0.6. The model's steady state was fitted with 0.464, so it stays until the model is re-fitted.
"""

import numba

from ckdmbd.model.framework import Process, State, Submodel, from_parameter
from ckdmbd.physiology._math import ppow

MINERAL_P_PER_CA = 0.464  # mmol P per mmol Ca moved with bone mineral; BIOMD0000000613 J41 = 0.464 * J14
_MINERAL = {"calcium": 1.0, "phosphate": MINERAL_P_PER_CA}

STATES = (
    State("bone_exchangeable_calcium", "mmol", "exchangeable (rapidly miscible) bone mineral, as calcium",
          from_parameter("Q_0"), _MINERAL, "Q"),
    State("bone_nonexchangeable_calcium", "mmol", "non-exchangeable bone mineral, as calcium",
          from_parameter("Qbone_0"), _MINERAL, "Qbone"),
    State("hydroxyapatite_formation", "1", "hydroxyapatite formation capacity, relative to baseline",
          from_parameter("HAp_0"), {}, "HAp"),
)
OUTPUTS = ("bone_resorption", "bone_formation", "mineral_to_exchangeable", "mineral_to_nonexchangeable",
           "hap_gain", "hap_loss")
PROCESSES = (
    Process("bone_resorption", "bone_resorption",
            {"bone_exchangeable_calcium": -1.0, "ecf_calcium": 1.0, "ecf_phosphate": MINERAL_P_PER_CA},
            "J14 (calcium) with J41 = 0.464 J14 (phosphate), mmol/h"),
    Process("bone_formation", "bone_formation",
            {"ecf_calcium": -1.0, "ecf_phosphate": -MINERAL_P_PER_CA, "bone_exchangeable_calcium": 1.0},
            "J15 (calcium) with J42 = 0.464 J15 (phosphate), mmol/h"),
    Process("mineral_to_exchangeable", "mineral_to_exchangeable",
            {"bone_nonexchangeable_calcium": -1.0, "bone_exchangeable_calcium": 1.0}, "J14a = k14a*Qbone"),
    Process("mineral_to_nonexchangeable", "mineral_to_nonexchangeable",
            {"bone_exchangeable_calcium": -1.0, "bone_nonexchangeable_calcium": 1.0}, "J15a = k15a*Q"),
    Process("hap_gain", "hap_gain", {"hydroxyapatite_formation": 1.0}, "kHApIn*Osteoblast"),
    Process("hap_loss", "hap_loss", {"hydroxyapatite_formation": -1.0}, "kLShap*HAp"),
)


def derive(p):
    """Rate constants that put the untreated model at its baseline steady state (BIOMD0000000613)."""
    import math

    hours_per_day = 24.0
    T13 = p["CaDay"] / hours_per_day / p["Q_0"]
    g = p["J14OCgam"]
    oc0g = p["OC_0"] ** g
    M0 = p["k3"] * p["RNK_0"] * p["L_0"] / p["k4"]
    return {
        "T13": T13,
        "T15": p["CaDay"] / (p["calcium_baseline_mM"] * p["V1"] * hours_per_day),
        "J14OC50": math.exp(math.log(p["J14OCmax"] * oc0g / T13 - oc0g) / g),
        "MOCratio0": M0 / p["OC_0"],
        "k15a": p["k14a"] * p["Qbone_0"] / p["Q_0"],
        "kLShap": 1.0 / p["HApMRT"],
        "kHApIn": 1.0 / p["HApMRT"] / p["OB_0"],
    }


@numba.njit(cache=True, error_model="numpy")
def mineral_fluxes(osteoclasts, rank_rankl, osteoblasts_total, ecf_calcium, hydroxyapatite_formation,
                   bone_exchangeable_calcium, bone_nonexchangeable_calcium, T13, T15, J14OC50, J14OCmax, J14OCgam,
                   FracJ14, FracJ15, MOCratio0, MOCratioGam, Q_0, k14a, k15a, kLShap, kHApIn):
    oc_g = ppow(osteoclasts, J14OCgam)
    OCeqn = J14OCmax * oc_g / (oc_g + J14OC50**J14OCgam)
    MOCratioEff = ppow(rank_rankl / max(osteoclasts, 1e-30) / MOCratio0, MOCratioGam)  # 0/0 when both vanish
    J14 = T13 * Q_0 * (1.0 - FracJ14) + OCeqn * Q_0 * FracJ14 * MOCratioEff
    J15 = T15 * ecf_calcium * (1.0 - FracJ15) + T15 * ecf_calcium * FracJ15 * hydroxyapatite_formation
    return (J14, J15, k14a * bone_nonexchangeable_calcium, k15a * bone_exchangeable_calcium,
            kHApIn * osteoblasts_total, kLShap * hydroxyapatite_formation)


SUBMODEL = Submodel("bone_mineral", __doc__, mineral_fluxes, OUTPUTS, STATES, PROCESSES, ("PetersonRiggs2010",),
                    derive, ("T13", "T15", "J14OC50", "MOCratio0", "k15a", "kLShap", "kHApIn"))


@numba.njit(cache=True, error_model="numpy")
def mineral_fluxes_in_volume(osteoclasts, rank_rankl, osteoblasts_total, ca_mM, V1, hydroxyapatite_formation,
                             bone_exchangeable_calcium, bone_nonexchangeable_calcium, T13, T15, J14OC50, J14OCmax,
                             J14OCgam, FracJ14, FracJ15, MOCratio0, MOCratioGam, Q_0, k14a, k15a, kLShap, kHApIn):
    """Default configuration, where the extracellular volume varies (``fluid``): formation is first order in the
    calcium *concentration*, J15 = T15 x [Ca] x V1, identical to PR's T15 x P at V = V1. Mineral deposition follows
    the concentration at the bone surface, not the amount of water it is dissolved in; with PR's form a patient
    gaining 3 L between sessions would lay down 20 % more bone mineral at the same concentration."""
    return mineral_fluxes(osteoclasts, rank_rankl, osteoblasts_total, ca_mM * V1, hydroxyapatite_formation,
                          bone_exchangeable_calcium, bone_nonexchangeable_calcium, T13, T15, J14OC50, J14OCmax,
                          J14OCgam, FracJ14, FracJ15, MOCratio0, MOCratioGam, Q_0, k14a, k15a, kLShap, kHApIn)


DEFAULT = Submodel("bone_mineral", __doc__, mineral_fluxes_in_volume, OUTPUTS, STATES, PROCESSES,
                   ("PetersonRiggs2010",), derive, ("T13", "T15", "J14OC50", "MOCratio0", "k15a", "kLShap", "kHApIn"))
