"""Secondary hyperparathyroidism from progressive CKD, against OpenBoneMin's published simulation.

OpenBoneMin's `sim_2h(GFRdelta = 84, GFRtau = 10)` (R/cabone.R at commit 8731c23; figure in its README of that
commit) lowers GFR first-order from 100 to 16 mL/min over 10 years and plots outputs as fractions of baseline.
Values read off that figure at 10 years (approximate, +-5 % reading error): PTH 3.85x, calcium 1.095x (peak
~1.11x near year 7), osteoclasts 2.75x, phosphate 1.35x. OpenBoneMin carries the same calcitriol/PTmax fix as
the ``corrected`` configuration (which, like OpenBoneMin, has no FGF23 feedback), so this checks the corrected
gland. Tolerances allow for the reading error and for
OpenBoneMin's small parameter differences from BIOMD0000000613 (T310, RUNkbGAM, OPG-RANKL consumption).
"""

import numpy as np
import pytest

from ckdmbd.scenario import load_scenario
from ckdmbd.simulation import simulate
from ckdmbd.units import DAYS_PER_YEAR


@pytest.fixture(scope="module")
def ckd():
    sc = load_scenario("ckd-progression")
    result = simulate("corrected", sc.duration_h, sc.events, output_interval_h=24 * 7)
    return result.to_frame()


@pytest.mark.parametrize(
    ("column", "fold_at_10_years", "tolerance"),
    [("pth_pmol_L", 3.85, 0.15), ("calcium_mmol_L", 1.095, 0.02), ("osteoclasts", 2.75, 0.15),
     ("phosphate_mmol_L", 1.35, 0.05), ("gfr_mL_min", 0.16, 0.01)],
)
def test_ckd_progression_matches_openbonemin(ckd, column, fold_at_10_years, tolerance):
    fold = ckd[column].iloc[-1] / ckd[column].iloc[0]
    assert fold == pytest.approx(fold_at_10_years, rel=tolerance)


def test_ckd_progression_calcium_peaks_before_the_end(ckd):
    years = ckd["time_days"] / DAYS_PER_YEAR
    ca = ckd["calcium_mmol_L"] / ckd["calcium_mmol_L"].iloc[0]
    peak = int(np.argmax(ca.to_numpy()))
    assert 5.0 < years[peak] < 9.5
    assert ca[peak] == pytest.approx(1.11, rel=0.02)


def test_ckd_progression_is_physical_and_monotone_in_pth(ckd):
    assert ckd["calcium_mmol_L"].between(2.0, 3.0).all()
    assert (ckd["calcitriol_pmol_L"] > 0).all()
    pth_yearly = ckd["pth_pmol_L"].to_numpy()[:: 52]
    assert np.all(np.diff(pth_yearly) > 0)  # PTH climbs every year as GFR falls
