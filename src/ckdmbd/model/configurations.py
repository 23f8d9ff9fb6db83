"""The two model configurations.

- ``reference``: BIOMD0000000613 exactly as encoded, defects included, so that it can be verified against
  libRoadRunner running the SBML.
- ``default``: the same physiology with the documented defects corrected (see each submodel's docstring):
  calcitriol-responsive gland capacity, a phosphate effect on 1-alpha-hydroxylase that cannot turn negative, no
  division by zero as PTH -> 0, and renal calcium handling that stays physical as GFR -> 0.
"""

from __future__ import annotations

from functools import cache

from ckdmbd.model.composer import CompiledModel, compose
from ckdmbd.parameters import ParameterSet, default_parameters, peterson_riggs_2010
from ckdmbd.physiology import (
    bone_cells,
    bone_mineral,
    calcitriol,
    extracellular,
    gut,
    kidney,
    osteoblast_signalling,
    parathyroid,
    phosphate_pools,
    rankl_opg,
    teriparatide,
)

CONFIGURATIONS = ("default", "reference")


def submodels(configuration: str) -> tuple:
    ref = configuration == "reference"
    return (
        extracellular.REFERENCE if ref else extracellular.DEFAULT,
        parathyroid.REFERENCE if ref else parathyroid.DEFAULT,
        teriparatide.SUBMODEL,
        calcitriol.REFERENCE if ref else calcitriol.DEFAULT,
        gut.SUBMODEL,
        kidney.REFERENCE if ref else kidney.DEFAULT,
        phosphate_pools.SUBMODEL,
        osteoblast_signalling.SUBMODEL,
        bone_cells.SUBMODEL,
        bone_mineral.SUBMODEL,
        rankl_opg.REFERENCE if ref else rankl_opg.DEFAULT,
    )


@cache
def parameters(configuration: str) -> ParameterSet:
    """The built-in parameter set of a configuration (immutable; loaded once per process)."""
    _check(configuration)
    return peterson_riggs_2010() if configuration == "reference" else default_parameters()


@cache
def model(configuration: str) -> CompiledModel:
    """The compiled model of a configuration (built once per process)."""
    _check(configuration)
    return compose(configuration, submodels(configuration), tuple(parameters(configuration)))


def _check(configuration: str) -> None:
    if configuration not in CONFIGURATIONS:
        raise ValueError(f"unknown configuration {configuration!r}; expected one of {', '.join(CONFIGURATIONS)}")
