"""The solver's fixed-order sparse LU (ckdmbd.solvers.sparse_lu, rosenbrock._splu_factor): the symbolic fill holds
every entry the numeric factorisation writes, its solves equal LAPACK's partial-pivoting ones on iteration matrices
taken along real runs, whole runs with the sparse and the dense LU agree, and a matrix that needs pivoting falls
back to the dense LU with the dense result."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ckdmbd.model.configurations import model as build_model
from ckdmbd.protocol import TeriparatideDoses
from ckdmbd.scenario import load_scenario, run_scenario
from ckdmbd.simulation import SolverOptions, simulate
from ckdmbd.solvers import rosenbrock as rb
from ckdmbd.solvers.sparse_lu import NO_PLAN, symbolic_fill, symbolic_lu

OBSERVED = ("ca_mM", "phosphate_mM", "pth_pM", "calcitriol_pM")
RTOL, ATOL = SolverOptions().rtol, SolverOptions().atol


def _dialysis_month(lu: str):
    """The adherent haemodialysis scenario (its 5-year history included) cut to 28 days."""
    sc = dataclasses.replace(load_scenario("hemodialysis-adherent"), duration_h=28 * 24.0)
    return run_scenario(sc, solver=SolverOptions(specialised=True, lu=lu))


def _reference_course(lu: str, specialised: bool = True):
    return simulate("reference", 60 * 24.0, [TeriparatideDoses(12.0, 20.0, 24.0, 30)], output_interval_h=6.0,
                    solver=SolverOptions(specialised=specialised, lu=lu))


RUNS = {"default": _dialysis_month, "reference": _reference_course}


def _work(ni: int):
    return (np.empty((ni, ni)), np.empty(ni, dtype=np.int64), np.empty(ni + 1, dtype=np.int64),
            np.empty(ni * ni, dtype=np.int64), np.empty(ni + 1, dtype=np.int64), np.empty(ni * ni, dtype=np.int64))


def _solve(jac, fac, plan, w, b):
    """(kind, x) from the solver's own factor and solve (kind 0: sparse LU, 1: dense fallback)."""
    ni = jac.shape[1]
    e, piv, lptr, lidx, uptr, uidx = _work(ni)
    kind = rb._factor_iteration(jac, fac, e, piv, plan, w, lptr, lidx, uptr, uidx)
    x = b.copy()
    if kind >= 0:
        rb._solve_iteration(kind, e, piv, x, plan, np.empty(ni), lptr, lidx, uptr, uidx)
    return kind, x


@pytest.mark.parametrize("configuration", ("reference", "corrected", "default"))
def test_the_symbolic_fill_holds_the_numeric_factors(configuration):
    m = build_model(configuration)
    ni = len(m.states)
    lu = m.sparse_lu
    pattern = m.jacobian.pattern[:ni]
    e_pattern = pattern | np.eye(ni, dtype=bool)
    assert sorted(lu.perm.tolist()) == list(range(ni))
    permuted = e_pattern[np.ix_(lu.perm, lu.perm)]
    assert np.all(lu.fill[permuted])  # the fill contains E's pattern
    assert lu.nnz_factors <= lu.fills["natural"] and lu.nnz_factors == min(lu.fills.values())
    assert lu.nnz_factors < 0.25 * ni * ni  # worth it: the default model's 52 x 52 has 329 of 2,704 entries
    # a random matrix on the pattern, diagonally dominant so that no pivoting is needed: Gaussian elimination in
    # the plan's order writes nonzeros only inside the fill, and the plan's factors solve it
    rng = np.random.default_rng(3)
    jac = np.where(pattern, rng.uniform(-1.0, 1.0, pattern.shape), 0.0)
    fac = 2.0 * ni
    a = (fac * np.eye(ni) - jac)[np.ix_(lu.perm, lu.perm)]
    for k in range(ni):
        a[k + 1:, k] /= a[k, k]
        a[k + 1:, k + 1:] -= np.outer(a[k + 1:, k], a[k, k + 1:])
    assert not np.any(a[~lu.fill] != 0.0)
    fill_again, flops = symbolic_fill(permuted)
    assert np.array_equal(fill_again, lu.fill) and flops == lu.flops
    b = rng.standard_normal(ni)
    kind, x = _solve(jac, fac, lu.plan, np.ones(ni), b)
    assert kind == 0
    np.testing.assert_allclose(x, np.linalg.solve(fac * np.eye(ni) - jac, b), rtol=1e-13, atol=0)


@pytest.mark.parametrize("configuration", ("default", "reference"))
def test_sparse_solves_equal_dense_ones_on_iteration_matrices_along_a_run(configuration):
    """Iteration matrices E = I/(h gamma) - J at states along a real run (the analytic Jacobian), for steps of
    1e-3 h to 1e3 h: each one the sparse LU accepts is solved as LAPACK solves it, to 1e-12 relative, and steps up
    to 0.1 h (where E's diagonal dominates) never fall back."""
    m = build_model(configuration)
    ni, n = len(m.states), m.n_states
    r = RUNS[configuration]("sparse")
    assert r.ok
    seg = np.searchsorted(r.segment_starts_h, r.t_h, side="right") - 1
    rng = np.random.default_rng(5)
    picks = np.unique(np.linspace(0, len(r.t_h) - 1, 25).astype(int))
    kinds = []
    for i in picks:
        t, y, p = float(r.t_h[i]), r.y[i].copy(), r.segment_parameters[seg[i]]
        jac, fx = np.zeros((n, ni)), np.zeros(n)
        assert m.generated._analytic_jacobian(t, y, p, jac, fx)
        w = ATOL + RTOL * np.abs(y[:ni])
        for h in np.logspace(-3.0, 3.0, 7):
            fac = 1.0 / (h * rb.GAMMA)
            b = rng.standard_normal(n)
            kind, x = _solve(jac, fac, m.sparse_lu.plan, w, b)
            dense = np.linalg.solve(fac * np.eye(ni) - jac[:ni, :ni], b[:ni])
            assert kind in (0, 1)
            assert np.linalg.norm(x[:ni] - dense) <= 1e-12 * np.linalg.norm(dense), (t, h, kind)
            np.testing.assert_array_equal(x[ni:], b[ni:])  # quadrature rows are the caller's
            if h <= 0.1:
                assert kind == 0, (t, h)
            kinds.append(kind)
    assert kinds.count(0) > len(kinds) // 2


