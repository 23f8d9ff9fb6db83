"""The two model configurations.

- ``reference``: BIOMD0000000613 exactly as encoded, defects included, so that it can be verified against
  libRoadRunner running the SBML.
- ``corrected``: the same physiology with the documented defects corrected (see each submodel's docstring):
  calcitriol-responsive gland capacity, a phosphate effect on 1-alpha-hydroxylase that cannot turn negative, no
  division by zero as PTH -> 0, and renal calcium handling that stays physical as GFR -> 0.
- ``default``: ``corrected`` extended for kidney failure: FGF23, parathyroid tissue (native glands and a forearm
  autograft), calcitriol-dependent absorption, phosphate binders, the rapidly miscible calcium pool,
  PTH/FGF23-regulated phosphaturia, a finite rapidly exchangeable phosphate pool refilling the plasma at the Agar
  2011 mobilisation clearance (cells exchanging slowly), and haemodialysis; the extracellular volume as a state
  (body size, fluid intake, ultrafiltration) and ionised calcium from albumin and pH.
"""

from __future__ import annotations

from functools import cache

from ckdmbd.model.composer import CompiledModel, compose
from ckdmbd.parameters import ParameterSet, corrected_parameters, default_parameters, peterson_riggs_2010
from ckdmbd.physiology import (
    bone_cells,
    bone_mineral,
    calcification,
    calcimimetics,
    calcitriol,
    calcium_buffer,
    dialysis,
    extracellular,
    fgf23,
    fluid,
    gut,
    kidney,
    nephron,
    osteoblast_signalling,
    parathyroid,
    phosphate_pools,
    rankl_opg,
    renal_receptors,
    teriparatide,
    uremia,
    vitamin_d,
)

CONFIGURATIONS = ("default", "corrected", "reference")


def submodels(configuration: str) -> tuple:
    if configuration == "reference":
        return (
            extracellular.REFERENCE,
            parathyroid.REFERENCE,
            teriparatide.SUBMODEL,
            calcitriol.REFERENCE,
            gut.SUBMODEL,
            kidney.REFERENCE,
            phosphate_pools.SUBMODEL,
            osteoblast_signalling.SUBMODEL,
            bone_cells.SUBMODEL,
            bone_mineral.SUBMODEL,
            rankl_opg.REFERENCE,
        )
    if configuration == "corrected":
        return (
            extracellular.CORRECTED,
            parathyroid.CORRECTED,
            teriparatide.SUBMODEL,
            calcitriol.CORRECTED,
            gut.SUBMODEL,
            kidney.CORRECTED,
            phosphate_pools.SUBMODEL,
            osteoblast_signalling.SUBMODEL,
            bone_cells.SUBMODEL,
            bone_mineral.SUBMODEL,
            rankl_opg.CORRECTED,
        )
    return (
        fluid.SUBMODEL,
        extracellular.DEFAULT,
        parathyroid.DEFAULT,
        teriparatide.SUBMODEL,
        renal_receptors.SUBMODEL,
        fgf23.SUBMODEL,
        calcitriol.DEFAULT,
        vitamin_d.SUBMODEL,
        calcimimetics.SUBMODEL,
        gut.DEFAULT,
        nephron.SUBMODEL,
        dialysis.WITH_ULTRAFILTRATION,
        calcium_buffer.DEFAULT,
        calcification.SUBMODEL,
        uremia.SUBMODEL,
        phosphate_pools.DEFAULT,
        osteoblast_signalling.DEFAULT,
        bone_cells.SUBMODEL,
        bone_mineral.DEFAULT,
        rankl_opg.DEFAULT,
    )


@cache
def parameters(configuration: str) -> ParameterSet:
    """The built-in parameter set of a configuration (immutable; loaded once per process)."""
    _check(configuration)
    if configuration == "reference":
        return peterson_riggs_2010()
    return corrected_parameters() if configuration == "corrected" else default_parameters()


@cache
def model(configuration: str) -> CompiledModel:
    """The compiled model of a configuration (built once per process)."""
    _check(configuration)
    return compose(configuration, submodels(configuration), tuple(parameters(configuration)))


def _check(configuration: str) -> None:
    if configuration not in CONFIGURATIONS:
        raise ValueError(f"unknown configuration {configuration!r}; expected one of {', '.join(CONFIGURATIONS)}")
