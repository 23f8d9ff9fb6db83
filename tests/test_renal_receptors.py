"""Tubular hormone receptors (klotho, PTH1R) belong to the kidney tissue: a diseased native kidney loses them, a
graft brings healthy ones; and the clinic's renal phosphate indices (TmP/GFR, FE_phosphate) computed from a run."""

import numpy as np
import pytest

from ckdmbd.model.configurations import parameters
from ckdmbd.physiology import renal_receptors
from ckdmbd.protocol import KidneyTransplant, SetParameter, SetState
from ckdmbd.renal_indices import renal_phosphate_indices
from ckdmbd.simulation import simulate
from ckdmbd.units import HOURS_PER_DAY, ml_min_to_l_h

receptors = renal_receptors.tubular_receptors.py_func


def test_native_receptors_fall_with_kidney_function_as_measured():
    p = parameters("default")
    healthy = receptors(p["GFR_0"], p["GFR_0"], 0.0, p["klotho_anuric_fraction"],
                        p["renal_pth_receptor_anuric_fraction"])
    assert healthy == pytest.approx((1.0, 1.0))
    # Urena 1995: PTH1R mRNA 0.52 of control at 40 % of control clearance
    _, pth1r = receptors(0.4 * p["GFR_0"], p["GFR_0"], 0.0, p["klotho_anuric_fraction"],
                         p["renal_pth_receptor_anuric_fraction"])
    assert pth1r == pytest.approx(0.52, abs=0.005)
    # Rotondi 2015: soluble klotho 519 / 845 = 0.614 at eGFR 45
    klotho, _ = receptors(0.45 * p["GFR_0"], p["GFR_0"], 0.0, p["klotho_anuric_fraction"],
                          p["renal_pth_receptor_anuric_fraction"])
    assert klotho == pytest.approx(519 / 845, abs=0.01)


def test_a_graft_is_healthy_tissue_at_its_own_gfr_and_injured_in_delayed_function():
    p = parameters("default")
    graft = ml_min_to_l_h(55.0)
    args = (p["klotho_anuric_fraction"], p["renal_pth_receptor_anuric_fraction"])
    assert receptors(graft, p["GFR_0"], graft, *args) == pytest.approx((1.0, 1.0))
    native_same_gfr = receptors(graft, p["GFR_0"], 0.0, *args)
    assert native_same_gfr[0] < 0.75 and native_same_gfr[1] < 0.75
    delayed = receptors(0.05 * graft, p["GFR_0"], graft, *args)
    assert delayed[0] < 0.35 and delayed[1] < 0.25


def test_the_transplant_event_declares_the_graft_reference():
    for ev in (KidneyTransplant(5.0, 55.0), KidneyTransplant(5.0, 55.0, 10 * HOURS_PER_DAY)):
        refs = [a for a in ev.actions() if isinstance(a, SetParameter) and a.name == "graft_reference_gfr"]
        assert [(a.time_h, a.value) for a in refs] == [(5.0, pytest.approx(ml_min_to_l_h(55.0)))]


def test_a_graft_wastes_more_phosphate_than_a_native_kidney_at_the_same_gfr_and_hormones():
    """Same patient, same GFR step: judged as a graft the tubule reads the hormones fully."""
    gfr = ml_min_to_l_h(40.0)
    native = simulate("default", 20 * HOURS_PER_DAY, [SetState(0.0, "gfr", gfr), SetParameter(0.0, "kGFR", 0.0)],
                      output_interval_h=HOURS_PER_DAY).to_frame()
    graft = simulate("default", 20 * HOURS_PER_DAY, [KidneyTransplant(0.0, 40.0)],
                     output_interval_h=HOURS_PER_DAY).to_frame()
    assert graft["phosphate_fe_percent"].iloc[-1] > native["phosphate_fe_percent"].iloc[-1]
    assert graft["tmp_gfr_mmol_L"].iloc[-1] < native["tmp_gfr_mmol_L"].iloc[-1]


def test_renal_indices_follow_the_clinical_definitions():
    # P 1.0 mmol/L, GFR 6 L/h (100 mL/min), urine phosphate 1.2 mmol/h: 0.2 mmol per litre filtrate excreted
    out = renal_phosphate_indices(np.array([1.0]), np.array([1.2]), np.array([6.0]))
    assert out["tmp_gfr_mmol_L"][0] == pytest.approx(0.8)
    assert out["phosphate_fe_percent"][0] == pytest.approx(20.0)
    anuric = renal_phosphate_indices(np.array([2.0]), np.array([0.0]), np.array([0.0]))
    assert np.isnan(anuric["tmp_gfr_mmol_L"][0]) and np.isnan(anuric["phosphate_fe_percent"][0])


def test_healthy_indices_are_in_the_reference_interval():
    f = simulate("default", 2 * HOURS_PER_DAY, [], output_interval_h=1.0).to_frame()
    assert f.attrs["units"]["tmp_gfr_mmol_L"] == "mmol/L" and f.attrs["units"]["phosphate_fe_percent"] == "%"
    assert 0.80 <= f["tmp_gfr_mmol_L"].iloc[-1] <= 1.35  # adult TmP/GFR (Payne 1998; field notes §2)
    # 80-95 % reabsorbed on an ordinary diet; Peterson-Riggs' baseline absorbs only ~7 mmol a day (their 325 mg
    # phosphorus diet), so its FE sits at the low end, about 4 %
    assert 3.0 <= f["phosphate_fe_percent"].iloc[-1] <= 20.0