@pytest.mark.parametrize("configuration", ("default", "reference"))
def test_runs_with_sparse_and_dense_lu_agree(configuration):
    sparse, dense = RUNS[configuration]("sparse"), RUNS[configuration]("dense")
    assert sparse.ok and dense.ok
    assert abs(sparse.n_steps - dense.n_steps) <= 0.01 * dense.n_steps
    os_, od = sparse.outputs(), dense.outputs()
    for name in OBSERVED:
        np.testing.assert_allclose(os_[name].to_numpy(), od[name].to_numpy(), rtol=1e-8, atol=0, err_msg=name)


def test_the_shared_solver_takes_the_sparse_lu_as_well():
    """The shared solver (rhs through a function pointer, coloured differences) with the sparse LU gives the run of
    the model's own solver with coloured differences bit for bit (the automatic switch between them relies on it),
    and the dense LU's run to the run's tolerance: with finite-difference Jacobians a rounding-level change of the
    solves can flip one step-size decision (measured 5e-8 relative on this course)."""
    def run(lu, specialised, jacobian="coloured"):
        return simulate("reference", 60 * 24.0, [TeriparatideDoses(12.0, 20.0, 24.0, 30)], output_interval_h=6.0,
                        solver=SolverOptions(specialised=specialised, lu=lu, jacobian=jacobian))

    shared = run("sparse", False)
    np.testing.assert_array_equal(shared.y, run("sparse", True).y)
    dense = run("dense", False)
    for name in OBSERVED:
        np.testing.assert_allclose(shared.outputs()[name].to_numpy(), dense.outputs()[name].to_numpy(),
                                   rtol=RTOL, atol=0, err_msg=name)


def _needs_pivoting():
    """J on a full 3 x 3 pattern with fac = 1 such that E = I - J has a zero first and a tiny second pivot in any
    order that keeps the diagonal: E = [[0, 1, 1], [1, 1e-14, 1], [1, 1, 1e-14]] (well conditioned)."""
    e = np.array([[0.0, 1.0, 1.0], [1.0, 1e-14, 1.0], [1.0, 1.0, 1e-14]])
    return np.eye(3) - e, 1.0, e


def test_a_matrix_that_needs_pivoting_falls_back_to_the_dense_lu():
    jac, fac, e = _needs_pivoting()
    lu = symbolic_lu(np.ones((3, 3), dtype=bool))
    b = np.array([1.0, 2.0, 3.0])
    assert not rb._splu_factor(jac, fac, np.empty((3, 3)), lu.plan, np.ones(3))
    kind, x = _solve(jac, fac, lu.plan, np.ones(3), b)
    assert kind == 1
    np.testing.assert_allclose(x, np.linalg.solve(e, b), rtol=1e-14)
    kind_dense, x_dense = _solve(jac, fac, NO_PLAN, np.ones(3), b)  # the dense option: the same numbers
    assert kind_dense == 1 and np.array_equal(x, x_dense)


def test_a_pivot_small_only_against_its_scaled_column_falls_back():
    """E = [[1, 1e-6], [1e4, 1]]: the pivot 1 against the column entry 1e4 is refused with equal weights
    (1 < 0.001 * 1e4) and accepted when state 1's weight is 1e3 times state 0's (the scaled entry is 10): the test
    reads the matrix in the solver's error weights."""
    e = np.array([[1.0, 1e-6], [1e4, 1.0]])
    jac = np.eye(2) - e
    lu = symbolic_lu(np.ones((2, 2), dtype=bool))
    b = np.array([1.0, -1.0])
    kind, x = _solve(jac, 1.0, lu.plan, np.array([1.0, 1e3]), b)
    assert kind == 0
    np.testing.assert_allclose(x, np.linalg.solve(e, b), rtol=1e-13)
    kind, x = _solve(jac, 1.0, lu.plan, np.ones(2), b)
    assert kind == 1
    np.testing.assert_allclose(x, np.linalg.solve(e, b), rtol=1e-13)


def test_a_singular_or_nan_matrix_is_reported_singular():
    jac = np.eye(2) - np.array([[1.0, 1.0], [1.0, 1.0]])
    lu = symbolic_lu(np.ones((2, 2), dtype=bool))
    assert _solve(jac, 1.0, lu.plan, np.ones(2), np.ones(2))[0] == -1
    jac[0, 1] = np.nan
    assert _solve(jac, 1.0, lu.plan, np.ones(2), np.ones(2))[0] == -1


def test_solver_options_validate_the_lu():
    assert SolverOptions().lu == "sparse"
    with pytest.raises(ValueError, match="lu"):
        SolverOptions(lu="banded")
