"""Parathyroid gland and plasma PTH (Peterson & Riggs 2010, gland section).

PTH secretion = (calcium-sensing secretion rate T63) x (secretory pool S / 0.5) x (gland capacity PTmax)
x (fraction of parathyroid tissue left, 1 = intact glands; surgery sets it).
- T63 falls sigmoidally with ionised-calcium proxy CaConc (steep Hill curve, slope T59), from T58 to T61.
- The secretory pool S fills and empties on a tanh switch around a calcitriol threshold that hypocalcaemia lowers.
- The capacity PTmax relaxes (t1/2 = ln2/PTout = 180 days) towards a calcitriol-dependent target: hyperplasia
  when calcitriol is low, involution when it is high.
Plasma PTH is cleared with rate constant T57 / V1 (t1/2 about 5.8 min).

Defect of the BIOMD0000000613 encoding (``gland_reference``): the EC50 of the calcitriol effect on capacity is
computed from the *current* calcitriol, which makes the effect identically 1, so PTmax never moves and
calcitriol deficiency cannot cause hyperplasia. OpenBoneMin fixed it (inst/OpenBoneMin.cpp, "Fixed baseline
Ctriol / Ctriol50 bug", 2015) by computing the EC50 from the baseline calcitriol; ``gland`` does the same.

The default configuration (``gland_tissue``) goes further and makes the gland tissue: PTH is secreted by every
functioning tissue (native glands; a forearm autograft once revascularised, t1/2 about 10 days), each tissue's
mass grows (hyperplasia, logistic, doubling time about a year) or regresses towards G x reference mass,
and the growth drive G rises with low calcitriol (PR's capacity effect, up to 4.1x, but graded over the
calcitriol of CKD 3-5 with Hill slope 4 instead of PR's switch of slope 12.5, which drove CKD 3 glands towards their
dialysis size), high phosphate and low calcium (direct mitogenic effects on parathyroid cells; Naveh-Many &
Silver), so surgery can remove one tissue and leave the other.
Secretion follows the four-parameter calcium-sensing curve of the gland models (field notes
Sect. 3) in *ionised* calcium, with the set point at the baseline ionised calcium, 1.175 mM (controls 1.13 mM,
Schwarz 1994; uraemic patients 1.16 mM, Madsen; 1.22 mM, Schappacher-Tilp 2019), slope m = 20 (which gives the same
local gain at baseline as PR's T63 curve) and a non-suppressible minimum of 5 % of the maximum; PR's curve in total
calcium bottoms out at 25 % of basal secretion, which cannot produce the 75 % intradialytic PTH fall seen with a
1.75 mM bath (Pirklbauer 2021).

Receptor biology of the tissue (issue 9):
- Calcitriol acts on the gland directly through the vitamin D receptor: PR's secretory pool S (PTH synthesis and
  storage, emptied within days when calcitriol is high) and PR's capacity (growth) effect both read calcitriol x
  the tissue's receptor density. With normal receptors this reproduces the direct effect within a day (a 24-h
  clamp at 3x calcitriol lowers PTH by about 35-45 %; healthy men: -30 to -35 % 24 h after 4 ug calcitriol,
  Brandi 2002; rats: PTH transcription to 10 % within 48 h, Silver 1986).
- CaSR and VDR density fall as a tissue enlarges (diffuse -> nodular hyperplasia: nodules carry less of both,
  Fukagawa 1999, Gogusev 1997; CaSR labelling 12.8 % nodular vs 26.8 % normal), steeply beyond ~10x normal mass.
  Receptor loss makes part of the secretion non-suppressible (minimum up to ~30 % of maximum in glands removed at
  surgery, Nefrologia 2010; the in-vivo set point barely moves, Goodman 1995: mass drives the excess) and weakens
  the restraint on growth, so long untreated secondary hyperparathyroidism becomes partly autonomous and refractory
  to calcitriol. A forearm autograft is gland tissue with the same biology, judged by its own mass.
"""

import math

import numba

from ckdmbd.model.derivation import constant, parameter, strictly_between
from ckdmbd.model.framework import Process, State, Submodel, from_parameter
from ckdmbd.physiology._math import hill, ppow
from ckdmbd.physiology.calcium_speciation import baseline_ionized_calcium

