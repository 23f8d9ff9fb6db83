"""simulate_many (issue 11 item 4): N patients in one compiled call equal N single runs, and a batch with failing
patients returns every other patient and names each failure (refused values, a negative state, a solver failure)."""

from __future__ import annotations

import numpy as np
import pytest

from ckdmbd.protocol import Hemodialysis, PhosphateBinder
from ckdmbd.scenario import load_scenario, run_scenario
from ckdmbd.simulation import NEGATIVE_STATE, SolverOptions, simulate, simulate_many
from ckdmbd.units import ml_min_to_l_h

DAYS = 28
EVENTS = [Hemodialysis(0.0, DAYS * 24.0), PhosphateBinder(0.0, 2.4, 1.0)]
OPTIONS = SolverOptions.preset("population", specialised=True)


@pytest.fixture(scope="module")
def start() -> np.ndarray:
    return run_scenario(load_scenario("hemodialysis-adherent"), solver=OPTIONS).y[0]


def _patients(n: int) -> list[dict[str, float]]:
    rng = np.random.default_rng(5)
    return [{"phosphate_mobilisation_clearance": ml_min_to_l_h(rng.uniform(45, 208)),
             "dialyzer_phosphate_clearance": ml_min_to_l_h(rng.uniform(130, 190))} for _ in range(n)]


def test_batch_equals_single_runs(start, monkeypatch):
    from ckdmbd.solvers import batch as batch_module

    monkeypatch.setattr(batch_module, "CHUNK", 2)  # three compiled calls: the chunks join up in patient order
    params = _patients(5)
    batch = simulate_many("default", DAYS * 24.0, EVENTS, parameters=params, initial_states=[start] * 5,
                          states=("ecf_phosphate",), solver=OPTIONS, threads=2)
    assert batch.ok.all() and batch.messages == ["success"] * 5
    assert len(batch.session_starts_h) == 12 and batch.predialysis.shape == (5, 12, 5)
    assert batch.grid.shape == (5, DAYS + 1, 5)
    for j, values in enumerate(params):
        single = simulate("default", DAYS * 24.0, EVENTS, initial_state=start, parameters=values, solver=OPTIONS,
                          output_times_h=batch.t_h)
        o = single.outputs()
        expected = np.column_stack([*(o[c].to_numpy() for c in batch.names[:4]), single.state("ecf_phosphate")])
        np.testing.assert_allclose(batch.values[j], expected, rtol=1e-12, atol=0.0)
        assert batch.n_steps[j] == single.n_steps
    # the pre-dialysis values are the single run's frame at the session starts
    frame = single.to_frame()
    rows = np.searchsorted(frame["time_days"].to_numpy() * 24.0, batch.session_starts_h)
    np.testing.assert_allclose(batch.predialysis[-1, :, 1], frame["phosphate_mmol_L"].to_numpy()[rows], rtol=1e-12)


def test_batch_with_failing_patients_returns_the_others(start):
    params = _patients(4)
    params[1] = {"phosphate_mobilisation_clearance": -5.0}  # refused by the parameter ranges
    states = [start.copy() for _ in range(4)]
    states[2][0] = -1.0  # a negative volume from the start
    batch = simulate_many("default", DAYS * 24.0, EVENTS, parameters=params, initial_states=states,
                          solver=OPTIONS)
    assert list(batch.status[[0, 3]]) == [0, 0] and batch.status[1] == -1 and batch.status[2] == NEGATIVE_STATE
    assert "phosphate_mobilisation_clearance" in batch.messages[1]
    assert "ecf_volume" in batch.messages[2] and batch.failed_at_h[2] == 0.0
    assert np.isnan(batch.values[1]).all() and np.isfinite(batch.values[[0, 3]]).all()
    single = simulate("default", DAYS * 24.0, EVENTS, initial_state=start, parameters=params[3], solver=OPTIONS,
                      output_times_h=batch.t_h)
    np.testing.assert_allclose(batch.column("pth_pM")[3], single.outputs()["pth_pM"].to_numpy(), rtol=1e-12)


def test_batch_bad_arguments_are_one_line_errors(start):
    with pytest.raises(ValueError, match="unknown output 'nope'"):
        simulate_many("default", 24.0, EVENTS, n_patients=1, outputs=("nope",))
    with pytest.raises(ValueError, match="ambiguous"):
        simulate_many("default", 24.0, EVENTS, parameters=[{}], n_patients=2)
    with pytest.raises(ValueError, match="backend='scipy'"):
        simulate_many("default", 24.0, EVENTS, n_patients=1, solver=SolverOptions(backend="scipy"))
