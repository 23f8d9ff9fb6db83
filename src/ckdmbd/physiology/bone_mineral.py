"""Bone mineral: the exchangeable (Q) and non-exchangeable (Qbone) pools and the fluxes with the ECF.

Resorption J14 moves mineral from Q to the ECF: a constant part plus an osteoclast-dependent part that scales
with the RANK-RANKL complex per osteoclast. Formation J15 moves ECF calcium into Q in proportion to ECF calcium,
partly modulated by hydroxyapatite formation capacity HAp, which osteoblasts drive. Q and Qbone exchange slowly
(k14a, k15a). Everything from Peterson & Riggs 2010 / BIOMD0000000613.

Mineral states are counted in mmol of calcium; each holds ``MINERAL_P_PER_CA`` mmol phosphate per mmol calcium,
so bone resorption releases calcium and phosphate together (J41 = 0.464 J14, J42 = 0.464 J15 in the paper) and
the phosphate held in bone is part of the mass balance.

The ``default`` configuration uses ``DEFAULT`` (below): the exchangeable pool is the rapidly exchangeable bone
surface (Bergmann 1983's size, Gotch's exchange in ``calcium_buffer``), and mineralised bone is moved only by bone
cells, through open remodelling sites, with fluxes that vanish as the pool they draw on empties.

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


# --- default configuration: bone mineral bounded by the cells and by the mineral present ---------------------------
#
# Peterson-Riggs' formation J15 is first order in ECF calcium and its resorption J14 does not depend on how much
# mineral is left, so a patient in positive or negative calcium balance for years drains a pool below zero (an
# anuric patient on 1,400 mg phosphorus a day: exchangeable bone -96 mmol by year 4, non-exchangeable -1,564 mmol by
# year 8). The default variant separates what PR's two pools lump together:
#
# - the rapidly exchangeable bone calcium (``bone_exchangeable_calcium``): bone-surface calcium in fast physico-
#   chemical exchange with the ECF. It is the same pool as Gotch's rapidly miscible pool; its exchange with the ECF
#   (80 L/h, scaled by turnover) is in ``calcium_buffer.DEFAULT``. Size from Bergmann 1983: the exchangeable calcium
#   of the whole body (5,668 mg, 141 mmol, plasma and ECF included) minus the ECF calcium, 108.5 mmol.
# - mineralised bone (``bone_nonexchangeable_calcium``), moved two ways:
#   * by cells: osteoclastic resorption releases calcium and phosphate into the ECF and opens remodelling sites
#     (``bone_remodelling_space``: the mineral missing from resorbed, not yet refilled cavities); osteoblastic
#     formation refills those sites from ECF calcium and phosphate. Both run at Bergmann's accretion rate
#     (336 mg/day) at baseline.
#   * by PTH-independent exchange with the exchangeable calcium: PR's passive parts of J14/J15 (89 % of its
#     88 mmol/day: a constant release and a calcium-proportional uptake), now between mineral and the exchangeable
#     pool. ECF-bone exchange far exceeds the cellular fluxes (the "Misconceptions (3)" editorial); keeping PR's
#     rates keeps PR's long-term calcium sink (T15 (1 - FracJ15) V1 per mM of calcium) that holds plasma calcium
#     between dialysis sessions and in hypoparathyroidism.
#
# Resorption = accretion x osteoclast activity (PR's OCeqn x MOCratioEff relative to baseline, so PTH acts through
# RANKL as in PR) x Qbone/(Qbone + K_res) (normalised: resorption stops smoothly as mineral runs out).
# Formation = accretion x HAp (osteoblast-driven capacity, PR) x site occupancy s/(s + K_s) / s0/(s0 + K_s) x Ca x P
# saturation S/(S + K_S) / S0/(S0 + K_S). Exchange release = PR's passive rate x the same mineral factor; exchange
# uptake = that rate x Q/Q_0 x a phosphate saturation. Every flux out of a pool vanishes as that pool empties
# (resorption and release with Qbone, formation with the open sites and with ECF calcium and phosphate, uptake with
# the exchangeable calcium and ECF phosphate), so no pool can go negative.
#
# PTH also holds plasma calcium through the bone-lining cells, without remodelling (Parfitt 1976; Talmage & Mobley
# 2008): a share (bone_release_pth_effect, 8 %) of the passive release into the exchangeable pool needs PTH, with
# calcitriol permissive (Massry 1976: uremic bone's calcaemic resistance to PTH is corrected by 1,25(OH)2D3). The
# share is fitted, one value for every case: without it calcium in an anuric patient hardly followed PTH
# (cinacalcet lowered it by 0.15 % against 6.8 % published, Block 2004). The passive uptake is first order in the
# exchangeable calcium, as in PR (bone_exchange_uptake_order = 1; 0.7 was needed while the gut's true calcium
# absorption was counted as net, before the endogenous faecal calcium in ``gut``).
#
# Hungry bone emerges: high PTH raises resorption, the sites it opens fill the remodelling space until formation keeps
# pace; when PTH falls resorption stops within days (osteoclasts) while osteoblasts keep refilling the open sites for
# weeks to months, drawing calcium and phosphate from the ECF.

DEFAULT_STATES = (
    State("bone_exchangeable_calcium", "mmol", "rapidly exchangeable bone-surface calcium (Gotch's rapidly miscible "
          "pool; Bergmann's exchangeable pool less the ECF)", lambda p: p["exchangeable_calcium_total"] - p["P_0"],
          {"calcium": 1.0}, "Q"),
    State("bone_nonexchangeable_calcium", "mmol", "mineralised bone, as calcium",
          from_parameter("Qbone_0"), _MINERAL, "Qbone"),
    State("bone_remodelling_space", "mmol", "open remodelling sites: mineral resorbed and not yet refilled, as calcium",
          lambda p: p["bone_accretion"] * p["bone_formation_period"], {}, ""),
    State("hydroxyapatite_formation", "1", "hydroxyapatite formation capacity, relative to baseline",
          from_parameter("HAp_0"), {}, "HAp"),
)
DEFAULT_OUTPUTS = ("bone_resorption", "bone_formation", "mineral_to_exchangeable", "mineral_to_nonexchangeable",
                   "hap_gain", "hap_loss", "bone_osteoclast_activity")
DEFAULT_PROCESSES = (
    Process("bone_resorption", "bone_resorption",
            {"bone_nonexchangeable_calcium": -1.0, "ecf_calcium": 1.0, "ecf_phosphate": MINERAL_P_PER_CA,
             "bone_remodelling_space": 1.0},
            "osteoclastic resorption of mineralised bone (calcium, with 0.464 phosphate), opening remodelling sites"),
    Process("bone_formation", "bone_formation",
            {"ecf_calcium": -1.0, "ecf_phosphate": -MINERAL_P_PER_CA, "bone_nonexchangeable_calcium": 1.0,
             "bone_remodelling_space": -1.0},
            "osteoblastic mineralisation of open remodelling sites from ECF calcium and phosphate"),
    Process("mineral_to_exchangeable", "mineral_to_exchangeable",
            {"bone_nonexchangeable_calcium": -1.0, "bone_exchangeable_calcium": 1.0,
             "ecf_phosphate": MINERAL_P_PER_CA},
            "PR's passive J14, (1-FracJ15) CaDay x mineral left: mineral dissolving into the exchangeable calcium "
            "(its phosphate to the ECF)"),
    Process("mineral_to_nonexchangeable", "mineral_to_nonexchangeable",
            {"bone_exchangeable_calcium": -1.0, "ecf_phosphate": -MINERAL_P_PER_CA,
             "bone_nonexchangeable_calcium": 1.0},
            "PR's passive J15, (1-FracJ15) CaDay Q/Q_0 x phosphate saturation: exchangeable calcium maturing into "
            "mineral with ECF phosphate"),
    Process("hap_gain", "hap_gain", {"hydroxyapatite_formation": 1.0}, "kHApIn*Osteoblast"),
    Process("hap_loss", "hap_loss", {"hydroxyapatite_formation": -1.0}, "kLShap*HAp"),
)


def derive_default(p):
    """PR's osteoclast constants and HAp turnover, plus the saturation constants of the cell-bounded fluxes, chosen
    so that the healthy baseline is a steady state (resorption = formation = accretion, no net exchange)."""
    base = derive(p)
    s0 = p["bone_accretion"] * p["bone_formation_period"]  # mmol/day x days: the baseline remodelling space
    ca0 = p["P_0"] / p["V1"]
    cap0 = ca0 * p["ECCPhos_0"] / p["V1"]
    occupancy0 = p["bone_formation_reserve_occupancy"]
    po4_0 = p["ECCPhos_0"] / p["V1"]
    return {
        "J14OC50": base["J14OC50"], "MOCratio0": base["MOCratio0"], "kLShap": base["kLShap"],
        "kHApIn": base["kHApIn"], "T13": base["T13"],
        "bone_accretion_h": p["bone_accretion"] / 24.0,
        "bone_site_K": s0 * (1.0 - occupancy0) / occupancy0,
        "bone_site_occupancy0": occupancy0,
        "bone_capo4_K": p["bone_capo4_half_saturation"],
        "bone_capo4_saturation0": cap0 / (cap0 + p["bone_capo4_half_saturation"]),
        "bone_resorption_K": p["bone_resorption_half_mineral"],
        "bone_exchange_h": p["CaDay"] * (1.0 - p["FracJ15"]) / 24.0,
        "bone_exchangeable0": p["exchangeable_calcium_total"] - p["P_0"],
        "bone_phosphate_K": p["bone_exchange_phosphate_half_saturation"],
        "bone_phosphate_saturation0": po4_0 / (po4_0 + p["bone_exchange_phosphate_half_saturation"]),
    }


@numba.njit(cache=True, error_model="numpy")
def cell_bounded_fluxes(osteoclasts, rank_rankl, osteoblasts_total, ca_mM, phosphate_mM, hydroxyapatite_formation,
                        bone_nonexchangeable_calcium, bone_remodelling_space, T13, J14OC50, J14OCmax, J14OCgam,
                        MOCratio0, MOCratioGam, Qbone_0, kLShap, kHApIn, bone_accretion_h, bone_site_K,
                        bone_site_occupancy0, bone_capo4_K, bone_capo4_saturation0, bone_resorption_K,
                        bone_exchangeable_calcium, bone_exchange_h, bone_exchangeable0, bone_phosphate_K,
                        bone_phosphate_saturation0, bone_pth_pM, pth_baseline_pM, bone_release_pth_effect,
                        bone_release_pth_half, bone_exchange_uptake_order, vdr_gut_pM, calcitriol_baseline_pM,
                        bone_release_calcitriol_half):
    """Resorption, formation and passive exchange of mineralised bone (mmol Ca/h), each bounded by its cells and by
    the pool it draws on."""
    oc_g = ppow(osteoclasts, J14OCgam)
    oc_effect = J14OCmax * oc_g / (oc_g + J14OC50**J14OCgam) / T13  # 1 at baseline (T13 = OCeqn(OC_0))
    moc = ppow(rank_rankl / max(osteoclasts, 1e-30) / MOCratio0, MOCratioGam)
    activity = oc_effect * moc
    qbone = max(bone_nonexchangeable_calcium, 0.0)
    mineral = qbone / (qbone + bone_resorption_K) * (Qbone_0 + bone_resorption_K) / Qbone_0
    resorption = bone_accretion_h * activity * mineral
    sites = max(bone_remodelling_space, 0.0)
    occupancy = sites / (sites + bone_site_K) / bone_site_occupancy0
    capo4 = max(ca_mM, 0.0) * max(phosphate_mM, 0.0)
    saturation = capo4 / (capo4 + bone_capo4_K) / bone_capo4_saturation0
    formation = bone_accretion_h * max(hydroxyapatite_formation, 0.0) * occupancy * saturation
    # PTH-independent exchange (PR's passive J14/J15 between mineral and the exchangeable calcium). The release is
    # constant, as in PR, until mineral runs out (first order in Qbone would move the calcium set point with bone
    # mass: +9 % calcium for +9 % bone); the uptake needs ECF phosphate for the mineral (half-saturation
    # bone_phosphate_K, so only hypophosphataemia limits it).
    po4 = max(phosphate_mM, 0.0)
    # PTH's calcaemic action on bone through the lining cells (Parfitt 1976; Talmage & Mobley 2008): a share
    # bone_release_pth_effect of the passive release is held up by PTH, with calcitriol permissive (Massry 1976).
    # The signal is 1 at the healthy baseline; the effect is a hyperbola normalised to 1 there, bounded in
    # [1 - effect, 1 + effect / half] and 1 - effect without PTH.
    v = max(vdr_gut_pM, 0.0)
    permissive = v / (v + bone_release_calcitriol_half) * (calcitriol_baseline_pM + bone_release_calcitriol_half) / (
        calcitriol_baseline_pM)
    r = max(bone_pth_pM, 0.0) / pth_baseline_pM * permissive
    lining = (1.0 - bone_release_pth_effect) + bone_release_pth_effect * r * (1.0 + bone_release_pth_half) / (
        r + bone_release_pth_half)
    to_exchangeable = bone_exchange_h * mineral * lining
    to_mineral = (bone_exchange_h * ppow(bone_exchangeable_calcium / bone_exchangeable0, bone_exchange_uptake_order)
                  * po4 / (po4 + bone_phosphate_K) / bone_phosphate_saturation0)
    return (resorption, formation, to_exchangeable, to_mineral, kHApIn * osteoblasts_total,
            kLShap * hydroxyapatite_formation, activity)


DEFAULT = Submodel(
    "bone_mineral", __doc__, cell_bounded_fluxes, DEFAULT_OUTPUTS, DEFAULT_STATES, DEFAULT_PROCESSES,
    ("PetersonRiggs2010", "Bergmann1983", "Agerbaek1991", "Gotch2010", "Parfitt1976", "TalmageMobley2008",
     "Massry1976", "Fine2003", "Block2004"), derive_default,
    ("J14OC50", "MOCratio0", "kLShap", "kHApIn", "T13", "bone_accretion_h", "bone_site_K", "bone_site_occupancy0",
     "bone_capo4_K", "bone_capo4_saturation0", "bone_resorption_K", "bone_exchange_h", "bone_exchangeable0",
     "bone_phosphate_K", "bone_phosphate_saturation0"))
