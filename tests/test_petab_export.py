"""PEtab export of a calibration problem (issue 13): `petablint` accepts it and the `petab` library loads it.

Three weeks of labs (calcium, phosphate, PTH pre-dialysis, one post-dialysis phosphate, one PTH below the assay's
limit) of a patient who starts haemodialysis at t = 0 (no history: nothing to simulate before the export).
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ckdmbd.calibration import ASSAY_LIMIT, LAB_CV, Problem
from ckdmbd.export.petab import write_petab
from ckdmbd.scenario import parse_scenario

petab = pytest.importorskip("petab.v1")  # in the test extras (pyproject.toml); skipped only where it is not installed


SCENARIO = """
[scenario]
name = "dialysis-starts"
description = "anuric, haemodialysis from t = 0"
configuration = "default"
duration = "30 days"

[[events]]
type = "set_gfr"
time = "0 days"
gfr = "0 mL/min"

[[events]]
type = "hemodialysis"
time = "0 days"
days = ["Mon", "Wed", "Fri"]
session = "4 h"
start_clock = "8 h"
phosphate_clearance = "140 mL/min"
dialysate_calcium = "1.5 mmol/L"
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    rows = [(d, c, v, True) for d in (2, 9, 16) for c, v in (("calcium_mmol_L", 2.3), ("phosphate_mmol_L", 1.6),
                                                              ("pth_pmol_L", 30.0))]
    rows += [(2.5, "phosphate_mmol_L", 0.8, False), (20, "pth_pmol_L", 0.1, True)]
    labs = pd.DataFrame(rows, columns=["time_days", "column", "value", "predialysis"])
    problem = Problem(parse_scenario(SCENARIO), labs, None)
    out = tmp_path_factory.mktemp("petab")
    written = write_petab(problem, out, {"diet_phosphorus": 1200.0, "diet_calcium": 800.0, "parathyroid_tissue": 4.0})
    assert {p.name for p in written} >= {"problem.yaml", "model.xml", "measurements.tsv", "parameters.tsv"}
    return out, problem


def test_petablint_accepts_the_problem(folder):
    out, _ = folder
    lint = subprocess.run([sys.executable, "-m", "petab.petablint", str(out / "problem.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_petab_library_loads_it(folder):
    out, problem = folder
    pp = petab.Problem.from_yaml(str(out / "problem.yaml"))
    assert not petab.lint_problem(pp)  # False: no errors
    m = pp.measurement_df
    assert len(m) == len(problem.labs) - 1  # the PTH of 0.1 pmol/L (below 0.13) is censored: not in PEtab 1
    assert set(m["datasetId"]) == {"pre_dialysis", "other"}
    # a pre-dialysis sample is compared at the model time the fit uses (the start of that day's session), in hours
    keep = ~problem.censored
    assert np.allclose(m["time"].to_numpy(), problem.model_times_h[keep])
    assert m[m["datasetId"] == "other"]["time"].tolist() == [2.5 * 24]
    obs = pp.observable_df
    assert obs.loc["pth", "observableFormula"] == f"max(pth_pM, {ASSAY_LIMIT['pth_pmol_L'][0]:g})"
    assert set(obs["observableTransformation"]) == {"log"}
    assert float(obs.loc["phosphate", "noiseFormula"]) == LAB_CV["phosphate_mmol_L"]
    par = pp.parameter_df
    assert set(par.index) == {"OralPhos", "OralCa", "native_tissue_ref"}
    assert (par["estimate"] == 1).all() and set(par["parameterScale"]) == {"log10"}
    assert (par["lowerBound"] < par["nominalValue"]).all() and (par["nominalValue"] < par["upperBound"]).all()
    assert par.loc["native_tissue_ref", "nominalValue"] == 4.0
    model = pp.sbml_model if hasattr(pp, "sbml_model") else pp.model.sbml_model
    ia = model.getInitialAssignmentBySymbol("parathyroid_tissue_native")
    assert ia is not None and ia.getMath() is not None


def test_fit_cli_writes_the_petab_problem(tmp_path):
    from typer.testing import CliRunner

    from ckdmbd.cli import app

    labs = tmp_path / "labs.csv"
    labs.write_text("day,analyte,value,unit,sample\n" + "".join(
        f"{d},{a},{v},{u},pre-dialysis\n" for d in (2, 9, 16)
        for a, v, u in (("calcium", 2.3, "mmol/L"), ("phosphate", 1.6, "mmol/L"), ("pth", 30, "pmol/L"))))
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO)
    result = CliRunner().invoke(app, ["fit", str(labs), "--scenario", str(scenario), "--no-fit", "--petab-out",
                                      str(tmp_path / "petab"), "--out", str(tmp_path / "fit")], prog_name="ckdmbd")
    assert result.exit_code == 0, result.output
    assert "wrote PEtab problem" in result.output and not (tmp_path / "fit").exists()
    pp = petab.Problem.from_yaml(str(tmp_path / "petab" / "problem.yaml"))
    assert len(pp.measurement_df) == 9 and not petab.lint_problem(pp)
