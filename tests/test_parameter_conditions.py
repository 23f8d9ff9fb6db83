"""Parameter sets are checked before a run: a set for which a derived constant does not exist is refused with one
line naming the parameters, their values and the condition (issue 15), never a math domain error, a complex number,
a division by zero or a negative EC50 inside the run."""

import math
import random

import numpy as np
import pytest

from ckdmbd.model import configurations
from ckdmbd.model.derivation import ParameterConditionError
from ckdmbd.parameters import ParameterError

# The single-parameter changes that used to end in ValueError / TypeError (complex) / ZeroDivisionError on main at
# f047310 (issue 15), each with the parameter the message must name.
SINGLE_PARAMETER_CASES = [
    ("CtriolMin", 2.0), ("Pic0", 2.0), ("FracPicROB", 2.0), ("FracPicOC", 2.0), ("FracPic0kb", 2.0),
    ("EmaxPicOB", 0.5), ("E0RUNX2kbEffFACT", 0.5), ("PhosEff0", 0.5), ("E0crebKin", 2.0),
]


def _base(configuration: str) -> dict[str, float]:
    ps = configurations.parameters(configuration)
    return {name: ps[name] for name in ps}


@pytest.mark.parametrize("configuration", configurations.CONFIGURATIONS)
def test_nominal_parameter_sets_pass(configuration):
    model = configurations.model(configuration)
    vector = model.parameter_vector(_base(configuration))
    y0 = model.initial_state(_base(configuration))
    assert np.isfinite(y0).all()
    nan_by_design = {"PhosEff50_corrected"} if configuration == "reference" else set()
    assert {n for n, v in zip(model.parameter_names, vector, strict=True) if not math.isfinite(v)} == nan_by_design


@pytest.mark.parametrize(("name", "factor"), SINGLE_PARAMETER_CASES)
def test_infeasible_single_parameter_is_refused_with_its_condition(name, factor):
    model = configurations.model("default")
    p = _base("default")
    p[name] *= factor
    with pytest.raises(ParameterConditionError) as info:
        model.parameter_vector(p)
    message = str(info.value)
    assert "\n" not in message
    assert name in message and "must" in message and "to exist" in message
    assert f"{name} = {p[name]:.6g}" in message  # the offending value is shown
    assert isinstance(info.value, ParameterError)  # the CLI's one-line error family


def test_ctriol_message_names_both_ends_and_the_quantity():
    p = _base("default")
    p["CtriolMin"] = 2.1
    p["CtriolMax"] = 2.0
    with pytest.raises(ParameterConditionError, match=r"CtriolMin = 2\.1 and CtriolMax = 2 .*Ctriol50"):
        configurations.model("default").parameter_vector(p)


@pytest.mark.parametrize("configuration", configurations.CONFIGURATIONS)
def test_random_parameter_sets_are_accepted_finite_or_refused_clearly(configuration):
    """Every numeric parameter scaled independently by a log-uniform factor in [0.5, 2] (the robustness test of
    issue 15): each set either derives finite constants or is refused with a ParameterConditionError; no other
    exception escapes."""
    model = configurations.model(configuration)
    base = _base(configuration)
    rng = random.Random(15)
    refused = accepted = 0
    for _ in range(150):
        p = {k: v * math.exp(rng.uniform(math.log(0.5), math.log(2.0))) if v != 0 else v for k, v in base.items()}
        try:
            vector = model.parameter_vector(p)
        except ParameterConditionError as exc:
            assert "\n" not in str(exc) and "refused" in str(exc)
            refused += 1
            continue
        accepted += 1
        finite = [math.isfinite(v) or n == "PhosEff50_corrected"
                  for n, v in zip(model.parameter_names, vector, strict=True)]
        assert all(finite)
        assert np.isfinite(model.initial_state(p)).all()
    assert refused + accepted == 150 and refused > 0


def test_single_factor_scan_never_raises_anything_else():
    """Each parameter alone at x0.5 and x2: a clear refusal or a finite parameter vector."""
    model = configurations.model("default")
    base = _base("default")
    for name, value in base.items():
        for factor in (0.5, 2.0):
            if value == 0:
                continue
            p = dict(base)
            p[name] = value * factor
            try:
                vector = model.parameter_vector(p)
            except ParameterConditionError:
                continue
            assert np.isfinite(vector).all(), name


def test_osteoblast_elimination_that_could_turn_negative_is_refused():
    """RUNkbMaxFact above FracPic0kb lets osteoblast elimination go negative at high TGF-beta and RUNX2 (issue 15's
    robustness campaign: osteoblasts grew without bound and the solver stopped within days)."""
    p = _base("default")
    p["RUNkbMaxFact"] = p["FracPic0kb"] * 1.05
    with pytest.raises(ParameterConditionError, match=r"FracPic0kb - RUNkbMaxFact = -.* must exceed 0 for osteoblast "
                                                       r"elimination to stay positive"):
        configurations.model("default").parameter_vector(p)
