"""Extracellular fluid: the calcium and phosphate pools that every other subsystem exchanges with.

Peterson & Riggs 2010 hold calcium (``P``), phosphate (``ECCPhos``), PTH and calcitriol as amounts in one
extracellular volume ``V1`` (14 L); concentrations are amount / V1. This module owns the two mineral pools and
computes the four concentrations that the rest of the model reads.
"""

import numba

from ckdmbd.model.framework import State, Submodel, from_parameter
from ckdmbd.physiology._math import nonneg

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
DEFAULT = Submodel("extracellular", __doc__, concentrations_with_ionized, (*OUTPUTS, "ionized_calcium_mM"), STATES,
                   (), ("PetersonRiggs2010",))
