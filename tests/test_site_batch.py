"""``ckdmbd run`` of a scenario with a calcification site without simulating anything twice (issue 11): the run as
its kept history plus the run from t = 0 is the full run bit for bit, the site's onset state taken from that kept
history equals the re-simulated one within the solver tolerance, and the robustness runs as one batch equal the
separate runs (bit for bit with the same solver, within the tolerance against the default one)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ckdmbd import app_history
from ckdmbd.calcification_fit import ROBUSTNESS, SiteProblem, robustness
from ckdmbd.citations import run_citation_keys
from ckdmbd.scenario import parse_scenario, run_scenario
from ckdmbd.simulation import SolverOptions

SITE_ON_DIALYSIS = """
[scenario]
name = "site-on-dialysis"
history = "90 days"
duration = "120 days"
[patient]
diet_phosphorus = "1600 mg/day"
[[calcification_sites]]
name = "hip"
onset = "0 days"
threshold = "3 mmol^2/L^2"
[[events]]
type = "set_gfr"
time = "-90 days"
gfr = "0 mL/min"
[[events]]
type = "hemodialysis"
time = "-90 days"
days = ["Mon", "Wed", "Fri"]
session = "4 h"
[[events]]
type = "deposit_excision"
time = "100 days"
fraction_removed = 0.5
"""
"""Three months of dialysis before t = 0, a site from t = 0 that grows on a high-phosphorus diet, half of it
removed at day 100 (a booking of the mass balance)."""
PRESENTATION_H = 60 * 24.0


@pytest.fixture(scope="module")
def scenario():
    return parse_scenario(SITE_ON_DIALYSIS)


def test_the_run_on_the_kept_history_is_the_full_run(scenario):
    full = run_scenario(scenario)
    app_history.forget()
    before = dict(app_history.runs)
    kept = app_history.run_on_kept_history(scenario)
    assert app_history.runs["history"] == before["history"] + 1
    pd.testing.assert_frame_equal(kept.to_frame(), full.to_frame(), check_exact=True)
    assert (kept.n_steps, kept.n_rhs, kept.n_rejected) == (full.n_steps, full.n_rhs, full.n_rejected)
    assert kept.events == full.events and dict(kept.parameters) == dict(full.parameters)
    assert kept.final_parameters == full.final_parameters and kept.jumps == full.jumps and kept.jumps
    assert run_citation_keys(kept) == run_citation_keys(full)
    pd.testing.assert_frame_equal(kept.mass_balance(), full.mass_balance(), check_exact=True)


def test_the_site_starts_from_the_kept_history(scenario):
    app_history.run_on_kept_history(scenario)
    before = dict(app_history.runs)
    problem = SiteProblem(scenario, PRESENTATION_H)
    assert app_history.runs["history"] == before["history"]  # taken, not simulated again
    assert app_history.runs["kept"] == before["kept"] + 1
    simulated = problem.simulated_onset_state(problem.before)
    assert not np.array_equal(problem.y0, simulated)  # the two ways are distinct, and agree within the tolerance
    np.testing.assert_allclose(problem.y0, simulated, rtol=1e-6, atol=1e-9)


def test_a_batch_of_presentations_is_the_separate_runs(scenario):
    problem = SiteProblem(scenario, PRESENTATION_H)
    base = problem.base
    variants = [{}, {"deposit_growth_rate": 1.2 * base["deposit_growth_rate"]},
                {"deposit_ksp_mM2": 0.9 * base["deposit_ksp_mM2"]}]
    batch = problem.present_many(variants)
    same_solver = [problem.present(solver=SolverOptions(specialised=True), **v) for v in variants]
    assert batch == same_solver
    assert batch[1].mass_g > batch[0].mass_g > 1.0 and batch[2].mass_g > batch[0].mass_g  # the variants act
    for got, separate in zip(batch, [problem.present(**v) for v in variants], strict=True):  # the default solver
        np.testing.assert_allclose(np.array(list(vars(got).values())), np.array(list(vars(separate).values())),
                                   rtol=1e-6)


def test_the_robustness_table_is_the_batch(scenario):
    problem = SiteProblem(scenario, PRESENTATION_H)
    rows = robustness(problem, names=("deposit_growth_rate", "deposit_mineral_fraction"), factors=(0.8,))
    assert [(r["parameter"], r["factor"]) for r in rows] == [
        ("(as fitted)", 1.0), ("deposit_growth_rate", 0.8), ("deposit_mineral_fraction", 0.8)]
    single = problem.present(solver=SolverOptions(specialised=True),
                             deposit_growth_rate=0.8 * problem.base["deposit_growth_rate"])
    assert rows[1]["diameter_cm"] == single.diameter_cm and rows[1]["mass_g"] == single.mass_g
    assert rows[2]["mass_g"] == rows[0]["mass_g"]
    assert rows[2]["diameter_cm"] == pytest.approx(rows[0]["diameter_cm"] * 0.8 ** (-1 / 3), rel=1e-12)
    assert set(ROBUSTNESS) >= {r["parameter"] for r in rows[1:]}


@pytest.mark.parametrize("name", ["peterson-riggs-2010", "parathyroidectomy"])
def test_a_scenario_without_history_runs_as_before(name):
    """``ckdmbd run`` takes every scenario through the kept history; one without a history (t = 0 is its start)
    gives the full run's frame exactly."""
    from ckdmbd.scenario import load_scenario

    sc = load_scenario(name)
    assert sc.history_h == 0
    pd.testing.assert_frame_equal(app_history.run_on_kept_history(sc).to_frame(), run_scenario(sc).to_frame(),
                                  check_exact=True)


def test_the_run_with_a_progress_callback_reports_history_and_run(scenario):
    """With a progress bar ``ckdmbd run`` keeps the history too: the callback covers history and run (monotone, to
    the whole span), and the result equals the full run with a callback within the solver tolerance (its 30-day
    pieces start elsewhere)."""
    app_history.forget()
    calls: list[tuple[float, float]] = []
    kept = app_history.run_on_kept_history(scenario, progress=lambda done, total: calls.append((done, total)))
    total = scenario.history_h + scenario.duration_h
    assert calls and all(t == total for _d, t in calls)
    done = [d for d, _t in calls]
    assert done == sorted(done) and done[-1] == pytest.approx(total) and min(done) < scenario.history_h
    full = run_scenario(scenario, progress=lambda *_: None)
    pd.testing.assert_frame_equal(kept.to_frame(), full.to_frame(), rtol=1e-4, atol=1e-8)  # solver tolerance
    before = dict(app_history.runs)
    SiteProblem(scenario, PRESENTATION_H)
    assert app_history.runs["history"] == before["history"]  # the site starts from the kept history
