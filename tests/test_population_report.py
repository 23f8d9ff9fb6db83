"""The population page's numbers (issue 12): KDIGO target attainment, deposit incidence and percentile bands are
computed from the population's tables; checked here on tables whose answers are known."""

from __future__ import annotations

import pandas as pd
import pytest

from ckdmbd.population import PopulationResult, parse_population
from ckdmbd.population_report import attainment, html_page, percentile_bands, targets

SPEC = """
[population]
scenario = "hemodialysis-adherent"
size = 4
seed = 1

[distributions.dietary_phosphorus]
type = "uniform"
low = "600 mg/day"
high = "1600 mg/day"
"""


@pytest.fixture
def result() -> PopulationResult:
    """Four patients, three simulated: patient 0 meets every target, 1 has high phosphate and a deposit, 2 has PTH
    below 2 x the upper normal limit, 3 failed. Early sessions (day 0) are outside the last 4 weeks and would break
    every target if they counted."""
    rows = []
    values = {0: (1.3, 2.3, 30.0, 0.0), 1: (1.9, 2.3, 30.0, 5.0), 2: (1.2, 2.2, 8.0, 0.0)}
    for patient, (p, ca, pth, deposit) in values.items():
        rows.append({"patient": patient, "session": 0, "start_day": 0.0, "pre_calcium_mmol_L": 3.0,
                     "pre_phosphate_mmol_L": 3.0, "pre_pth_pmol_L": 100.0, "pre_ionized_calcium_mmol_L": 1.5,
                     "deposit_mass_g": 0.0})
        for k, day in enumerate((295.0, 297.0, 299.0)):
            rows.append({"patient": patient, "session": k + 1, "start_day": day, "pre_calcium_mmol_L": ca,
                         "pre_phosphate_mmol_L": p, "pre_pth_pmol_L": pth, "pre_ionized_calcium_mmol_L": 1.1,
                         "deposit_mass_g": deposit})
    patients = pd.DataFrame({"patient": [0, 1, 2, 3], "dietary_phosphorus": [700.0, 1500.0, 800.0, 900.0],
                             "status": ["ok", "ok", "ok", "failed"],
                             "message": ["success"] * 3 + ["step size fell below the resolution of time"],
                             "sessions": [4, 4, 4, 0]})
    return PopulationResult(parse_population(SPEC), patients, pd.DataFrame(rows))


def test_attainment_counts_each_target_over_the_simulated_patients(result):
    table = attainment(result.patients, result.sessions).set_index("target")
    p, ca, pth = (table.filter(like=name, axis=0).iloc[0] for name in ("phosphate", "calcium", "PTH"))
    assert (p.patients, p.of) == (2, 3) and (ca.patients, ca.of) == (3, 3) and (pth.patients, pth.of) == (2, 3)
    assert table.loc["all three", "patients"] == 1 and table.loc["all three", "percent"] == pytest.approx(100 / 3)
    deposit = table.filter(like="deposit", axis=0).iloc[0]
    assert (deposit.patients, deposit.of) == (1, 3)


def test_targets_follow_kdigo_and_the_default_reference_ranges():
    by_label = {t.label: t for t in targets()}
    assert by_label["phosphate"].high == 1.45 and by_label["phosphate"].low is None
    assert (by_label["calcium"].low, by_label["calcium"].high) == (2.10, 2.60)
    assert by_label["intact PTH"].low == pytest.approx(2 * 6.1) and by_label["intact PTH"].high == pytest.approx(
        9 * 6.1)


def test_percentile_bands_per_week(result):
    bands = percentile_bands(result.sessions, "pre_phosphate_mmol_L")
    assert list(bands["day"]) == [294.0]  # day 0 holds a third of the sessions of the fullest week: left out
    late = bands.iloc[0]
    assert late.p50 == pytest.approx(1.3) and late.p05 == pytest.approx(1.2) and late.p95 == pytest.approx(1.9)
    assert late.p05 <= late.p25 <= late.p50 <= late.p75 <= late.p95


def test_page_lists_failures_and_is_self_contained(result):
    page = html_page(result)
    assert "patient 3: step size fell below the resolution of time" in page and "Failures (1)" in page
    assert page.count("* plotly.js v") == 1 and "<script src" not in page.lower() and "<link" not in page.lower()
    assert "default-src 'none'" in page
    for div in ("hist-0", "bands-0", "hist-2", "bands-2"):
        assert f'id="{div}"' in page
