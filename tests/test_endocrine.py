"""Nephron segments, FGF23, parathyroid receptor biology and kidney transplantation (issue 9), each check against
the measurement it is held to."""

import itertools
import math

import numpy as np
import pytest

from ckdmbd.model.configurations import model, parameters
from ckdmbd.physiology import nephron, parathyroid
from ckdmbd.protocol import KidneyTransplant, Parathyroidectomy, ProtocolError
from ckdmbd.scenario import ScenarioError, load_scenario, parse_scenario, run_scenario
from ckdmbd.simulation import simulate
from ckdmbd.units import HOURS_PER_DAY, ml_min_to_l_h

DAY = HOURS_PER_DAY


def _segments(p, **overrides):
    """Call the nephron function at the healthy baseline with some inputs changed."""
    values = model("default").full_parameters(dict(p))
    inputs = {"gfr": p["GFR_0"], "ca_mM": p["calcium_baseline_mM"],
              "ionized_calcium_mM": values["pth_setpoint_ionized_mM"], "pth_pM": p["pth_baseline_pM"],
              "calcitriol_pM": p["calcitriol_baseline_pM"], "phosphate_mM": p["phosphate_baseline_mM"],
              "fgf23_effect": 1.0, "renal_pth_receptor_relative": 1.0, "kGFR": 0.0}
    inputs.update(overrides)
    py = nephron.segmental_excretion.py_func
    import inspect

    args = [inputs[n] if n in inputs else values[n] for n in inspect.signature(py).parameters]
    return dict(zip(nephron.OUTPUTS, py(*args), strict=True))


def test_baseline_urinary_calcium_is_peterson_riggs_and_fractional_excretion_normal():
    p = parameters("default")
    out = _segments(p)
    assert out["calcium_excretion"] == pytest.approx(p["reabs_offset"], rel=1e-9)  # PR's J27 at baseline
    assert 0.01 <= out["calcium_fe"] <= 0.03  # normal FE_Ca 1-2 %, > 98 % reabsorbed (Clin Chem 1999)


def test_urine_never_exceeds_filtered_load_and_pth_loss_leaks_only_part_of_it():
    p = parameters("default")
    rng = np.random.default_rng(1)
    for _ in range(200):
        out = _segments(p, ca_mM=rng.uniform(1.0, 3.5), ionized_calcium_mM=rng.uniform(0.5, 1.8),
                        pth_pM=10 ** rng.uniform(-3, 3), calcitriol_pM=10 ** rng.uniform(-2, 3),
                        gfr=rng.uniform(0, 9))
        assert 0.0 <= out["calcium_excretion"] <= out["calcium_filtered"] + 1e-15
    # without PTH most filtered calcium is still reabsorbed (proximal tubule, TAL): FE of a few %, not 100 %
    no_pth = _segments(p, pth_pM=0.0)
    assert 0.02 < no_pth["calcium_fe"] < 0.10


def test_phosphate_threshold_is_bounded_however_high_pth_and_fgf23():
    p = parameters("default")
    extreme = _segments(p, pth_pM=1e7, fgf23_effect=1e7)["phosphate_threshold_mM"]
    floor = p["T46"] * ((1 - p["pth_phosphaturia_emax"]) / (1 - p["pth_phosphaturia_emax"] / 2)) * (
        (1 - p["fgf23_phosphaturia_emax"]) / (1 - p["fgf23_phosphaturia_emax"] / 2))
    assert extreme == pytest.approx(floor, rel=1e-3)
    assert extreme > 0.1 * p["T46"]  # a floor, not the open power law's collapse to 0


def test_total_parathyroidectomy_in_a_healthy_adult_gives_hypoparathyroid_calcium_not_collapse():
    """Untreated hypoparathyroidism settles near 1.8-2.0 mmol/L (issue 9 band at two weeks: 1.70-2.15, never
    below 1.5); the first release fell to 1.01 mmol/L with 100 % of filtered calcium excreted."""
    r = simulate("default", 60 * DAY, [Parathyroidectomy(0.0, 1.0)], output_interval_h=6.0)
    f = r.to_frame()
    at_14 = f["calcium_mmol_L"].to_numpy()[np.argmin(np.abs(f["time_days"].to_numpy() - 14))]
    assert 1.70 <= at_14 <= 2.15
    assert f["calcium_mmol_L"].min() > 1.5


