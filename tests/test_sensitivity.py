"""Global sensitivity analysis (issue 12): Sobol indices of the Ishigami function match their analytical values
within the estimated confidence intervals; the same machinery runs over a population spec."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ckdmbd.cli import app
from ckdmbd.population import load_population
from ckdmbd.sensitivity import population_sobol, sobol

A, B = 7.0, 0.1
BASE = """
[scenario]
name = "base"
duration = "5 days"

[[events]]
type = "set_gfr"
time = "0 h"
gfr = "0 mL/min"

[[events]]
type = "hemodialysis"
time = "0 h"

[[events]]
type = "phosphate_binder"
time = "0 h"
dose = "2.4 g/day"
"""


def ishigami(u: np.ndarray) -> np.ndarray:
    x = -math.pi + 2 * math.pi * u
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_ishigami_indices_within_their_confidence_intervals():
    var = A**2 / 8 + B * math.pi**4 / 5 + B**2 * math.pi**8 / 18 + 0.5
    v1, v2, v13 = 0.5 * (1 + B * math.pi**4 / 5) ** 2, A**2 / 8, B**2 * math.pi**8 * (1 / 18 - 1 / 50)
    s1 = np.array([v1, v2, 0.0]) / var  # 0.314, 0.442, 0
    st = np.array([v1 + v13, v2, v13]) / var  # 0.558, 0.442, 0.244
    table = sobol(ishigami, ["x1", "x2", "x3"], n=4096, seed=1)
    assert ((table["S1_low"] <= s1) & (s1 <= table["S1_high"])).all(), table
    assert ((table["ST_low"] <= st) & (st <= table["ST_high"])).all(), table
    assert (table["S1_conf"] < 0.06).all() and (table["ST_conf"] < 0.06).all()  # tight enough to mean something


def _diet_and_adherence_spec(folder):
    """A two-parameter population on the short base scenario: dietary phosphorus and binder adherence."""
    (folder / "base.toml").write_text(BASE, encoding="utf-8")
    spec_path = folder / "spec.toml"
    spec_path.write_text("""
[population]
scenario = "base.toml"
size = 1
seed = 3

[distributions.dietary_phosphorus]
type = "uniform"
low = "600 mg/day"
high = "1600 mg/day"

[distributions.binder_adherence]
type = "uniform"
low = 0.0
high = 1.0
""", encoding="utf-8")
    return spec_path


def test_population_sobol_runs_through_the_population_machinery(tmp_path):
    spec_path = _diet_and_adherence_spec(tmp_path)
    table = population_sobol(load_population(spec_path), n=4, outputs=("phosphate",), workers=2)
    assert list(table["parameter"]) == ["dietary_phosphorus", "binder_adherence"]
    assert np.isfinite(table[["S1", "ST"]].to_numpy()).all()
    result = CliRunner().invoke(app, ["sensitivity", str(spec_path), "--n", "4", "--output", "phosphate",
                                      "--out", str(tmp_path / "out")], prog_name="ckdmbd")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "sobol.csv").is_file() and "dietary_phosphorus" in result.output
    bad = CliRunner().invoke(app, ["sensitivity", str(spec_path), "--output", "fgf23"], prog_name="ckdmbd")
    assert bad.exit_code == 2 and "--output: 'fgf23' is not one of" in bad.output


@pytest.mark.parametrize("n", [1, 0])
def test_too_few_points_is_an_error(n):
    with pytest.raises(ValueError, match="at least one parameter and two base samples"):
        sobol(ishigami, ["x1", "x2", "x3"], n=n)


def test_morris_mu_star_of_a_linear_function_is_its_change_across_the_grid():
    from ckdmbd.sensitivity import MORRIS_PROBABILITY_RANGE, morris

    span = MORRIS_PROBABILITY_RANGE[1] - MORRIS_PROBABILITY_RANGE[0]
    table = morris(lambda x: 3.0 * x[:, 0] - 1.0 * x[:, 1] + 0.0 * x[:, 2], ["a", "b", "c"], trajectories=12, seed=2)
    assert np.allclose(table["mu_star"], [3.0 * span, 1.0 * span, 0.0], atol=1e-12)
    assert np.allclose(table["mu"], [3.0 * span, -1.0 * span, 0.0], atol=1e-12)
    assert np.allclose(table["sigma"], 0.0, atol=1e-12)  # a linear function has the same effect everywhere
    interacting = morris(lambda x: x[:, 0] * x[:, 1], ["a", "b"], trajectories=12, seed=2)
    assert (interacting["sigma"] > 0.1).all()  # the effect of each depends on the other


def test_population_morris_gives_the_physiological_directions(tmp_path):
    """More dietary phosphorus raises pre-dialysis phosphate, better binder adherence lowers it."""
    spec_path = _diet_and_adherence_spec(tmp_path)
    result = CliRunner().invoke(app, ["sensitivity", str(spec_path), "--method", "morris", "--n", "3", "--output",
                                      "phosphate", "--out", str(tmp_path / "out"), "--workers", "2"],
                                prog_name="ckdmbd")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "morris.csv").set_index("parameter")
    assert table.loc["dietary_phosphorus", "mu"] > 0 > table.loc["binder_adherence", "mu"]
    assert "Morris screening" in result.output
    bad = CliRunner().invoke(app, ["sensitivity", str(spec_path), "--method", "fast"], prog_name="ckdmbd")
    assert bad.exit_code == 2 and "--method: 'fast' is not available (sobol, morris)" in bad.output
