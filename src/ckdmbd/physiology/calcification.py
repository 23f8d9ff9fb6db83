"""Soft-tissue calcification as a property of the patient (default configuration): a calcium phosphate deposit that
grows only at a predisposed site the scenario declares (``[[calcification_sites]]``), and a serum calcification
propensity readout (T50-like) for every patient.

Why a declared site. Dialysis serum is always supersaturated with respect to hydroxyapatite (HAP) and octacalcium
phosphate (field notes, Sect. 1), yet uraemic tumoral calcinosis affects a small minority (0.5-3 %) of dialysis
patients, at one place (an old haematoma, an injection site, a bursa). Whether a patient has such a site is not
something the serum tells; the scenario says so. Without a declared site ``deposit_site_active`` is 0 and every
rate below is exactly 0, so no other patient grows a deposit (0 g, not "small").

Driving force. The first precipitate is an amorphous / brushite-like precursor held by fetuin-A, so growth is driven
by the supersaturation of that precursor, written on total concentrations as S = M / K_site with M the Ca x P of
the site's tissue fluid and K_site the site's apparent solubility product (a site parameter, for the seed case
an assumption placed between its growing and shrinking phases; brushite needs Ca x P above about 4.5 mM^2 on
the same basis, J Appl Biomater Biomech 2006). The tissue fluid follows plasma Ca x P with a time constant of days
(``deposit_milieu_time_h``): the deposit responds to the weekly average, not to every session (state
``deposit_milieu_ca_x_p``, mM^2, the same in every patient).

Rate laws, smooth in x = ln S (no knife edge: the rate is C-infinity through the threshold, so a small change of
the milieu gives a small change of the mass). With the softplus u(x) = w ln(1 + exp(x / w)) (a max(x, 0) rounded
over a width w = ``deposit_transition_width`` in ln S; u(x) - u(-x) = x):
- growth   k_g phi(F) (D + D_n)^(2/3) u(x)^n, per unit surface (a sphere's surface ~ content^(2/3)); D_n is the
  nidus (the site's ``nidus``) from which a deposit starts; the order n (``deposit_growth_order``) is 1 by default
  (transport-limited growth of the precursor in tissue fluid; surface-integration-controlled apatite growth is
  second order, J Cryst Growth 2000;216:443, and makes the mass far more sensitive to the milieu);
- dissolution  k_d ((D + D_n)^(2/3) - D_n^(2/3)) u(-x): surface-controlled, first order (Christoffersen 1980),
  exactly 0 for an empty deposit.
Fetuin-A inhibits growth hyperbolically, phi(F) = K_I / (K_I + F) with F the serum fetuin-A (patient input
``fetuin_a_g_L``) and K_I = ``deposit_fetuin_inhibition_g_L``. The form is an assumption: fetuin-A shields nascent
mineral in calciprotein particles (Heiss 2008; Chang & Miura: a critical protein level below which mineral grows),
and lower fetuin-A goes with more calcification and death (Hermans, KI 2007: HD 0.60 vs PD 0.72 g/L, -13 % mortality
per +0.1 g/L), but no published constant gives the strength of the inhibition of a tissue deposit.

The deposit D is counted in mmol calcium and holds 0.6 mmol phosphate per mmol calcium (HAP, Ca10(PO4)6(OH)2: the
mature mineral), so every mmol that deposits leaves the extracellular pools and is booked in the mass balance; a
dissolving deposit returns both to the blood (Kamar 2016: transient hypercalcaemia). Size: mineral mass =
D x 100.46 g/mol (HAP per Ca); the mass is a sphere in which mineral occupies the volume fraction
``deposit_mineral_fraction`` at HAP density 3.16 g/cm^3 (uraemic masses are multilocular, cystic, with milky
calcific fluid: Steinbach 1995; the fraction is an assumption).

Calcification propensity (every patient). The T50 test (Pasch, JASN 2012) measures the half-time of the
transformation of primary into secondary calciprotein particles after adding calcium and phosphate to serum; it is
shorter (worse) with higher phosphate and ionised calcium and longer with more fetuin-A, albumin and magnesium
(Smith, JASN 2014). The readout is a power law around a reference haemodialysis patient:
T50 = T_ref (P / P_ref)^-a (iCa / iCa_ref)^-b (F / F_ref)^c. T_ref = 280 min at pre-dialysis phosphate 1.75 mM,
ionised calcium 1.15 mM and fetuin-A 0.60 g/L (BMC Nephrol 2023, n 776: 269.6 min in those who died, 287.7 in
survivors; Hermans 2007 for fetuin-A). a = 0.26 from the rise of T50 over a session (244 -> 301 min, Dekker, PLoS
One 2016) with phosphate falling to about 45 % of its pre-dialysis value; b = a and c = 1 are assumptions (albumin,
magnesium and bicarbonate are not modelled). For a healthy adult (phosphate 1.1 mM, fetuin-A 0.75 g/L) the form
gives about 390 min, above the CKD 2-4 mean of 313 min (CRIC, Bundy 2019); healthy values were not found in a
primary source and are not a calibration target.
"""

import math

import numba

from ckdmbd.model.framework import Process, State, Submodel, from_parameter

DEPOSIT_P_PER_CA = 0.6  # hydroxyapatite Ca10(PO4)6(OH)2
HAP_G_PER_MOL_CA = 100.46  # 1004.6 g/mol per Ca10 unit (field notes)
HAP_DENSITY_G_CM3 = 3.16  # J Funct Biomater 2015;6:1099