def test_receptor_density_and_autonomy_grow_with_gland_mass():
    p = parameters("default")
    rho = [parathyroid.receptor_density.py_func(m, p["gland_receptor_half_mass"], p["gland_receptor_floor"],
                                                p["gland_receptor_hill"]) for m in (1.0, 5.0, 10.0, 40.0)]
    assert rho[0] == pytest.approx(1.0)
    assert rho[0] > rho[1] > rho[2] > rho[3] >= p["gland_receptor_floor"]
    assert rho[3] < p["gland_receptor_floor"] + 0.05  # fully nodular


@pytest.fixture(scope="module")
def hd_untreated():
    sc = load_scenario("hemodialysis-nonadherent")
    return run_scenario(sc).to_frame()


def test_fgf23_on_dialysis_is_many_times_normal(hd_untreated):
    """Dialysis patients carry intact FGF23 of hundreds to thousands of pg/mL (median ~760 pg/mL in the field
    notes' HD cohorts; 20-60 pg/mL in health)."""
    fgf23 = hd_untreated["fgf23_pg_mL"].iloc[-30:].mean()
    assert 250.0 <= fgf23 <= 3000.0


def test_fgf23_plasma_half_life_is_about_an_hour():
    """With bone expression held, plasma FGF23 decays with t1/2 ~1 h (Khosravi 2007: 46-58 min)."""
    p = parameters("default")
    assert math.log(2) / p["kFGF"] == pytest.approx(1.0, abs=0.1)


def test_calcitriol_suppresses_pth_within_a_day_in_healthy_men():
    """Brandi 2002: 4 ug calcitriol in healthy men lowers PTH by 30-35 % at 24 h. Here a 24-h calcitriol
    infusion that triples calcitriol (the state is set to 3x and held by the infusion rate)."""
    from ckdmbd.protocol import SetState

    # hold calcitriol at 3x baseline by resetting it every hour for a day (a clamp, as in an infusion study)
    clamp = [SetState(h, "calcitriol", 3.0 * parameters("default")["B_0"]) for h in np.arange(0.0, 24.0, 1.0)]
    r = simulate("default", 24.0, clamp, output_interval_h=1.0)
    pth = r.to_frame()["pth_pmol_L"].to_numpy()
    assert 0.50 <= pth[-1] / pth[0] <= 0.80


def test_transplant_event_validation():
    with pytest.raises(ProtocolError, match="graft GFR"):
        KidneyTransplant(0.0, 500.0).actions()
    base = '[scenario]\nname = "t"\nconfiguration = "default"\nduration = "30 days"\n'
    for field, value, message in (("graft_gfr", '"500 mL/min"', "graft_gfr"), ("graft_gfr", '"-5 mL/min"',
                                                                                 "graft_gfr"),
                                  ("delayed_function", '"200 days"', "delayed_function")):
        extra = '[[events]]\ntype = "kidney_transplant"\ntime = "1 day"\ngraft_gfr = "50 mL/min"\n'
        extra = extra.replace(f'{field} = "50 mL/min"', f"{field} = {value}") if field == "graft_gfr" else (
            extra + f"{field} = {value}\n")
        with pytest.raises(ScenarioError, match=message):
            parse_scenario(base + extra)


def test_transplant_ends_dialysis_after_delayed_function():
    sc = load_scenario("kidney-transplant")
    schedules = [e for e in sc.events if type(e).__name__ == "Hemodialysis"]
    assert schedules[0].end_h == pytest.approx(7 * DAY)
    r = run_scenario(sc)
    f = r.to_frame()
    t = f["time_days"].to_numpy()
    assert f["on_dialysis"].to_numpy()[t > 7.5].max() == 0.0
    gfr = f["gfr_mL_min"].to_numpy()
    assert gfr[np.argmin(np.abs(t - 1))] < 20.0  # delayed function: low on day 1
    assert gfr[np.argmin(np.abs(t - 10))] == pytest.approx(55.0, rel=1e-6)


