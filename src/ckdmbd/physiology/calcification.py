"""Soft-tissue calcification: a calcium phosphate deposit that grows while serum is supersaturated and dissolves
while it is not (uraemic tumoral calcinosis; default configuration).

Phase and threshold. Dialysis serum is always supersaturated with respect to hydroxyapatite and octacalcium
phosphate, so those cannot decide whether a deposit grows (field notes, Sect. 1); the first precipitate is an
amorphous / brushite-like precursor that matures to apatite. Growth is therefore driven by the saturation of that
precursor, written on total concentrations as S = [Ca] x [P] / K_app, with the apparent solubility product K_app
fitted (the seed case; brushite needs Ca x P above about 4.5 mM^2 on the same basis, J Appl Biomater Biomech 2006).
The relative supersaturation of a 1:1 ion pair is sigma = sqrt(S) - 1. The deposit sees S through its tissue
fluid, which follows plasma with a time constant of days (``deposit_milieu_time_h``; fetuin-A and calciprotein
particles hold the mineral in between): the deposit responds to the weekly average Ca x P, not to every dialysis
session (without this a large deposit would dissolve and re-precipitate tens of mmol at every session).

Rate laws (Nielsen-type, per unit surface; surface of a sphere ~ content^(2/3)):
- growth while sigma > 0: k_g (D + D_nucleus)^(2/3) sigma^2 (second order, as for apatite growth at 37 C,
  J Cryst Growth 2000;216:443); D_nucleus is a small nidus (the site of an old haematoma or injection) so that a
  deposit can start from nothing;
- dissolution while sigma < 0: k_d ((D + e)^(2/3) - e^(2/3)) |sigma| (surface-controlled, first order,
  Christoffersen 1980), which is exactly 0 for an empty deposit.
k_g and k_d are not known for tissue deposits and are fitted to the seed case (a mass of ~15 cm within
18 months of non-adherence; partial regression over months once Ca x P falls); they are parameters, said so.

The deposit D is counted in mmol calcium and holds 0.6 mmol phosphate per mmol calcium (hydroxyapatite,
Ca10(PO4)6(OH)2: the mature mineral), so every mmol that deposits leaves the extracellular pools and is booked
in the mass balance; a dissolving deposit returns both to the blood (Kamar 2016: transient hypercalcaemia).
Size: mineral mass = D x 100.46 g/mol (HAP per Ca); the mass is a sphere in which mineral occupies the volume
fraction ``deposit_mineral_fraction`` at HAP density 3.16 g/cm^3 (uraemic masses are multilocular, cystic, with
milky calcific fluid: Steinbach 1995; the fraction is an assumption).
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
    State("deposit_milieu_saturation", "1", "saturation of the deposit's tissue fluid (Ca x P / K, time-averaged)",
          lambda p: p["calcium_baseline_mM"] * p["phosphate_baseline_mM"] / p["deposit_ksp_mM2"], {}, ""),
)
OUTPUTS = ("deposit_growth", "ca_x_p_mM2", "deposit_saturation", "deposit_mass_g", "deposit_diameter_cm",
           "milieu_relaxation")
PROCESSES = (
    Process("deposit_growth", "deposit_growth",
            {"ecf_calcium": -1.0, "ecf_phosphate": -DEPOSIT_P_PER_CA, "deposit_calcium": 1.0},
            "net precipitation (negative: dissolution), mmol Ca/h"),
    Process("deposit_milieu", "milieu_relaxation", {"deposit_milieu_saturation": 1.0},
            "(S - S_milieu) / tau, 1/h"),
)


@numba.njit(cache=True, error_model="numpy")
def deposit_kinetics(ca_mM, phosphate_mM, deposit_calcium, deposit_milieu_saturation, deposit_ksp_mM2,
                     deposit_growth_rate, deposit_dissolution_rate, deposit_nucleus_mmol, deposit_mineral_fraction,
                     deposit_milieu_time_h):
    product = ca_mM * phosphate_mM
    saturation = product / deposit_ksp_mM2
    milieu = deposit_milieu_saturation
    sigma = math.sqrt(milieu if milieu > 0.0 else 0.0) - 1.0
    d = deposit_calcium if deposit_calcium > 0.0 else 0.0
    if sigma > 0.0:
        rate = deposit_growth_rate * (d + deposit_nucleus_mmol) ** (2.0 / 3.0) * sigma * sigma
    else:
        eps = deposit_nucleus_mmol
        rate = deposit_dissolution_rate * ((d + eps) ** (2.0 / 3.0) - eps ** (2.0 / 3.0)) * sigma
    mass_g = d * HAP_G_PER_MOL_CA / 1000.0
    volume_cm3 = mass_g / HAP_DENSITY_G_CM3 / deposit_mineral_fraction
    diameter_cm = (6.0 * volume_cm3 / math.pi) ** (1.0 / 3.0)
    return rate, product, saturation, mass_g, diameter_cm, (saturation - milieu) / deposit_milieu_time_h


SUBMODEL = Submodel("calcification", __doc__, deposit_kinetics, OUTPUTS, STATES, PROCESSES,
                    ("JApplBiomater2006", "Christoffersen1980", "Steinbach1995"))
