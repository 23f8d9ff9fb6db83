"""One naming scheme and clinic number formats (ckdmbd.variables), per-run citations without duplicates,
and the output grid of --show-history (issue 14)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ckdmbd import units
from ckdmbd.citations import CITATIONS, SAME_PAPER, format_citations, run_citation_keys
from ckdmbd.report import HEADLINE, summary_columns
from ckdmbd.scenario import OBSERVABLE, load_scenario
from ckdmbd.variables import VARIABLES, clinic, label


@pytest.mark.parametrize(("column", "value", "text"), [
    ("pth_pmol_L", 0.0, "< 0.1"), ("pth_pmol_L", 1.381e-15, "< 0.1"), ("pth_pmol_L", 2.779e-15, "< 0.1"),
    ("pth_pmol_L", 3.71, "3.7"), ("pth_pmol_L", 27.06, "27.1"), ("calcium_mmol_L", 2.124, "2.12"),
    ("phosphate_mmol_L", 2.1346, "2.13"), ("deposit_diameter_cm", 15.004, "15.0"), ("gfr_mL_min", -1e-17, "0.0"),
    ("calcitriol_pmol_L", 99.4, "99"), ("unknown_column", 1.23456e-5, "1.23e-05"), ("pth_pmol_L", float("nan"), "–"),
])
def test_clinic_numbers(column, value, text):
    assert clinic(column, value) == text


def test_conventional_numbers():
    assert clinic("phosphate_mmol_L", 2.13, with_unit=True, conventional=True) == "6.6 mg/dL"
    assert clinic("calcium_mmol_L", 2.12, with_unit=True, conventional=True) == "8.5 mg/dL"
    assert clinic("pth_pmol_L", 3.7, with_unit=True, conventional=True) == "35 pg/mL"
    assert clinic("pth_pmol_L", 1e-15, conventional=True) == "< 1"  # 0.1 pmol/L is 0.94 pg/mL
    assert clinic("deposit_diameter_cm", 15.0, with_unit=True, conventional=True) == "15.0 cm"  # no other unit


def test_one_label_per_column():
    assert label("pth_pmol_L") == "Intact PTH (pmol/L)" == HEADLINE["pth_pmol_L"]
    assert label("pre_pth_pmol_L") == "Pre-dialysis intact PTH (pmol/L)"
    for column, v in VARIABLES.items():
        assert label(column) == f"{v.name} ({v.unit})", column
    for column, unit, _mass in OBSERVABLE.values():  # every observable column: a label, in the column's unit
        assert VARIABLES[column].unit == unit, column


def test_the_deposit_is_in_every_summary_with_a_site():
    import pandas as pd

    frame = pd.DataFrame({c: [0.0] for c in [*HEADLINE, "gfr_mL_min", "ionized_calcium_mmol_L",
                                             "deposit_diameter_cm", "deposit_mass_g"]})
    for name in ("seed-case", "seed-case-adherent", "seed-case-4x-weekly", "seed-case-early-graft-excision"):
        assert {"deposit_diameter_cm", "deposit_mass_g"} <= set(summary_columns(load_scenario(name), frame)), name
    assert "deposit_diameter_cm" not in summary_columns(load_scenario("hemodialysis-adherent"), frame)


def test_one_paper_is_cited_once():
    lines = format_citations({"Gotch2007", "Gotch2010", "PetersonRiggs2010", "assumed"})
    assert len(lines) == 2
    assert lines[0].startswith("[Gotch2007, Gotch2010] ")
    for key, main in SAME_PAPER.items():
        assert key in CITATIONS and main in CITATIONS
    # no two keys with the same DOI
    dois = {}
    for key, text in CITATIONS.items():
        for doi in [w.strip(".,;()") for w in text.replace("doi:", "doi ").split() if w.startswith("10.")]:
            assert dois.setdefault(doi, key) == key or SAME_PAPER.get(key) == dois[doi], (doi, key, dois[doi])


def test_citations_are_per_run():
    """A run without calcimimetics or dialysis cites none of their papers; one with them does."""
    from ckdmbd.scenario import run_scenario

    sc = load_scenario("ckd-progression")
    keys = run_citation_keys(run_scenario(dataclasses.replace(sc, duration_h=30 * units.HOURS_PER_DAY)))
    assert "PetersonRiggs2010" in keys
    assert not keys & {"SensiparLabel", "ParsabivLabel", "Padhi2009Cinacalcet", "Pirklbauer2021"}, keys
    assert "assumed" not in keys


def test_history_grid_keeps_the_run_grid():
    from ckdmbd.history import output_times_with_history
    from ckdmbd.sessions import session_output_times, sessions

    sc = load_scenario("seed-case")
    times = output_times_with_history(sc)
    assert times[0] == pytest.approx(-sc.history_h) and times[-1] == pytest.approx(sc.duration_h)
    assert np.all(np.diff(times) > 0)
    run = times[times >= 0]
    grid = np.arange(0.0, sc.duration_h + 1e-9, sc.output_interval_h)
    assert np.isin(np.round(grid, 6), np.round(run, 6)).all()
    assert np.isin(np.round(session_output_times(sc.events, sc.duration_h), 6), np.round(run, 6)).all()
    past = [b for b, e in sessions(sc.events) if e < 0]
    assert np.isin(np.round(past[-5:], 6), np.round(times, 6)).all()  # pre-dialysis values in the history
