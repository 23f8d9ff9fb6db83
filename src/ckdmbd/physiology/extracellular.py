"""Extracellular fluid: the calcium and phosphate pools that every other subsystem exchanges with.

Peterson & Riggs 2010 hold calcium (``P``), phosphate (``ECCPhos``), PTH and calcitriol as amounts in one
extracellular volume ``V1`` (14 L); concentrations are amount / V1. This module owns the two mineral pools and
computes the four concentrations that the rest of the model reads.

The default configuration (``DEFAULT``) divides calcium and phosphate by the extracellular volume state of
``fluid`` instead of the constant V1, and computes ionised calcium from total calcium, albumin and pH
(``calcium_speciation``); it also reports albumin, which dilutes with the volume.
"""

import numba

from ckdmbd.model.framework import State, Submodel, from_parameter
from ckdmbd.physiology._math import nonneg
from ckdmbd.physiology.calcium_speciation import ionized_calcium

STATES = (
    State("ecf_calcium", "mmol", "calcium in the extracellular fluid", from_parameter("P_0"), {"calcium": 1.0}, "P"),
    State(
        "ecf_phosphate", "mmol", "phosphate in the extracellular fluid", from_parameter("ECCPhos_0"),
        {"phosphate": 1.0}, "ECCPhos",
    ),
)
OUTPUTS = ("ca_mM", "phosphate_mM", "pth_pM", "calcitriol_pM")


@numba.njit(cache=True, error_model="numpy")
def concentrations_reference(ecf_calcium, ecf_phosphate, plasma_pth, calcitriol, V1):
    """C1/CaConc, C2, C4, C8 of BIOMD0000000613 (amount / V1, unguarded)."""
    return ecf_calcium / V1, ecf_phosphate / V1, plasma_pth / V1, calcitriol / V1


@numba.njit(cache=True, error_model="numpy")
def concentrations(ecf_calcium, ecf_phosphate, plasma_pth, calcitriol, V1):
    """As the reference, floored at zero: PTH and calcitriol legitimately reach ~0 (parathyroidectomy, anuria)
    and round-off below zero must not reach the fractional powers downstream."""
    return nonneg(ecf_calcium) / V1, nonneg(ecf_phosphate) / V1, nonneg(plasma_pth) / V1, nonneg(calcitriol) / V1


REFERENCE = Submodel(
    "extracellular", __doc__, concentrations_reference, OUTPUTS, STATES, (), ("PetersonRiggs2010",)
)


@numba.njit(cache=True, error_model="numpy")
def concentrations_with_ionized(ecf_calcium, ecf_phosphate, plasma_pth, calcitriol, V1, ionized_calcium_fraction):
    """Also ionised calcium, as a fixed fraction of total calcium (0.50: 1.18 of 2.35 mM at normal albumin and
    pH). Albumin binding and complexation are not modelled; the report says so."""
    ca, po4, pth, ctriol = concentrations(ecf_calcium, ecf_phosphate, plasma_pth, calcitriol, V1)
    return ca, po4, pth, ctriol, ionized_calcium_fraction * ca


CORRECTED = Submodel("extracellular", __doc__, concentrations, OUTPUTS, STATES, (), ("PetersonRiggs2010",))
FIXED_FRACTION = Submodel("extracellular", __doc__, concentrations_with_ionized, (*OUTPUTS, "ionized_calcium_mM"),
                          STATES, (), ("PetersonRiggs2010",))
"""The earlier default: ionised calcium a fixed half of total, one constant volume (kept for comparison)."""


def _scaled_initial(parameter: str):
    """Baseline concentration x the patient's dry extracellular volume (PR's amounts are for V1 = 14 L)."""

    def initial(p):
        return p[parameter] * p["ecf_volume_0"] / p["V1"]

    initial.__doc__ = f"{parameter} x ecf_volume_0 / V1"
    return initial


DEFAULT_STATES = (
    State("ecf_calcium", "mmol", "calcium in the extracellular fluid", _scaled_initial("P_0"), {"calcium": 1.0}, "P"),
    State("ecf_phosphate", "mmol", "phosphate in the extracellular fluid", _scaled_initial("ECCPhos_0"),
          {"phosphate": 1.0}, "ECCPhos"),
)


@numba.njit(cache=True, error_model="numpy")
def concentrations_in_volume(ecf_calcium, ecf_phosphate, plasma_pth, calcitriol, ecf_volume, V1, ecf_volume_0,
                             patient_albumin_g_L, blood_ph, albumin_calcium_sites, albumin_calcium_K,
                             globulin_calcium_site_fraction, albumin_reference_g_L, complexed_calcium_per_ionized,
                             ionized_calcium_ph_slope):
    """Default configuration: calcium and phosphate are amount / extracellular volume (``fluid``), so they dilute
    and concentrate with it; albumin too (the patient's albumin at dry volume x V_dry / V). PTH and calcitriol are
    amount / V1, a fixed distribution volume (see ``fluid``). Ionised calcium from total calcium, albumin and pH
    (``calcium_speciation``)."""
    volume = ecf_volume if ecf_volume > 1e-3 else 1e-3  # a volume is never ~0; guards round-off only
    ca = nonneg(ecf_calcium) / volume
    albumin = patient_albumin_g_L * ecf_volume_0 / volume
    ionized = ionized_calcium(ca, albumin, blood_ph, albumin_calcium_sites, albumin_calcium_K,
                              globulin_calcium_site_fraction, albumin_reference_g_L, complexed_calcium_per_ionized,
                              ionized_calcium_ph_slope)
    return ca, nonneg(ecf_phosphate) / volume, nonneg(plasma_pth) / V1, nonneg(calcitriol) / V1, ionized, albumin


DEFAULT = Submodel("extracellular", __doc__, concentrations_in_volume,
                   (*OUTPUTS, "ionized_calcium_mM", "albumin_g_L"), DEFAULT_STATES, (),
                   ("PetersonRiggs2010", "Pedersen1971", "Moore1970", "CalciumFractions2007", "IonizedCalciumPH"))
