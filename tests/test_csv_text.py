"""The fast CSV writer gives pandas' text exactly: on a run's frame (missing values included), on odd values and
names, and on frames it hands to pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ckdmbd.csv_text import csv_text
from ckdmbd.scenario import load_scenario, run_scenario, with_overrides


@pytest.mark.parametrize("float_format", ["%.9g", "%.6g"])
def test_a_runs_frame_as_pandas_writes_it(float_format):
    short = with_overrides(load_scenario("hemodialysis-nonadherent"), duration="10 days", output_interval="1 h")
    frame = run_scenario(short).to_frame()
    assert frame.isna().to_numpy().any()  # an anuric patient's renal indices are missing: the empty fields are tested
    assert csv_text(frame, float_format) == frame.to_csv(index=False, float_format=float_format, lineterminator="\n")


def test_odd_values_and_frames_pandas_writes():
    values = pd.DataFrame({"a": [0.0, -0.0, 1e-300, np.inf, -np.inf, np.nan, 123456789.123],
                           "nan_first": [np.nan, 1.0, 2.0, np.nan, 3.0, np.nan, np.nan]})
    assert csv_text(values, "%.9g") == values.to_csv(index=False, float_format="%.9g", lineterminator="\n")
    mixed = values.assign(label=["x"] * 7, count=range(7), name_with_comma=1.0).rename(columns={"a": "a,b"})
    assert csv_text(mixed, "%.9g") == mixed.to_csv(index=False, float_format="%.9g", lineterminator="\n")
    empty_rows = values.iloc[:0]
    assert csv_text(empty_rows, "%.9g") == empty_rows.to_csv(index=False, float_format="%.9g", lineterminator="\n")
