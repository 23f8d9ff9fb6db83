"""The what-if app's kept history (:mod:`ckdmbd.app_history`): a what-if continued from the state at t = 0 of one
history run is the full run (history included) with the same change at t = 0, its mass balance closes, and a
parameter pinned during the history is part of the key (never answered from another history)."""

from __future__ import annotations

import numpy as np
import pytest

from ckdmbd import app_history
from ckdmbd.model.composer import ELEMENT_UNITS
from ckdmbd.parameter_names import to_model_values
from ckdmbd.protocol import ScaleParameter, SetParameter
from ckdmbd.scenario import load_scenario, with_overrides
from ckdmbd.sessions import session_output_times
from ckdmbd.simulation import SolverOptions, simulate

OPTIONS = SolverOptions.preset("population", specialised=True)  # what the app runs


@pytest.fixture(scope="module")
def scenario():
    """Five years on dialysis simulated before t = 0 (binder, diet), then six weeks."""
    return with_overrides(load_scenario("hemodialysis-adherent"), "6 weeks")


def _full_run(sc, overrides):
    """Reference: one run from the start of the history, the change set at t = 0 and held (the scenario's own
    events from t = 0 on that would set it left out)."""
    from ckdmbd.model.configurations import model
    from ckdmbd.simulation import expand_events

    actions = [a for a in expand_events(sc.events, model(sc.configuration).state_names)
               if a.time_h < 0 or not (isinstance(a, SetParameter | ScaleParameter) and a.name in overrides)]
    actions += [SetParameter(0.0, name, value) for name, value in overrides.items()]
    actions.sort(key=lambda a: a.time_h)  # stable: at t = 0 the scenario's own actions keep their order
    return simulate(sc.configuration, sc.duration_h, actions, output_interval_h=sc.output_interval_h,
                    parameters=sc.parameter_overrides, start_h=-sc.history_h,
                    extra_output_times_h=session_output_times(sc.events, sc.duration_h), solver=OPTIONS)


def test_a_what_if_from_the_kept_history_is_the_full_run(scenario):
    overrides = to_model_values({"dietary_phosphorus": "1400 mg/day", "binder_adherence": 0.3})
    full = _full_run(scenario, overrides).to_frame()
    app_history.forget()  # another test in this process may have kept this history already
    before = dict(app_history.runs)
    kept = app_history.simulate_from_now(scenario, overrides, OPTIONS)
    assert kept.ok, kept.message
    assert app_history.runs["history"] == before["history"] + 1  # the history ran once ...
    again = app_history.simulate_from_now(scenario, to_model_values({"dietary_phosphorus": "600 mg/day"}), OPTIONS)
    assert app_history.runs["kept"] == before["kept"] + 1 and app_history.runs["history"] == before["history"] + 1
    frame = kept.to_frame()
    np.testing.assert_array_equal(frame["time_days"], full["time_days"])
    for column in ("calcium_mmol_L", "phosphate_mmol_L", "pth_pmol_L", "calcitriol_pmol_L"):
        np.testing.assert_allclose(frame[column], full[column], rtol=1e-6, atol=0, err_msg=column)
    # the change acts: more phosphorus, fewer binder doses -> higher phosphate than the lower-phosphorus what-if
    assert frame["phosphate_mmol_L"].iloc[-1] > again.to_frame()["phosphate_mmol_L"].iloc[-1] + 0.1
    mb = kept.mass_balance()
    for el in kept.model.elements:
        u = ELEMENT_UNITS[el]
        body = mb[f"{el}_body_{u}"].to_numpy()
        assert np.max(np.abs(mb[f"{el}_imbalance_{u}"])) / body[0] < 1e-6, el
    assert kept.to_frame()["ledger_diet_calcium"].iloc[0] > 1000.0  # the ledgers carry the history's bookings


def test_a_parameter_pinned_in_the_history_is_part_of_the_key(scenario):
    plain = app_history.history_end(scenario, OPTIONS)
    pinned = app_history.history_end(scenario, OPTIONS, to_model_values({"dietary_phosphorus": "1600 mg/day"}))
    assert not isinstance(plain, str) and not isinstance(pinned, str)
    assert pinned is not plain and not np.allclose(pinned.state, plain.state, rtol=1e-3)
    assert app_history.history_end(scenario, OPTIONS) is plain  # kept


def test_a_failed_history_is_said_in_one_line(scenario):
    bad = app_history.predialysis_from_now(scenario, {}, SolverOptions.preset("population", specialised=True,
                                                                               max_steps_per_segment=3))
    assert bad[0] == "failed" and len(bad[1].splitlines()) == 1 and bad[1]


def test_the_app_keeps_its_histories_before_the_first_run(monkeypatch):
    """``ckdmbd app`` simulates the histories in the background: the first Run then finds its history kept."""
    from ckdmbd import app

    monkeypatch.setattr(app, "dialysis_scenarios", lambda: ("kidney-transplant",))
    app.warm_histories()
    before = dict(app_history.runs)
    app.simulate_whatif(app.parse_request({"scenario": "kidney-transplant", "months": 0.5,
                                           "changes": {"dietary_phosphorus": "900 mg/day"}}))
    assert app_history.runs["history"] == before["history"] and app_history.runs["kept"] >= before["kept"] + 1


def test_a_history_only_run_and_its_arguments():
    """``duration_h`` = 0 runs the history alone (the actions at t = 0 are not applied); without a history, or with
    a negative first step, the arguments are refused by name."""
    from ckdmbd.protocol import SetGFR

    with pytest.raises(ValueError, match="duration must be a positive"):
        simulate("default", 0.0)
    with pytest.raises(ValueError, match="initial step must be a non-negative"):
        simulate("default", 24.0, initial_step_h=-1.0)
    history = simulate("default", 0.0, [SetGFR(-240.0, 30.0), SetGFR(0.0, 5.0)], start_h=-480.0)
    assert history.ok and list(history.t_h) == [0.0]
    assert history.state("gfr")[-1] == pytest.approx(1.8) and history.final_step_h > 0  # 30 mL/min in L/h, not 5
    assert history.final_parameters is not None and len(history.final_parameters) == len(dict(history.parameters))