STATES = (
    State("plasma_pth", "pmol", "intact PTH in the extracellular fluid", from_parameter("PTH_0"), {}, "PTH"),
    State("gland_pool", "1", "PTH secretory pool of the gland (0.5 at baseline)", from_parameter("S_0"), {}, "S"),
    State("gland_capacity", "1", "maximal gland capacity, relative to baseline", from_parameter("PTmax_0"), {},
          "PTmax"),
)
OUTPUTS = ("pth_secretion", "pool_filling", "pool_emptying", "gland_capacity_growth", "gland_capacity_loss",
           "pth_clearance")
PROCESSES = (
    Process("pth_secretion", "pth_secretion", {"plasma_pth": 1.0}, "gland PTH secretion (EPTH), pmol/h"),
    Process("pth_clearance", "pth_clearance", {"plasma_pth": -1.0}, "PTH elimination kout*PTH, pmol/h"),
    Process("pool_filling", "pool_filling", {"gland_pool": 1.0}, "secretory pool production (1-S)*T76, 1/h"),
    Process("pool_emptying", "pool_emptying", {"gland_pool": -1.0}, "secretory pool degradation S*T75, 1/h"),
    Process("gland_capacity_growth", "gland_capacity_growth", {"gland_capacity": 1.0}, "capacity increase PTin"),
    Process("gland_capacity_loss", "gland_capacity_loss", {"gland_capacity": -1.0}, "capacity decrease PTout*PTmax"),
)


def derive_secretion(p):
    """EC50 of calcium-regulated secretion (T60) such that secretion at baseline calcium equals PTH clearance at
    baseline PTH (BIOMD0000000613 INparenCa; baseline secretion 385 pmol/h = T57/V1 * PTH_0)."""
    ca0, g = p["calcium_baseline_mM"], p["T59"]
    inparen = (p["T58"] - p["T61"]) * ca0**g / (p["T58"] - p["pth_secretion_baseline"]) - ca0**g
    return {"T60": math.exp(math.log(inparen) / g)}


def derive_default(p):
    """Also the EC50 of the calcitriol effect on capacity from the *baseline* calcitriol (OpenBoneMin fix)."""
    c0, g = p["calcitriol_baseline_pM"], p["CtriolPTgam"]
    inparen = (p["CtriolMax"] - p["CtriolMin"]) * c0**g / (p["CtriolMax"] - 1.0) - c0**g
    return {**derive_secretion(p), "Ctriol50": math.exp(math.log(inparen) / g)}


@numba.njit(cache=True, inline="always", error_model="numpy")
def _secretion_and_pool(ca_mM, calcitriol_pM, plasma_pth, gland_pool, gland_capacity, gland_tissue_fraction,
                        T58, T59, T60, T61, T70, T71, T72_base, ScaEffGam, calcium_baseline_mM, T57, V1):
    T63 = T58 - (T58 - T61) * hill(ca_mM, T60, T59)  # calcium-sensing secretion rate, pmol/h
    FCTD = (gland_pool / 0.5) * gland_capacity  # pool and capacity relative to baseline (S_0 = 0.5)
    EPTH = T63 * FCTD * gland_tissue_fraction
    ScaEff = ppow(calcium_baseline_mM / ca_mM, ScaEffGam)
    T73 = T71 * (calcitriol_pM - T72_base * ScaEff)
    T74 = math.tanh(T73)  # SBML writes (e^x - e^-x)/(e^x + e^-x)
    T75 = T70 * (0.85 * (1.0 + T74) + 0.15)
    T76 = T70 * (0.85 * (1.0 - T74) + 0.15)
    return EPTH, (1.0 - gland_pool) * T76, gland_pool * T75, T57 / V1 * plasma_pth


