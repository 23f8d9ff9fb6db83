"""Calibration recovers a patient simulated with known parameters (issue #5).

A virtual patient on haemodialysis with known dietary phosphorus, calcium and parathyroid tissue mass is sampled
pre-dialysis every 4 weeks for 6 months (calcium, phosphate, PTH) with the analytical noise of ``LAB_CV``; the fit
must put the true values inside its 95 % intervals in at least 90 % of the (trial, parameter) pairs over 20 trials
with different seeds, and must fail that when its intervals are made four times too narrow.
"""

import tempfile
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckdmbd.calibration import LAB_CV, CalibrationError, Problem, fit, start_state
from ckdmbd.scenario import load_scenario

N_TRIALS = 20
CHUNKS = 4
RUN_ID = uuid.uuid4().hex  # one test run without xdist: every chunk runs in this process


@pytest.fixture(scope="module")
def setting():
    sc = load_scenario("hemodialysis-adherent")
    return sc, start_state(sc)


def _labs(days):
    rows = [(d, c) for d in days for c in LAB_CV]
    return pd.DataFrame({"time_days": [r[0] for r in rows], "column": [r[1] for r in rows], "value": 1.0,
                         "predialysis": True})


def _trial(sc, y0, seed):
    rng = np.random.default_rng(seed)
    truth = np.array([rng.uniform(700, 1600), rng.uniform(500, 1300), rng.uniform(1.0, 12.0)])
    labs = _labs(np.arange(1, 7) * 28)
    clean = Problem(sc, labs, y0).predict(truth)
    labs["value"] = clean * np.exp(rng.normal(0.0, labs["column"].map(LAB_CV).to_numpy()))
    result = fit(Problem(sc, labs, y0), n_starts=2, seed=seed)
    return truth, result


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_true_parameters_inside_95_percent_intervals(setting, chunk, request):
    sc, y0 = setting
    rows = []
    for seed in range(chunk, N_TRIALS, CHUNKS):
        truth, res = _trial(sc, y0, seed)
        narrow = np.exp(np.log(res.estimate)[None, :] + np.outer([-1, 1], 1.959964 * res.se_log / 4))
        rows.append({"seed": seed, "covered": ((res.ci_low <= truth) & (truth <= res.ci_high)).tolist(),
                     "covered_narrow": ((narrow[0] <= truth) & (truth <= narrow[1])).tolist()})
    # pool the chunks (run in parallel by pytest-xdist) through a folder of this test run: the last chunk to
    # finish checks the whole set
    worker = getattr(request.config, "workerinput", None)
    run_id = worker["testrunuid"] if worker else RUN_ID
    shared = Path(tempfile.gettempdir()) / f"ckdmbd-coverage-{run_id}"
    shared.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_json(shared / f"chunk{chunk}.json")
    parts = sorted(shared.glob("chunk*.json"))
    if len(parts) < CHUNKS:
        covered = np.array([c for r in rows for c in r["covered"]])
        assert covered.mean() >= 0.7  # a chunk of 5 trials can hold a miss or two; the pooled check is below
        return
    table = pd.concat([pd.read_json(p) for p in parts])
    covered = np.array([c for r in table["covered"] for c in r])
    narrow = np.array([c for r in table["covered_narrow"] for c in r])
    assert len(table) >= N_TRIALS
    assert covered.mean() >= 0.9, f"coverage {covered.mean():.0%} of {covered.size}"
    assert narrow.mean() < 0.9, f"intervals 4x too narrow still cover {narrow.mean():.0%}: the test cannot fail"


def test_fit_needs_enough_values_and_known_analytes(setting):
    sc, y0 = setting
    with pytest.raises(CalibrationError, match="cannot determine"):
        Problem(sc, _labs([28]).iloc[:3], y0)
    bad = _labs([28, 56])
    bad.loc[0, "column"] = "albumin_g_L"
    with pytest.raises(CalibrationError, match="cannot fit albumin_g_L"):
        Problem(sc, bad, y0)


def test_fit_solver_agrees_with_the_shared_solver(setting):
    """The fit simulates on the solver compiled for the model (analytic Jacobian, FIT_SOLVER); its predictions at
    the lab times equal those of the shared solver one-off runs use, to the report tolerance's error."""
    from ckdmbd.calibration import FIT_SOLVER, simulate_patient
    from ckdmbd.simulation import SolverOptions

    sc, y0 = setting
    assert FIT_SOLVER.specialised and FIT_SOLVER.jacobian == "analytic"
    problem = Problem(sc, _labs(np.arange(1, 7) * 28), y0)
    values = dict(zip(problem.names, [1200.0, 900.0, 6.0], strict=True))
    runs = [simulate_patient(sc, y0, values, problem.duration_h, output_times_h=problem.grid, solver=solver)
            for solver in (FIT_SOLVER, SolverOptions(specialised=False, jacobian="coloured"))]
    assert all(r.ok for r in runs)
    fast, shared = (r.to_frame(include_states=False) for r in runs)
    for col in LAB_CV:
        rel = np.max(np.abs(fast[col].to_numpy() / shared[col].to_numpy() - 1.0))
        assert rel < 1e-4, (col, rel)
