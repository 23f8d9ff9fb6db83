"""Issue #3: a year of thrice-weekly dialysis simulates without solver failure for 200 patients sampled across the
published parameter spreads. Slow (about a minute per core): run with ``-m slow``."""

import numpy as np
import pytest

from ckdmbd.protocol import Hemodialysis, PhosphateBinder
from ckdmbd.scenario import load_scenario, run_scenario
from ckdmbd.simulation import simulate
from ckdmbd.units import CALCIUM_G_PER_MOL, HOURS_PER_YEAR, PHOSPHORUS_G_PER_MOL, ml_min_to_l_h

N_PATIENTS = 200


def sample_patients(n: int, seed: int = 2011) -> list[dict[str, float]]:
    """Parameter overrides per patient (model units), from the spreads of the field notes:
    K_M 99 +- 47 mL/min (range 45-208; Agar 2011), dialyzer phosphate clearance 160 +- 14 mL/min (HD, Blood Purif
    2013), dietary phosphorus 982 +- 192 mg/day (Japanese cohort), calcium 900 +- 150 mg/day (assumed), residual
    GFR 0-5 mL/min (assumed uniform), binder adherence 0-1 (assumed uniform; 22-74 % non-adherent in reviews)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k_m = ml_min_to_l_h(float(np.clip(rng.normal(99.0, 47.0), 45.0, 208.0)))
        out.append({
            "phosphate_mobilisation_clearance": k_m,  # plasma <-> rapidly exchangeable pool
            "dialyzer_phosphate_clearance": ml_min_to_l_h(float(np.clip(rng.normal(160.0, 14.0), 110.0, 210.0))),
            "OralPhos": float(np.clip(rng.normal(982.0, 192.0), 500.0, 1600.0)) / PHOSPHORUS_G_PER_MOL / 24.0,
            "OralCa": float(np.clip(rng.normal(900.0, 150.0), 400.0, 1500.0)) / CALCIUM_G_PER_MOL / 24.0,
            "binder_adherence": float(rng.uniform(0.0, 1.0)),
            "residual_gfr_l_h": ml_min_to_l_h(float(rng.uniform(0.0, 5.0))),
        })
    return out


@pytest.fixture(scope="module")
def start_state():
    """The adherent scenario's state at t = 0, after 5 simulated years on dialysis."""
    return run_scenario(load_scenario("hemodialysis-adherent")).y[0]


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(4))
def test_two_hundred_dialysis_patient_years(start_state, chunk):
    from ckdmbd.model.configurations import model

    gfr_index = model("default").state_index("gfr")
    failures = []
    for k, patient in enumerate(sample_patients(N_PATIENTS)[chunk::4]):
        params = {name: v for name, v in patient.items() if name not in ("residual_gfr_l_h", "binder_adherence")}
        y = start_state.copy()
        y[gfr_index] = patient["residual_gfr_l_h"]
        events = [Hemodialysis(0.0, HOURS_PER_YEAR), PhosphateBinder(0.0, 2.4, patient["binder_adherence"])]
        result = simulate("default", HOURS_PER_YEAR, events, parameters=params, initial_state=y,
                          output_interval_h=24.0, check=False)
        frame = result.to_frame(include_states=False)
        physical = (frame["phosphate_mmol_L"].between(0.2, 5.0).all()
                    and frame["calcium_mmol_L"].between(1.5, 3.5).all() and (frame["pth_pmol_L"] > 0).all())
        if not (result.ok and physical):
            failures.append((chunk + 4 * k, result.message, patient))
    assert not failures, failures[:3]
