"""The composer refuses models that do not fit together, naming the problem."""

import numba
import pytest

from ckdmbd.model.composer import ModelDefinitionError, compose
from ckdmbd.model.framework import Process, State, Submodel, from_parameter


@numba.njit
def _source_rate(k):
    return (k,)


@numba.njit
def _sink_rate(x, k):
    return (k * x,)


@numba.njit
def _reads_unknown(x, nothing_here):
    return (x * nothing_here,)


MINERAL = State("x", "mmol", "a pool", from_parameter("x_0"), {"calcium": 1.0})


def _pool(process_boundary):
    return Submodel("pool", "", _sink_rate, ("loss",), (MINERAL,),
                    (Process("loss", "loss", {"x": -1.0}, "first-order loss", process_boundary),))


def test_missing_input_is_named():
    bad = Submodel("bad", "", _reads_unknown, ("y",), (MINERAL,), ())
    with pytest.raises(ModelDefinitionError, match="nothing_here"):
        compose("t1", [bad], ["x_0"])


def test_duplicate_output_is_named():
    a = Submodel("a", "", _source_rate, ("rate",), (), ())
    b = Submodel("b", "", _source_rate, ("rate",), (), ())
    with pytest.raises(ModelDefinitionError, match="'rate' is produced by both 'a' and 'b'"):
        compose("t2", [a, b], ["k"])


def test_process_that_destroys_calcium_without_boundary_is_refused():
    with pytest.raises(ModelDefinitionError, match="creates or destroys"):
        compose("t3", [_pool(None)], ["x_0", "k"])


def test_boundary_process_is_ledgered_and_balance_closes():
    import numpy as np

    from ckdmbd.solvers.rosenbrock import integrate_segment

    m = compose("t4", [_pool("urine")], ["x_0", "k"])
    assert [e.process for e in m.ledger] == ["loss"]
    p = m.parameter_vector({"x_0": 10.0, "k": 0.5})
    y0 = m.initial_state({"x_0": 10.0, "k": 0.5})
    t_out = np.linspace(0.0, 4.0, 5)
    y_out = np.zeros((5, m.n_states))
    n_dyn = len(m.states)  # the ledger states after them are quadratures
    status = integrate_segment(m.generated.rhs, 0.0, 4.0, y0, p, t_out, y_out, 0, 1e-8, 1e-12, 0.0, 10_000, n_dyn)[0]
    assert status == 0
    np.testing.assert_allclose(y_out[:, 0], 10.0 * np.exp(-0.5 * t_out), rtol=1e-6)
    content = m.body_content(y_out)["calcium"]
    net = m.net_boundary_input(y_out)["calcium"]
    np.testing.assert_allclose(content - content[0], net, atol=1e-9)
