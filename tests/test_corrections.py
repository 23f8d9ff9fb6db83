"""Each correction of the default configuration, with a test that the reference (BIOMD0000000613) behaviour fails.

Defects documented in ../shared/reference/README.md and in the submodel docstrings.
"""

import numpy as np
import pytest

from ckdmbd.model.configurations import model, parameters
from ckdmbd.physiology import calcitriol, kidney
from ckdmbd.protocol import Parathyroidectomy, SetGFR
from ckdmbd.simulation import NEGATIVE_STATE, simulate
from ckdmbd.units import HOURS_PER_YEAR, ml_min_to_l_h

YEAR = HOURS_PER_YEAR


def _full(configuration):
    return model(configuration).full_parameters(parameters(configuration))


def test_gland_capacity_responds_to_calcitriol_only_when_corrected():
    """Low calcitriol (GFR 15 mL/min) must raise gland capacity (hyperplasia); the SBML's PTmax never moves."""
    events = [SetGFR(0.0, 15.0)]
    ref = simulate("reference", 2 * YEAR, events, output_interval_h=24 * 30)
    cor = simulate("corrected", 2 * YEAR, events, output_interval_h=24 * 30)
    assert np.max(np.abs(ref.state("gland_capacity") - 1.0)) < 1e-9
    assert cor.state("gland_capacity")[-1] > 1.05
    assert cor.to_frame()["pth_pmol_L"].iloc[-1] > ref.to_frame()["pth_pmol_L"].iloc[-1]


@pytest.mark.parametrize("phosphate_mM", [1.0, 1.2, 1.5, 2.1, 2.5, 4.0, 10.0])
def test_phosphate_effect_on_hydroxylase_never_negative_when_corrected(phosphate_mM):
    p_ref, p_def = _full("reference"), _full("corrected")
    args = (3.85, phosphate_mM, 126.0, 1260.0)
    common = ("T64", "T65", "T66", "T67", "T69", "AlphOHgam", "PO4inhPTHgam", "phosphate_baseline_mM")
    ref = calcitriol.calcitriol_synthesis_reference(
        *args, *(p_ref[k] for k in common), p_ref["PhosEff0"], p_ref["PhosEff50"], p_ref["PhosEffGam"],
        p_ref["PhosEffMax"])[-1]
    cor = calcitriol.calcitriol_synthesis(
        *args, *(p_def[k] for k in common), p_def["PhosEff0"], p_def["PhosEff50_corrected"], p_def["PhosEffGam"],
        p_def["pth_hydroxylase_floor_pM"])[-1]
    assert cor >= 0.0
    if phosphate_mM <= 1.2:
        assert cor == ref == 1.0
    elif phosphate_mM <= 1.6:
        assert abs(cor - ref) < 0.02  # same curve (within 2 % of baseline production) where the SBML is right
    if phosphate_mM >= 2.5:
        assert ref < 0.0  # the defect: production of 1-alpha-hydroxylase turns negative


def test_renal_calcium_excretion_bounded_by_filtered_load_when_corrected():
    p_ref, p_def = _full("reference"), _full("corrected")
    names = ("Reabs50", "T7", "T9", "T16", "T17", "T46", "ca_filtration_factor", "reabs_offset",
             "calcium_baseline_mM", "phosphate_filterable_fraction", "kGFR")
    for gfr_ml_min in (0.0, 1.0, 2.0, 3.0, 10.0, 100.0):
        state = (ml_min_to_l_h(gfr_ml_min), 2.4, 3.85, 20.0, 2.0)
        ref = kidney.excretion_reference(*state, *(p_ref[k] for k in names))
        cor = kidney.excretion(*state, *(p_def[k] for k in names))
        excreted, filtered = cor[0], cor[3]
        assert 0.0 <= excreted <= filtered + 1e-15
        if gfr_ml_min >= 10:
            assert cor[0] == pytest.approx(ref[0], rel=1e-12)
        if 0 < gfr_ml_min <= 2.0:
            assert ref[0] > ref[3]  # the defect: more calcium excreted than filtered


def test_total_parathyroidectomy_survives_only_when_corrected():
    events = [Parathyroidectomy(24.0, 1.0)]
    ref = simulate("reference", YEAR, events, check=False)
    assert not ref.ok  # OPG production divides by PTH -> 0
    # The corrections keep the solver finite, but Peterson-Riggs' bone (resorption J14 does not depend on the mineral
    # left) empties its exchangeable pool within days: the negative-amount guard stops the run there and names it.
    cor = simulate("corrected", YEAR, events, check=False)
    assert cor.status == NEGATIVE_STATE and "bone_exchangeable_calcium" in cor.message
    assert 24.0 < cor.failed_at_h < 30 * 24.0
    # The default configuration's cell-bounded bone runs the year
    default = simulate("default", YEAR, events)
    frame = default.to_frame()
    assert frame["pth_pmol_L"].iloc[-1] < 1e-3
    assert np.all(np.isfinite(default.y))
    # hypoparathyroidism: calcium falls below the reference range, calcitriol falls (no PTH drive)
    assert frame["calcium_mmol_L"].iloc[-1] < 2.1
    assert frame["calcitriol_pmol_L"].iloc[-1] < 90.0


@pytest.mark.parametrize("gfr_ml_min", [5.0, 0.0])
def test_kidney_failure_without_dialysis_survives_only_when_corrected(gfr_ml_min):
    """The SBML fails within about a year at GFR <= 7 mL/min (calcitriol turns negative)."""
    events = [SetGFR(0.0, gfr_ml_min)]
    ref = simulate("reference", 3 * YEAR, events, output_interval_h=24 * 7, check=False)
    assert not ref.ok
    assert ref.failed_at_h < 1.6 * YEAR
    cor = simulate("corrected", 3 * YEAR, events, output_interval_h=24 * 7)
    frame = cor.to_frame()
    for col in ("calcium_mmol_L", "phosphate_mmol_L", "pth_pmol_L", "calcitriol_pmol_L"):
        assert np.all(np.isfinite(frame[col])) and np.all(frame[col] >= 0.0), col
    assert frame["phosphate_mmol_L"].iloc[-1] > 2.0  # no excretion: phosphate accumulates
    assert frame["calcitriol_pmol_L"].iloc[-1] < 10.0  # hydroxylase suppressed, but not negative
    assert frame["pth_pmol_L"].iloc[-1] > 2 * 3.85  # secondary hyperparathyroidism


def test_corrections_leave_the_healthy_steady_state_unchanged():
    """At baseline every correction is inactive or equal to 1; the SBML's initial state drifts by < 1e-4 (calcitriol
    89.999 pM), which the now-responsive gland capacity follows, hence agreement to 1e-5 and not to round-off."""
    a = simulate("reference", YEAR).to_frame(include_states=False)
    b = simulate("corrected", YEAR).to_frame(include_states=False)
    for col in ("calcium_mmol_L", "phosphate_mmol_L", "pth_pmol_L", "calcitriol_pmol_L"):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-5)