@numba.njit(cache=True, error_model="numpy")
def gland_reference(ca_mM, calcitriol_pM, plasma_pth, gland_pool, gland_capacity, gland_tissue_fraction,
                    T58, T59, T60, T61, T70, T71, T72_base, ScaEffGam, calcium_baseline_mM, T57, V1,
                    CtriolMax, CtriolMin, CtriolPTgam, PTout):
    """BIOMD0000000613 as encoded: the calcitriol EC50 follows the current calcitriol (effect always 1)."""
    secretion, fill, empty, clearance = _secretion_and_pool(
        ca_mM, calcitriol_pM, plasma_pth, gland_pool, gland_capacity, gland_tissue_fraction,
        T58, T59, T60, T61, T70, T71, T72_base, ScaEffGam, calcium_baseline_mM, T57, V1)
    c8g = ppow(calcitriol_pM, CtriolPTgam)
    inparen = (CtriolMax - CtriolMin) * c8g / (CtriolMax - 1.0) - c8g
    ctriol50 = math.exp(math.log(inparen) / CtriolPTgam)
    effect = CtriolMax - (CtriolMax - CtriolMin) * c8g / (c8g + ctriol50**CtriolPTgam)
    return secretion, fill, empty, PTout * effect, PTout * gland_capacity, clearance


@numba.njit(cache=True, error_model="numpy")
def gland(ca_mM, calcitriol_pM, plasma_pth, gland_pool, gland_capacity, gland_tissue_fraction,
          T58, T59, T60, T61, T70, T71, T72_base, ScaEffGam, calcium_baseline_mM, T57, V1,
          CtriolMax, CtriolMin, CtriolPTgam, PTout, Ctriol50):
    """Corrected: capacity target CtriolPTeff rises to CtriolMax (4.1x) as calcitriol falls, 0.9x when high."""
    secretion, fill, empty, clearance = _secretion_and_pool(
        ca_mM, calcitriol_pM, plasma_pth, gland_pool, gland_capacity, gland_tissue_fraction,
        T58, T59, T60, T61, T70, T71, T72_base, ScaEffGam, calcium_baseline_mM, T57, V1)
    effect = CtriolMax - (CtriolMax - CtriolMin) * hill(calcitriol_pM, Ctriol50, CtriolPTgam)
    return secretion, fill, empty, PTout * effect, PTout * gland_capacity, clearance


TISSUE_STATES = (
    STATES[0],
    STATES[1],
    State("parathyroid_tissue_native", "1", "native parathyroid gland mass, relative to normal glands",
          from_parameter("native_tissue_ref"), {}, ""),
    State("parathyroid_tissue_graft", "1", "autografted parathyroid tissue mass (forearm), relative to normal glands",
          from_parameter("graft_tissue_ref"), {}, ""),
    State("graft_function", "1", "revascularisation of the autograft (0 just implanted, 1 fully secreting)",
          from_parameter("graft_function_0"), {}, ""),
)
TISSUE_OUTPUTS = ("pth_secretion", "pool_filling", "pool_emptying", "pth_clearance", "native_growth",
                  "native_regression", "graft_growth", "graft_regression", "graft_revascularisation",
                  "gland_growth_drive", "gland_receptor_density", "gland_autonomous_fraction")
TISSUE_PROCESSES = (
    *PROCESSES[:4],
    Process("native_growth", "native_growth", {"parathyroid_tissue_native": 1.0}, "r M"),
    Process("native_regression", "native_regression", {"parathyroid_tissue_native": -1.0},
            "r M^2 rho(M)^2 / (G M_ref)"),
    Process("graft_growth", "graft_growth", {"parathyroid_tissue_graft": 1.0}, "r M"),
    Process("graft_regression", "graft_regression", {"parathyroid_tissue_graft": -1.0}, "r M^2 rho(M)^2 / (G M_ref)"),
    Process("graft_revascularisation", "graft_revascularisation", {"graft_function": 1.0}, "k_v*(1 - v)"),
)


@numba.njit(cache=True, inline="always", error_model="numpy")
def receptor_density(mass, half_mass, floor, hill_n):
    """CaSR and VDR density of a tissue relative to normal glands: 1 for a normal-sized gland, falling towards
    ``floor`` as the tissue enlarges (diffuse -> nodular hyperplasia; Fukagawa 1999, Gogusev 1997), steeply around
    ``half_mass`` (nodules appear in large glands rather than in proportion to size)."""
    m = mass if mass > 0.0 else 0.0
    return floor + (1.0 - floor) * (1.0 + half_mass**-hill_n) / (1.0 + (m / half_mass) ** hill_n)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _tissue_turnover(mass, reference_mass, drive, rate, density):
    """Hyperplasia as logistic growth towards the carrying capacity G x reference mass / rho:
    dM/dt = r M (1 - rho^2 M / (G M_ref)). Same target as Peterson-Riggs' PTmax (G x baseline) for normal tissue;
    the rate r (``gland_growth_rate``) is a cell-proliferation rate, so growth from normal to a 4-5x hyperplastic
    gland takes years and a small remnant or graft regrows slowly (proportional to its own mass). Nodular tissue
    (receptor density rho < 1) has lost part of both the calcium-sensing (CaSR) and the calcitriol (VDR) restraint
    on proliferation, so its carrying capacity is G M_ref / rho^2 (assumed: one factor rho per receptor): long
    untreated hyperparathyroidism grows glands that keep growing past the drive's target and no longer involute
    to it."""
    if reference_mass <= 0.0 or drive <= 0.0:
        return 0.0, rate * mass
    return rate * mass, rate * mass * mass * density * density / (drive * reference_mass)


