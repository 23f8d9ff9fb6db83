"""``ckdmbd fit`` and ``ckdmbd forecast`` end to end on a small synthetic lab series (issue #5)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ckdmbd.calibration import LAB_CV, Problem, start_state
from ckdmbd.cli import app
from ckdmbd.scenario import load_scenario, parse_scenario

TRUTH = np.array([1300.0, 900.0, 8.0])  # diet phosphorus mg/day, diet calcium mg/day, parathyroid tissue


def write_synthetic_labs(directory: Path) -> Path:
    """Six 4-weekly pre-dialysis calcium, phosphate and PTH values of the adherent patient at ``TRUTH``, with the
    noise model's scatter, in laboratory units; returns the CSV's path."""
    sc = load_scenario("hemodialysis-adherent")
    days = np.arange(0, 6) * 28
    rows = [(d, c) for d in days for c in LAB_CV]
    labs = pd.DataFrame({"time_days": [r[0] for r in rows], "column": [r[1] for r in rows], "value": 1.0,
                         "predialysis": True})
    clean = Problem(sc, labs, start_state(sc)).predict(TRUTH)
    noisy = clean * np.exp(np.random.default_rng(11).normal(0, labs["column"].map(LAB_CV).to_numpy()))
    # in the units a laboratory reports: phosphate in mg/dL, PTH in pg/mL
    name = {"calcium_mmol_L": ("calcium", "mmol/L", 1.0), "phosphate_mmol_L": ("phosphate", "mg/dL", 3.0974),
            "pth_pmol_L": ("pth", "pg/mL", 9.425)}
    out = pd.DataFrame({
        "time": [(pd.Timestamp("2026-01-05T08:00:00Z") + pd.Timedelta(days=float(d))).strftime("%Y-%m-%dT%H:%M:%SZ")
                 for d in labs["time_days"]],
        "analyte": [name[c][0] for c in labs["column"]],
        "value": [round(v * name[c][2], 4) for v, c in zip(noisy, labs["column"], strict=True)],
        "unit": [name[c][1] for c in labs["column"]],
        "sample": "pre-dialysis",
    })
    path = directory / "labs.csv"
    out.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def labs_csv(tmp_path_factory) -> Path:
    return write_synthetic_labs(tmp_path_factory.mktemp("labs"))


def test_fit_then_forecast(labs_csv, tmp_path):
    runner = CliRunner()
    fit_dir = tmp_path / "fit"
    result = runner.invoke(app, ["fit", str(labs_csv), "--scenario", "hemodialysis-adherent", "--starts", "1",
                                 "--out", str(fit_dir)], prog_name="ckdmbd")
    assert result.exit_code == 0, result.output
    fit = json.loads((fit_dir / "fit.json").read_text())
    est = {p["parameter"]: p for p in fit["parameters"]}
    assert est["diet_phosphorus"]["ci95_low"] <= TRUTH[0] <= est["diet_phosphorus"]["ci95_high"]
    assert est["parathyroid_tissue"]["ci95_low"] <= TRUTH[2] <= est["parathyroid_tissue"]["ci95_high"]
    assert fit["goodness_of_fit"]["dof"] == 18 - 3
    calibrated = fit_dir / "hemodialysis-adherent-calibrated.toml"
    sc = parse_scenario(calibrated.read_text())  # the calibrated scenario is a valid scenario
    assert sc.name == "hemodialysis-adherent-calibrated"
    # forecast the calibrated patient for 2 months
    text = calibrated.read_text().replace('duration = "1 year"', 'duration = "60 days"')
    short = tmp_path / "short.toml"
    short.write_text(text)
    out = tmp_path / "forecast"
    result = runner.invoke(app, ["forecast", str(short), "--fit", str(fit_dir / "fit.json"), "--samples", "5",
                                 "--out", str(out)], prog_name="ckdmbd")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out / "forecast.csv")
    assert (frame["phosphate_mmol_L_p05"] <= frame["phosphate_mmol_L_p95"]).all()
    assert (frame["pth_pmol_L_p95"] - frame["pth_pmol_L_p05"]).max() > 0  # the spread is real
    assert "5-95 %" in (out / "report.html").read_text(encoding="utf-8")


def test_fit_rejects_bad_labs_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,analyte,value,unit\n2026-01-05,calcium,abc,mmol/L\n")
    result = CliRunner().invoke(app, ["fit", str(bad), "--scenario", "hemodialysis-adherent",
                                      "--out", str(tmp_path / "o")], prog_name="ckdmbd")
    assert result.exit_code == 2
    assert result.stderr.startswith("ckdmbd: error:") and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
