"""Profile-likelihood intervals (issue #13: "profile-likelihood intervals on request").

Analytic residuals first: for a linear model the profile interval equals the Wald interval exactly, so the walk,
the re-optimisation of the other parameters and the threshold crossing are checked against closed forms. Then a
parameter the data bound on one side only must come back open on the other, and the CLI's ``--profile`` end to end
(slow: tens of patient simulations)."""

import json
import math

import numpy as np
import pytest

from ckdmbd.profile_likelihood import THRESHOLD, profile_all, profile_parameter


def _linear_problem():
    """z = (A x - b) / sigma with correlated columns: the estimate and the covariance are closed-form."""
    a = np.array([[1.0, 0.5], [0.3, 1.0], [1.0, -1.0], [0.2, 0.1]])
    b = np.array([1.0, 0.4, 0.2, 0.05])
    sigma = 0.1

    def residuals(x):
        return (a @ x - b) / sigma

    x_hat, *_ = np.linalg.lstsq(a, b, rcond=None)
    chi_min = float(np.sum(residuals(x_hat) ** 2))
    cov = np.linalg.inv(a.T @ a / sigma**2)
    return residuals, x_hat, chi_min, cov


def test_threshold_is_the_95_percent_chi_square_quantile_of_one_parameter():
    assert pytest.approx(3.841458820694124) == THRESHOLD


def test_linear_model_profile_equals_wald_interval():
    residuals, x_hat, chi_min, cov = _linear_problem()
    lo, hi = np.full(2, -10.0), np.full(2, 10.0)
    profiles = profile_all(residuals, x_hat, chi_min, lo, hi, ["a", "b"], step=0.02, max_points=40)
    for i, prof in enumerate(profiles):
        half = math.sqrt(THRESHOLD * cov[i, i])  # the profile of a quadratic: exactly the Wald half-width
        # the interval is reported on the natural scale (exp of the log parameter)
        assert math.log(prof.low) == pytest.approx(x_hat[i] - half, abs=2e-3)
        assert math.log(prof.high) == pytest.approx(x_hat[i] + half, abs=2e-3)
        assert not prof.open_low and not prof.open_high
        assert min(prof.delta_chi_square) == pytest.approx(0.0, abs=1e-9)  # the estimate itself is a point
        assert max(prof.delta_chi_square) >= THRESHOLD


def test_a_parameter_the_data_do_not_bound_below_is_open_at_its_bound():
    # the second value only says "x1 is small": any x1 down to the bound fits as well
    def residuals(x):
        return np.array([(x[0] - 1.0) / 0.1, 10.0 * math.exp(x[1])])

    lo, hi = np.array([-5.0, -10.0]), np.array([5.0, 2.0])
    x_hat = np.array([1.0, -10.0])
    chi_min = float(np.sum(residuals(x_hat) ** 2))
    prof = profile_parameter(residuals, x_hat, chi_min, lo, hi, 1, "x1")
    assert prof.open_low and prof.low == pytest.approx(math.exp(-10.0))
    assert not prof.open_high
    expected_high = 0.5 * math.log((THRESHOLD + chi_min) / 100.0)  # 100 e^{2 x1} = threshold + minimum
    assert math.log(prof.high) == pytest.approx(expected_high, abs=0.05)
    row = prof.to_dict()
    json.dumps(row, allow_nan=False)  # strict JSON
    assert row["open_low"] is True and row["ci95_high"] == pytest.approx(prof.high)
    assert "not limited by the labs" in prof.describe("mg/day")


def test_the_other_parameters_are_reoptimised_along_the_profile():
    # two nearly collinear columns: fixing x0 moves x1 along, so the profile of x0 is much wider than the
    # conditional interval (x1 frozen at its estimate) would be
    a = np.array([[1.0, 0.9], [1.0, 1.1], [0.5, 0.45], [0.2, 0.3]])
    b = np.array([1.0, 1.2, 0.5, 0.3])

    def residuals(x):
        return (a @ x - b) / 0.1

    x_hat, *_ = np.linalg.lstsq(a, b, rcond=None)
    chi_min = float(np.sum(residuals(x_hat) ** 2))
    info = a.T @ a / 0.01
    prof = profile_parameter(residuals, x_hat, chi_min, np.full(2, -20.0), np.full(2, 20.0), 0, "a", step=0.05)
    conditional_half = math.sqrt(THRESHOLD / info[0, 0])
    marginal_half = math.sqrt(THRESHOLD * np.linalg.inv(info)[0, 0])
    assert marginal_half > 3 * conditional_half  # the design really is collinear
    assert math.log(prof.high) - x_hat[0] == pytest.approx(marginal_half, rel=2e-3)


@pytest.mark.slow
def test_fit_cli_profile_intervals(tmp_path):
    from test_fit_cli import TRUTH, write_synthetic_labs
    from typer.testing import CliRunner

    from ckdmbd.cli import app

    path = write_synthetic_labs(tmp_path)
    out = tmp_path / "fit"
    result = CliRunner().invoke(app, ["fit", str(path), "--scenario", "hemodialysis-adherent", "--starts", "1",
                                      "--profile", "--out", str(out)], prog_name="ckdmbd")
    assert result.exit_code == 0, result.output
    assert "profile 95 % CI" in result.output
    fit = json.loads((out / "fit.json").read_text())
    rows = {p["parameter"]: p for p in fit["profile_likelihood"]}
    assert set(rows) == {"diet_phosphorus", "diet_calcium", "parathyroid_tissue"}
    for k, name in enumerate(("diet_phosphorus", "diet_calcium", "parathyroid_tissue")):
        row = rows[name]
        assert row["ci95_low"] <= TRUTH[k] <= row["ci95_high"], (name, row["ci95_low"], row["ci95_high"])