def derive_tissue(p):
    """Also the maximum of the ionised-calcium sensing curve, fixed so that secretion at the set point equals PR's
    baseline secretion (385 pmol/h): (A + B)/2 = 385 with B = b A."""
    c0, g = p["calcitriol_baseline_pM"], p["gland_calcitriol_growth_hill"]
    inparen = (p["CtriolMax"] - p["CtriolMin"]) * c0**g / (p["CtriolMax"] - 1.0) - c0**g
    return {
        **derive_default(p),
        # EC50 of the calcitriol (VDR) restraint on hyperplasia: drive 1 at baseline calcitriol, as PR's capacity
        "gland_growth_ctriol50": math.exp(math.log(inparen) / g),
        "pth_secretion_max": 2.0 * p["pth_secretion_baseline"] / (1.0 + p["pth_min_fraction"]),
        # the set point is the baseline ionised calcium (1.199 mM from calcium_speciation at 2.35 mM total, 40 g/L
        # albumin, pH 7.40), so the healthy steady state is PR's
        "pth_setpoint_ionized_mM": baseline_ionized_calcium(p),
    }


@numba.njit(cache=True, inline="always", error_model="numpy")
def _sensing(ionized_calcium_mM, setpoint, slope, maximum, minimum_fraction):
    """Four-parameter calcium-sensing curve R = B + (A - B) / (1 + (iCa/S)^m), B = b A."""
    low = minimum_fraction * maximum
    return low + (maximum - low) / (1.0 + ppow(ionized_calcium_mM / setpoint, slope))


