"""The forecast report (issue 14): the fitted lab values on the curves at their times, the scenario's events
marked, and the fit's verdict stated at the top.

The fit file is written from a :class:`ckdmbd.calibration.FitResult` made here (estimates, covariance, residual
rows as ``ckdmbd fit`` writes them), so the test runs only the forecast's few short simulations, not a fit.
"""

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ckdmbd.calibration import FitResult
from ckdmbd.cli import app
from ckdmbd.scenario import scenario_text

NAMES = ("diet_phosphorus", "diet_calcium", "parathyroid_tissue")
LABS = [(3.5, "calcium_mmol_L", 2.31), (3.5, "phosphate_mmol_L", 1.87), (3.5, "pth_pmol_L", 41.3),
        (10.5, "calcium_mmol_L", 2.27), (10.5, "phosphate_mmol_L", 1.64), (10.5, "pth_pmol_L", 37.9)]


def fit_file(tmp_path, failures=()) -> str:
    result = FitResult(
        names=NAMES, estimate=np.array([1300.0, 900.0, 8.0]), ci_low=np.array([1100.0, 700.0, 6.0]),
        ci_high=np.array([1500.0, 1100.0, 10.0]), se_log=np.array([0.08, 0.12, 0.15]),
        covariance_log=np.diag([0.08, 0.12, 0.15]) ** 2, chi_square=4.2, dof=3,
        rms_log_residual={"calcium_mmol_L": 0.03, "phosphate_mmol_L": 0.11, "pth_pmol_L": 0.2}, success=True,
        message="test", n_starts=1, n_simulations=0, failures=list(failures),
        residuals=[{"time_days": d, "column": c, "observed": v, "model": v * 1.02, "censored": False,
                    "standardised_residual": 0.4} for d, c, v in LABS])
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(result.to_dict(), allow_nan=False))
    return str(path)


def scenario_file(tmp_path) -> str:
    text = scenario_text("hemodialysis-adherent")
    text, n = re.subn(r'duration = "[^"]*"', 'duration = "14 days"', text, count=1)
    assert n == 1
    # an intervention inside the forecast (the scenario's own events all start in its history)
    text += '\n[[events]]\ntype = "phosphate_binder"\ntime = "7 days"\ndose = "4.8 g/day"\nadherence = 1.0\n'
    path = tmp_path / "short.toml"
    path.write_text(text)
    return str(path)


def values(array) -> list[float]:
    """A plotly JSON array: a list, or a typed array ``{"dtype": ..., "bdata": base64}`` (plotly >= 6)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def plotly_figures(page: str) -> list[dict]:
    """The data of every panel: the JSON arrays passed to Plotly.newPlot."""
    figures = []
    for m in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', page, re.S):
        figures.append(json.loads(m.group(1)))
    return figures


@pytest.fixture(scope="module")
def forecast_page(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("forecast")
    out = tmp / "out"
    result = CliRunner().invoke(app, ["forecast", scenario_file(tmp), "--fit", fit_file(tmp), "--samples", "5",
                                      "--out", str(out)], prog_name="ckdmbd")
    assert result.exit_code == 0, result.output
    return (out / "report.html").read_text(encoding="utf-8")


def test_forecast_report_draws_the_fitted_labs_at_their_times(forecast_page):
    figures = plotly_figures(forecast_page)
    assert figures, "no plotly panels found"
    drawn = set()
    for traces in figures:
        for trace in traces:
            if "markers" in str(trace.get("mode", "")) and "lab value" in json.dumps(trace.get("hovertext", "")):
                drawn |= set(zip(values(trace["x"]), values(trace["y"]), strict=True))
    for day, column, value in LABS:  # float32 in the page
        assert any(np.isclose(x, day, rtol=1e-6) and np.isclose(y, value, rtol=1e-6) for x, y in drawn), \
            (day, column, value, drawn)


def test_forecast_report_marks_events_and_states_the_verdict_first(forecast_page):
    verdict = forecast_page.index('id="fit-verdict"')
    assert verdict < forecast_page.index("<h2>Time courses</h2>")
    assert "the fit passed its checks" in forecast_page[verdict:verdict + 400]
    assert "Chi-square 4.2 on 3 degrees of freedom" in forecast_page[verdict:]
    events = forecast_page[forecast_page.index('id="events"'):]
    assert "4.8 g/day" in events[:events.index("</ol>")]  # listed, and drawn as a numbered line on the panels
    assert re.search(r'"hovertext":\s*"1: [^"]*4\.8 g(/|\\u002f)day"', forecast_page)  # the numbered line on a panel


def test_a_failed_fit_says_so_at_the_top(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["forecast", scenario_file(tmp_path), "--fit",
                                      fit_file(tmp_path, ["diet_calcium at its lower bound"]), "--samples", "5",
                                      "--out", str(out)], prog_name="ckdmbd")
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    top = page[page.index('id="fit-verdict"'):page.index("<h2>Time courses</h2>")]
    assert "THE FIT FAILED" in top and "diet_calcium at its lower bound" in top


def test_a_malformed_residual_is_one_line(tmp_path):
    path = fit_file(tmp_path)
    data = json.loads(Path(path).read_text())
    data["residuals"][0]["observed"] = "high"
    Path(path).write_text(json.dumps(data))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["forecast", scenario_file(tmp_path), "--fit", path, "--out", str(out)],
                                prog_name="ckdmbd")
    assert result.exit_code == 2 and "residuals[0]" in result.stderr and not out.exists()
