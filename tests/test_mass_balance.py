"""Mass balance, the invariant of this field: calcium and phosphate are never created or lost by the code.

For each element, the change in body content (ECF + gut lumen + intracellular + bone mineral) must equal the
cumulative net input across the body boundary (diet in, urine out), to 1e-6 relative over 10 years.
"""

import numpy as np
import pytest

from ckdmbd.model.composer import ELEMENT_UNITS, ELEMENTS
from ckdmbd.protocol import GFRDecline, Parathyroidectomy, SetGFR, TeriparatideDoses
from ckdmbd.simulation import simulate
from ckdmbd.units import HOURS_PER_YEAR

TEN_YEARS = 10 * HOURS_PER_YEAR


@pytest.mark.parametrize(
    ("configuration", "events"),
    [
        ("reference", []),
        ("default", [GFRDecline(0.0, 100.0, 16.0, TEN_YEARS)]),
        ("default", [TeriparatideDoses(12.0, 20.0, 24.0, 365 * 2)]),
        ("default", [SetGFR(0.0, 0.0), Parathyroidectomy(HOURS_PER_YEAR, 1.0)]),
    ],
    ids=["healthy-reference", "ckd-progression", "teriparatide-2y", "anuric-then-ptx"],
)
def test_calcium_and_phosphate_balance_close_over_ten_years(configuration, events):
    result = simulate(configuration, TEN_YEARS, events, output_interval_h=24 * 30)
    mb = result.mass_balance()
    assert set(result.model.elements) == ({"calcium", "phosphate"} if configuration == "reference" else set(ELEMENTS))
    for el in result.model.elements:  # water (L) in the default configuration
        u = ELEMENT_UNITS[el]
        body = mb[f"{el}_body_{u}"].to_numpy()
        net = mb[f"{el}_net_input_{u}"].to_numpy()
        imbalance = np.abs((body - body[0]) - (net - net[0]))
        assert np.max(imbalance) / body[0] < 1e-6, f"{el}: {np.max(imbalance):.3g} {u} created or lost"
    frame = result.to_frame()
    assert frame["ledger_diet_calcium"].iloc[-1] > 100.0  # calcium really entered (3.6 mmol/day when healthy)


def test_balance_detects_a_leak():
    """The check can fail: removing a boundary process from the ledger makes the balance open."""
    result = simulate("default", HOURS_PER_YEAR, [SetGFR(0.0, 30.0)], output_interval_h=24 * 30)
    model = result.model
    urine = next(e for e in model.ledger if e.process == "urine_phosphate")
    content = model.body_content(result.y)["phosphate"]
    net_without_urine = model.net_boundary_input(result.y)["phosphate"] + result.y[:, urine.state_index]
    leak = (content - content[0]) - net_without_urine
    assert abs(leak[-1]) > 1.0  # hundreds of mmol excreted must show up as a gap


def test_each_process_conserves_elements_or_crosses_the_boundary():
    from ckdmbd.model.configurations import model

    m = model("default")
    boundary = {e.process: e.boundary for e in m.ledger if e.boundary is not None}
    assert boundary == {"diet_calcium": "diet", "diet_phosphate": "diet", "urine_calcium": "urine",
                        "urine_phosphate": "urine", "phosphate_binding": "faeces",
                        "endogenous_faecal_calcium": "faeces", "dialysate_phosphate": "dialysate",
                        "dialysate_calcium": "dialysate", "fluid_intake": "diet", "urine_water": "urine",
                        "ultrafiltration_water": "ultrafiltrate", "ultrafiltration_calcium": "ultrafiltrate",
                        "ultrafiltration_phosphate": "ultrafiltrate"}
    booked = {e.process for e in m.ledger}  # internal mineral fluxes are booked too, for the clinician's ledger
    assert {"calcium_absorption", "phosphate_absorption", "bone_resorption", "bone_formation"} <= booked
    contents = {st.name: st.contains for st in m.states}
    for sm in m.submodels:
        for proc in sm.processes:
            change = {el: sum(c * contents[s].get(el, 0.0) for s, c in proc.stoichiometry.items()) for el in ELEMENTS}
            if proc.boundary is None:
                assert all(abs(v) < 1e-12 for v in change.values()), proc.name


def test_fluxes_are_reported_with_the_parameters_in_force_at_each_time():
    """PTH secretion before a total parathyroidectomy is computed with the intact gland, after it with none."""
    result = simulate("default", 240.0, [Parathyroidectomy(120.0, 1.0)], output_interval_h=24.0)
    secretion = result.outputs()["pth_secretion"].to_numpy()
    assert secretion[0] > 300.0  # baseline 385 pmol/h
    assert np.all(secretion[result.t_h >= 120.0] < 1e-9)  # round-off of an emptied tissue state