@numba.njit(cache=True, error_model="numpy")
def gland_tissue(ca_mM, ionized_calcium_mM, vdr_gland_pM, phosphate_mM, plasma_pth, gland_pool,
                 parathyroid_tissue_native, parathyroid_tissue_graft, graft_function,
                 native_tissue_ref, graft_tissue_ref, graft_revascularisation_rate, T70, T71, T72_base, ScaEffGam,
                 calcium_baseline_mM, phosphate_baseline_mM, T57, V1, CtriolMax, CtriolMin,
                 gland_calcitriol_growth_hill, gland_growth_rate, gland_growth_ctriol50, gland_phosphate_growth_gamma,
                 gland_calcium_growth_gamma,
                 pth_secretion_max, pth_min_fraction, pth_setpoint_ionized_mM, pth_sensing_slope,
                 calcimimetic_setpoint_factor, gland_receptor_half_mass, gland_receptor_floor,
                 gland_receptor_hill, gland_autonomous_fraction_max):
    """Default configuration: secretion from every functioning tissue, each along its own calcium-sensing curve in
    ionised calcium; calcitriol, read through the tissue's vitamin D receptors, empties the secretory pool (PTH
    synthesis and storage) and restrains growth; receptors fall as tissue enlarges."""
    rho_native = receptor_density(parathyroid_tissue_native, gland_receptor_half_mass, gland_receptor_floor,
                                  gland_receptor_hill)
    rho_graft = receptor_density(parathyroid_tissue_graft, gland_receptor_half_mass, gland_receptor_floor,
                                 gland_receptor_hill)
    graft_active = graft_function * parathyroid_tissue_graft
    functioning = parathyroid_tissue_native + graft_active
    rho = rho_native
    if functioning > 0.0:
        rho = (parathyroid_tissue_native * rho_native + graft_active * rho_graft) / functioning
    # calcimimetics sensitise the calcium-sensing receptor: the set point falls (``calcimimetics``, 1 = no drug)
    setpoint = pth_setpoint_ionized_mM * calcimimetic_setpoint_factor
    # autonomy: the non-suppressible share of maximal secretion rises as receptors are lost (nodular tissue;
    # minimum ~30 % of maximum in glands removed for refractory hyperparathyroidism, Nefrologia 2010)
    span = 1.0 - gland_receptor_floor
    b_native = pth_min_fraction + (gland_autonomous_fraction_max - pth_min_fraction) * (1.0 - rho_native) / span
    b_graft = pth_min_fraction + (gland_autonomous_fraction_max - pth_min_fraction) * (1.0 - rho_graft) / span
    per_mass = (parathyroid_tissue_native * _sensing(ionized_calcium_mM, setpoint, pth_sensing_slope,
                                                      pth_secretion_max, b_native)
                + graft_active * _sensing(ionized_calcium_mM, setpoint, pth_sensing_slope, pth_secretion_max,
                                          b_graft))
    # VDR: the calcitriol the tissue sees is calcitriol x its receptor density (nodular tissue resists calcitriol)
    vdr_calcitriol = vdr_gland_pM * rho
    secretion, fill, empty, clearance = _secretion_and_pool(
        ca_mM, vdr_calcitriol, plasma_pth, gland_pool, 1.0, 1.0,
        per_mass, 1.0, 1.0, per_mass, T70, T71, T72_base, ScaEffGam, calcium_baseline_mM, T57, V1)
    # graded, not PR's capacity switch (Hill 12.5): see ``gland_calcitriol_growth_hill``
    ctriol = CtriolMax - (CtriolMax - CtriolMin) * hill(vdr_calcitriol, gland_growth_ctriol50,
                                                        gland_calcitriol_growth_hill)
    drive = (ctriol * ppow(phosphate_mM / phosphate_baseline_mM, gland_phosphate_growth_gamma)
             * ppow(calcium_baseline_mM / ca_mM, gland_calcium_growth_gamma))
    n_in, n_out = _tissue_turnover(parathyroid_tissue_native, native_tissue_ref, drive, gland_growth_rate,
                                   rho_native)
    g_in, g_out = _tissue_turnover(parathyroid_tissue_graft, graft_tissue_ref, drive, gland_growth_rate, rho_graft)
    autonomous = b_native
    if functioning > 0.0:
        autonomous = (parathyroid_tissue_native * b_native + graft_active * b_graft) / functioning
    return (secretion, fill, empty, clearance, n_in, n_out, g_in, g_out,
            graft_revascularisation_rate * (1.0 - graft_function), drive, rho, autonomous)


SECRETION_CONDITIONS = (
    strictly_between("T60", "the calcium EC50 of PTH secretion", ("pth_secretion_baseline", "T58", "T61"),
                     parameter("pth_secretion_baseline"), parameter("T58"), parameter("T61")),
)
CALCITRIOL_CONDITIONS = (
    *SECRETION_CONDITIONS,
    strictly_between("Ctriol50", "the calcitriol EC50 of the gland's capacity", ("CtriolMin", "CtriolMax"),
                     constant("the effect at baseline calcitriol", 1.0), parameter("CtriolMin"),
                     parameter("CtriolMax")),
)

REFERENCE = Submodel("parathyroid", __doc__, gland_reference, OUTPUTS, STATES, PROCESSES, ("PetersonRiggs2010",),
                     derive_secretion, ("T60",), SECRETION_CONDITIONS)
CORRECTED = Submodel("parathyroid", __doc__, gland, OUTPUTS, STATES, PROCESSES,
                     ("PetersonRiggs2010", "OpenBoneMin"), derive_default, ("T60", "Ctriol50"),
                     CALCITRIOL_CONDITIONS)
DEFAULT = Submodel("parathyroid", __doc__, gland_tissue, TISSUE_OUTPUTS, TISSUE_STATES, TISSUE_PROCESSES,
                   ("PetersonRiggs2010", "OpenBoneMin", "SchappacherTilp2019", "Madsen1996", "Silver1986",
                    "Brandi2002", "Fukagawa1999", "Gogusev1997", "Nefrologia2010"), derive_tissue,
                   ("T60", "Ctriol50", "gland_growth_ctriol50", "pth_secretion_max", "pth_setpoint_ionized_mM"),
                   CALCITRIOL_CONDITIONS)