STATES = (
    State("deposit_calcium", "mmol", "calcium phosphate deposit in soft tissue, as mmol calcium",
          from_parameter("deposit_calcium_0"), {"calcium": 1.0, "phosphate": DEPOSIT_P_PER_CA}, ""),
    State("deposit_milieu_ca_x_p", "mM^2", "Ca x P of the tissue fluid at a site (plasma Ca x P, time-averaged)",
          lambda p: p["calcium_baseline_mM"] * p["phosphate_baseline_mM"], {}, ""),
)
OUTPUTS = ("deposit_growth", "ca_x_p_mM2", "deposit_saturation", "deposit_mass_g", "deposit_diameter_cm",
           "milieu_relaxation", "calcification_propensity_t50_min")
PROCESSES = (
    Process("deposit_growth", "deposit_growth",
            {"ecf_calcium": -1.0, "ecf_phosphate": -DEPOSIT_P_PER_CA, "deposit_calcium": 1.0},
            "net precipitation (negative: dissolution), mmol Ca/h"),
    Process("deposit_milieu", "milieu_relaxation", {"deposit_milieu_ca_x_p": 1.0},
            "(Ca x P - milieu) / tau, mM^2/h"),
)


@numba.njit(cache=True, error_model="numpy")
def softplus(x, width):
    """w ln(1 + exp(x / w)), evaluated without overflow: a max(x, 0) rounded over ``width``."""
    z = x / width
    if z > 30.0:
        return x
    if z < -30.0:
        return width * math.exp(z)
    return width * math.log1p(math.exp(z))


@numba.njit(cache=True, error_model="numpy")
def net_deposition(milieu_ca_x_p, deposit_calcium, site_active, ksp, growth_rate, dissolution_rate, nucleus,
                   width, fetuin_g_l, fetuin_inhibition_g_l, order):
    """Net precipitation rate (mmol Ca/h; negative: dissolution) at a site; exactly 0 without an active site."""
    if site_active <= 0.0 or milieu_ca_x_p <= 0.0:
        return 0.0
    x = math.log(milieu_ca_x_p / ksp)
    d = deposit_calcium if deposit_calcium > 0.0 else 0.0
    surface_growth = (d + nucleus) ** (2.0 / 3.0)
    surface_dissolution = surface_growth - nucleus ** (2.0 / 3.0)
    inhibition = fetuin_inhibition_g_l / (fetuin_inhibition_g_l + fetuin_g_l)
    drive = softplus(x, width)
    growth = growth_rate * inhibition * surface_growth * drive ** order
    dissolution = dissolution_rate * surface_dissolution * softplus(-x, width)
    return site_active * (growth - dissolution)


@numba.njit(cache=True, error_model="numpy")
def propensity_t50(phosphate_mM, ionized_mM, fetuin_g_l, t50_ref_min, t50_ref_phosphate_mM, t50_ref_ionized_mM,
                   t50_ref_fetuin_g_L, t50_phosphate_exponent, t50_calcium_exponent, t50_fetuin_exponent):
    """T50-like serum calcification propensity (minutes; lower is worse), power law around a reference HD patient."""
    p = phosphate_mM if phosphate_mM > 1e-6 else 1e-6
    ica = ionized_mM if ionized_mM > 1e-6 else 1e-6
    return (t50_ref_min * (p / t50_ref_phosphate_mM) ** (-t50_phosphate_exponent)
            * (ica / t50_ref_ionized_mM) ** (-t50_calcium_exponent)
            * (fetuin_g_l / t50_ref_fetuin_g_L) ** t50_fetuin_exponent)


@numba.njit(cache=True, error_model="numpy")
def deposit_kinetics(ca_mM, phosphate_mM, ionized_calcium_mM, deposit_calcium, deposit_milieu_ca_x_p,
                     deposit_site_active, deposit_ksp_mM2, deposit_growth_rate, deposit_dissolution_rate,
                     deposit_nucleus_mmol, deposit_mineral_fraction, deposit_milieu_time_h, deposit_transition_width,
                     deposit_growth_order, fetuin_a_g_L, deposit_fetuin_inhibition_g_L, t50_ref_min,
                     t50_ref_phosphate_mM, t50_ref_ionized_mM, t50_ref_fetuin_g_L, t50_phosphate_exponent,
                     t50_calcium_exponent, t50_fetuin_exponent):
    product = ca_mM * phosphate_mM
    rate = net_deposition(deposit_milieu_ca_x_p, deposit_calcium, deposit_site_active, deposit_ksp_mM2,
                          deposit_growth_rate, deposit_dissolution_rate, deposit_nucleus_mmol,
                          deposit_transition_width, fetuin_a_g_L, deposit_fetuin_inhibition_g_L,
                          deposit_growth_order)
    d = deposit_calcium if deposit_calcium > 0.0 else 0.0
    mass_g = d * HAP_G_PER_MOL_CA / 1000.0
    volume_cm3 = mass_g / HAP_DENSITY_G_CM3 / deposit_mineral_fraction
    diameter_cm = (6.0 * volume_cm3 / math.pi) ** (1.0 / 3.0)
    t50 = propensity_t50(phosphate_mM, ionized_calcium_mM, fetuin_a_g_L, t50_ref_min, t50_ref_phosphate_mM,
                         t50_ref_ionized_mM, t50_ref_fetuin_g_L, t50_phosphate_exponent, t50_calcium_exponent,
                         t50_fetuin_exponent)
    return (rate, product, deposit_milieu_ca_x_p / deposit_ksp_mM2, mass_g, diameter_cm,
            (product - deposit_milieu_ca_x_p) / deposit_milieu_time_h, t50)


SUBMODEL = Submodel("calcification", __doc__, deposit_kinetics, OUTPUTS, STATES, PROCESSES,
                    ("JApplBiomater2006", "Christoffersen1980", "Steinbach1995", "Hermans2007", "Pasch2012",
                     "BMCNephrol2023T50", "Dekker2016", "Bundy2019"))