@pytest.mark.slow
def test_transplant_course_pth_and_fgf23_fall_over_weeks_not_hours():
    """After transplantation PTH and FGF23 fall over weeks to months (persistent hyperparathyroidism, tertiary
    'hyperphosphatoninism', Bhan 2006; Evenepoel 2008), phosphate falls within days."""
    sc = load_scenario("kidney-transplant")
    f = run_scenario(sc).to_frame()
    t = f["time_days"].to_numpy()

    def at(col, day):
        return f[col].to_numpy()[np.argmin(np.abs(t - day))]

    assert at("pth_pmol_L", 1) > 0.5 * at("pth_pmol_L", 0)
    assert at("fgf23_pg_mL", 1) > 0.4 * at("fgf23_pg_mL", 0)
    assert at("fgf23_pg_mL", 30) < 0.6 * at("fgf23_pg_mL", 0)
    assert at("pth_pmol_L", 180) < 0.7 * at("pth_pmol_L", 0)
    assert at("phosphate_mmol_L", 30) < at("phosphate_mmol_L", 0) - 0.2


def test_gfr_recovery_is_exponential_during_delayed_function():
    ev = KidneyTransplant(0.0, 60.0, 10 * DAY)
    r = simulate("default", 12 * DAY, [ev], output_interval_h=DAY)
    gfr = r.state("gfr")
    assert gfr[0] == pytest.approx(0.05 * ml_min_to_l_h(60.0), rel=1e-6)
    assert gfr[5] == pytest.approx(0.05 * ml_min_to_l_h(60.0) * 20 ** 0.5, rel=1e-4)
    assert gfr[-1] == pytest.approx(ml_min_to_l_h(60.0), rel=1e-9)


def _growth_drive(p, calcitriol_pM):
    """The gland's hyperplasia drive at baseline calcium and phosphate, normal-sized glands, given calcitriol."""
    import inspect

    values = model("default").full_parameters(dict(p))
    inputs = {"ca_mM": p["calcium_baseline_mM"], "ionized_calcium_mM": values["pth_setpoint_ionized_mM"],
              "vdr_gland_pM": calcitriol_pM, "phosphate_mM": p["phosphate_baseline_mM"],
              "plasma_pth": values["PTH_0"], "gland_pool": 0.5, "parathyroid_tissue_native": 1.0,
              "parathyroid_tissue_graft": 0.0, "graft_function": 1.0, "calcimimetic_setpoint_factor": 1.0}
    py = parathyroid.gland_tissue.py_func
    args = [inputs[n] if n in inputs else values[n] for n in inspect.signature(py).parameters]
    return dict(zip(parathyroid.TISSUE_OUTPUTS, py(*args), strict=True))["gland_growth_drive"]


def test_calcitriol_restraint_on_hyperplasia_is_graded_not_a_switch():
    """CKD 3 (calcitriol ~0.75 of normal) must not grow the glands towards their dialysis size: Peterson-Riggs'
    capacity switch (Hill 12.5) gave a drive of 2.3x there; the untreated dialysis patient (calcitriol ~16 pM)
    still gets nearly the full drive (CtriolMax), on which the dialysis cases rest."""
    p = parameters("default")
    c0 = p["calcitriol_baseline_pM"]
    assert _growth_drive(p, c0) == pytest.approx(1.0, rel=1e-9)
    assert _growth_drive(p, 0.78 * c0) < 1.5
    drives = [_growth_drive(p, f * c0) for f in (0.8, 0.6, 0.4, 0.2)]
    assert all(a < b for a, b in itertools.pairwise(drives))  # graded across CKD 3-5
    assert _growth_drive(p, 16.0) > 0.95 * p["CtriolMax"]
