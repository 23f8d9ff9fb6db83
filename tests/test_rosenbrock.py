"""Tests for the compiled RODAS integrator (ckdmbd.solvers.rosenbrock)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numba import njit
from scipy.integrate import solve_ivp

from ckdmbd.solvers import rosenbrock as rb

# ---------------------------------------------------------------------------
# right-hand sides (module level so that numba's cache can store them)
# ---------------------------------------------------------------------------


@njit(cache=True)
def decay_rhs(t: float, y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    dydt[0] = -p[0] * y[0]


@njit(cache=True)
def robertson_rhs(t: float, y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    r1 = 0.04 * y[0]
    r2 = 1.0e4 * y[1] * y[2]
    r3 = 3.0e7 * y[1] * y[1]
    dydt[0] = -r1 + r2
    dydt[1] = r1 - r2 - r3
    dydt[2] = r3


@njit(cache=True)
def vdp_rhs(t: float, y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    dydt[0] = y[1]
    dydt[1] = p[0] * (1.0 - y[0] * y[0]) * y[1] - y[0]


@njit(cache=True)
def smooth_rhs(t: float, y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    # forced Duffing oscillator + a driven linear component: nonlinear and
    # non-autonomous, so the df/dt terms of the method are exercised too
    dydt[0] = y[1]
    dydt[1] = -y[0] - p[0] * y[0] ** 3 + p[1] * np.cos(t)
    dydt[2] = -2.0 * y[2] + y[0] * y[1]


@njit(cache=True)
def robertson_ledger_rhs(t: float, y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    # Robertson + three quadratures (cumulative reaction extents): y[3:] enter no derivative
    r1 = 0.04 * y[0]
    r2 = 1.0e4 * y[1] * y[2]
    r3 = 3.0e7 * y[1] * y[1]
    dydt[0] = -r1 + r2
    dydt[1] = r1 - r2 - r3
    dydt[2] = r3
    dydt[3] = r1
    dydt[4] = r2
    dydt[5] = r3


@njit(cache=True)
def robertson_ledger_permuted_rhs(t: float, y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    # the same system with the quadratures stored first: y = (q1, q2, q3, y1, y2, y3)
    r1 = 0.04 * y[3]
    r2 = 1.0e4 * y[4] * y[5]
    r3 = 3.0e7 * y[4] * y[4]
    dydt[3] = -r1 + r2
    dydt[4] = r1 - r2 - r3
    dydt[5] = r3
    dydt[0] = r1
    dydt[1] = r2
    dydt[2] = r3


@njit(cache=True)
def forced_ledger_rhs(t: float, y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    # a stiff nonlinear pair with two non-autonomous quadratures, one of them
    # driven by the stiff flux (f_t and the quadrature Jacobian rows both matter)
    dydt[0] = -1.0e4 * y[0] + 1.0e4 * y[1] * y[1]
    dydt[1] = -0.5 * y[1] + 0.1 * y[0]
    dydt[2] = y[0] * y[0] + np.cos(t) * y[1]
    dydt[3] = 1.0e4 * (y[0] - y[1] * y[1]) + (1.0 + np.sin(t)) * y[0]


@njit(cache=True)
def forced_ledger_permuted_rhs(t: float, y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    # the same system with the quadratures stored first: y = (q2, q3, y0, y1)
    dydt[2] = -1.0e4 * y[2] + 1.0e4 * y[3] * y[3]
    dydt[3] = -0.5 * y[3] + 0.1 * y[2]
    dydt[0] = y[2] * y[2] + np.cos(t) * y[3]
    dydt[1] = 1.0e4 * (y[2] - y[3] * y[3]) + (1.0 + np.sin(t)) * y[2]


@njit(cache=True)
def nan_after_one_rhs(t: float, y: np.ndarray, p: np.ndarray, dydt: np.ndarray) -> None:
    if t > 1.0:
        for i in range(y.shape[0]):
            dydt[i] = np.nan
    else:
        for i in range(y.shape[0]):
            dydt[i] = -y[i]


def _smooth_py(t: float, y: np.ndarray) -> list[float]:
    return [y[1], -y[0] - 0.5 * y[0] ** 3 + 0.3 * np.cos(t), -2.0 * y[2] + y[0] * y[1]]


SMOOTH_P = np.array([0.5, 0.3])
SMOOTH_Y0 = np.array([1.0, 0.0, 0.5])


def _run(
    rhs: Any,
    t0: float,
    t1: float,
    y0: np.ndarray,
    p: np.ndarray,
    t_out: np.ndarray,
    rtol: float,
    atol: float,
    first_out: int = 0,
    h_init: float = 0.0,
    max_steps: int = 10**6,
    n_implicit: int = 0,
) -> tuple[tuple, np.ndarray]:
    y_out = np.full((t_out.size, y0.size), np.nan)
    res = rb.integrate_segment(rhs, t0, t1, y0, p, t_out, y_out, first_out, rtol, atol, h_init, max_steps, n_implicit)
    return res, y_out


# ---------------------------------------------------------------------------
# 0. coefficients: order conditions, consistency, L-stability
# ---------------------------------------------------------------------------


def _standard_form() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Back-transform (a_ij, c_ij, m_j) to (alpha, Gamma, b, b_hat) of HW IV.7."""
    g = rb.GAMMA
    gamma_inv = np.eye(6) / g - rb.RODAS_C
    big_gamma = np.linalg.inv(gamma_inv)
    alpha = rb.RODAS_A @ big_gamma
    b = rb.RODAS_M @ big_gamma
    b_hat = rb.RODAS_A[5] @ big_gamma  # embedded solution = stage-6 argument
    return alpha, big_gamma, b, b_hat


def _order_residuals(b: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Rosenbrock order conditions up to order 4 (beta = alpha + Gamma, diag incl.)."""
    e = np.ones(6)
    a_i = alpha @ e
    return np.array(
        [
            b @ e - 1.0,
            b @ beta @ e - 1.0 / 2.0,
            b @ a_i**2 - 1.0 / 3.0,
            b @ beta @ beta @ e - 1.0 / 6.0,
            b @ a_i**3 - 1.0 / 4.0,
            b @ (a_i * (alpha @ (beta @ e))) - 1.0 / 8.0,
            b @ beta @ a_i**2 - 1.0 / 12.0,
            b @ beta @ beta @ beta @ e - 1.0 / 24.0,
        ]
    )


def test_coefficients_satisfy_order_conditions() -> None:
    alpha, big_gamma, b, b_hat = _standard_form()
    beta = alpha + big_gamma
    res = _order_residuals(b, alpha, beta)
    assert np.max(np.abs(res)) < 1e-12, res
    res_hat = _order_residuals(b_hat, alpha, beta)
    assert np.max(np.abs(res_hat[:4])) < 1e-12, res_hat  # embedded: order 3
    assert np.max(np.abs(res_hat[4:])) > 1e-4  # ... and not 4 (a real estimate)
    # nodes and time-derivative weights are the row sums of alpha and Gamma
    np.testing.assert_allclose(alpha.sum(axis=1), rb.RODAS_C_NODES, atol=1e-12)
    np.testing.assert_allclose(big_gamma.sum(axis=1), rb.RODAS_D, atol=1e-12)
    np.testing.assert_allclose(np.diag(big_gamma), rb.GAMMA, atol=1e-15)
    # L-stability: R(z) = 1 + z b^T (I - z beta)^-1 1 -> 0 as z -> -inf
    for z in (-1e6, -1e10):
        r = 1.0 + z * b @ np.linalg.solve(np.eye(6) - z * beta, np.ones(6))
        assert abs(r) < 1e-4
    for z in (-0.5, -5.0, -50.0, -500.0, -3.0 + 40.0j):
        r = 1.0 + z * b @ np.linalg.solve(np.eye(6) - z * beta, np.ones(6))
        assert abs(r) <= 1.0


# ---------------------------------------------------------------------------
# 1. linear decay
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1e3, 1e-3])
@pytest.mark.parametrize("scale", [1.0, 1e6, 1e-6])  # state units must not matter
def test_linear_decay(k: float, scale: float) -> None:
    t1 = 8.0 / k
    t_out = np.linspace(0.0, t1, 33)
    y0 = np.array([2.0 * scale])
    (status, y_end, next_out, n_steps, n_rhs, h_last), y_out = _run(
        decay_rhs, 0.0, t1, y0, np.array([k]), t_out, 1e-10, 1e-16 * scale
    )
    assert status == 0
    assert next_out == t_out.size
    assert n_steps > 0 and n_rhs > n_steps and h_last > 0.0
    exact = 2.0 * scale * np.exp(-k * t_out)
    rel = np.abs(y_out[:, 0] - exact) / exact
    assert rel.max() < 1e-6, rel.max()
    assert abs(y_end[0] - exact[-1]) / exact[-1] < 1e-6
    assert y0[0] == 2.0 * scale  # input not modified


# ---------------------------------------------------------------------------
# 2. Robertson
# ---------------------------------------------------------------------------


def _robertson_py(t: float, y: np.ndarray) -> list[float]:
    r1, r2, r3 = 0.04 * y[0], 1.0e4 * y[1] * y[2], 3.0e7 * y[1] ** 2
    return [-r1 + r2, r1 - r2 - r3, r3]


def _robertson_jac(t: float, y: np.ndarray) -> np.ndarray:
    return np.array(
        [
            [-0.04, 1e4 * y[2], 1e4 * y[1]],
            [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
            [0.0, 6e7 * y[1], 0.0],
        ]
    )


def test_robertson() -> None:
    t_out = np.logspace(-5, 5, 20)
    y0 = np.array([1.0, 0.0, 0.0])
    (status, y_end, next_out, n_steps, _, _), y_out = _run(robertson_rhs, 0.0, 1e5, y0, np.zeros(1), t_out, 1e-8, 1e-18)
    assert status == 0 and next_out == t_out.size
    # Radau reference; atol tighter than 1e-14 so that y3 ~ 1e-11 at t = 1e-5
    # is itself resolved to better than 1e-4 relative.
    ref = solve_ivp(
        _robertson_py,
        (0.0, 1e5),
        y0,
        method="Radau",
        rtol=1e-10,
        atol=1e-20,
        t_eval=t_out,
        jac=_robertson_jac,
    )
    assert ref.success
    rel = np.abs(y_out - ref.y.T) / np.abs(ref.y.T)
    assert rel.max() < 1e-4, rel.max(axis=0)
    # linear invariant y1 + y2 + y3 = 1 is kept by Rosenbrock methods
    assert np.max(np.abs(y_out.sum(axis=1) - 1.0)) < 1e-9
    assert abs(y_end.sum() - 1.0) < 1e-9
    assert n_steps < 5000


# ---------------------------------------------------------------------------
# 3. Van der Pol, mu = 1000, one period
# ---------------------------------------------------------------------------


def test_van_der_pol_stiff() -> None:
    mu = 1000.0
    period = (3.0 - 2.0 * np.log(2.0)) * mu  # relaxation-oscillation period
    t_out = np.linspace(0.0, period, 41)
    y0 = np.array([2.0, 0.0])
    (status, _, next_out, _, _, _), y_out = _run(vdp_rhs, 0.0, period, y0, np.array([mu]), t_out, 1e-8, 1e-10)
    assert status == 0 and next_out == t_out.size

    def f(t: float, y: np.ndarray) -> list[float]:
        return [y[1], mu * (1.0 - y[0] ** 2) * y[1] - y[0]]

    def jac(t: float, y: np.ndarray) -> np.ndarray:
        return np.array([[0.0, 1.0], [-2.0 * mu * y[0] * y[1] - 1.0, mu * (1 - y[0] ** 2)]])

    ref = solve_ivp(
        f,
        (0.0, period),
        y0,
        method="Radau",
        rtol=1e-10,
        atol=1e-12,
        t_eval=t_out,
        jac=jac,
    )
    assert ref.success
    rel = np.abs(y_out - ref.y.T) / (np.abs(ref.y.T) + 1e-8)
    assert rel.max() < 1e-3, rel.max(axis=0)


# ---------------------------------------------------------------------------
# 4. observed order (fixed steps) of the solution and of the dense output
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smooth_reference() -> Any:
    return solve_ivp(
        _smooth_py,
        (0.0, 2.0),
        SMOOTH_Y0,
        method="DOP853",
        rtol=1e-13,
        atol=1e-15,
        dense_output=True,
    )


def test_observed_order(smooth_reference: Any) -> None:
    t1 = 2.0
    exact_end = smooth_reference.sol(t1)
    ns = np.array([8, 16, 32, 64])
    err_end = []
    err_dense = []
    for n in ns:
        h = t1 / n
        t_mid = (np.arange(n) + 0.37) * h  # same relative position in every step
        y_mid = np.zeros((n, 3))
        y_end = rb.integrate_fixed(smooth_rhs, 0.0, t1, SMOOTH_Y0, SMOOTH_P, int(n), t_mid, y_mid, 0)
        err_end.append(np.max(np.abs(y_end - exact_end)))
        err_dense.append(np.max(np.abs(y_mid - smooth_reference.sol(t_mid).T)))
    order = np.polyfit(np.log(ns), -np.log(err_end), 1)[0]
    assert abs(order - 4.0) < 0.5, (order, err_end)
    # dense output is of order 3 => local interpolation error O(h^4)
    order_dense = np.polyfit(np.log(ns), -np.log(err_dense), 1)[0]
    assert abs(order_dense - 4.0) < 0.5, (order_dense, err_dense)


def test_tolerance_proportionality(smooth_reference: Any) -> None:
    # adaptive run: error should follow the tolerance
    t_out = np.array([2.0])
    errs = []
    for tol in (1e-5, 1e-7, 1e-9):
        (status, _, _, _, _, _), y_out = _run(smooth_rhs, 0.0, 2.0, SMOOTH_Y0, SMOOTH_P, t_out, tol, tol)
        assert status == 0
        errs.append(np.max(np.abs(y_out[0] - smooth_reference.sol(2.0))))
    assert errs[2] < errs[1] < errs[0]
    assert errs[2] < 1e-7


# ---------------------------------------------------------------------------
# 5. dense output and segment bookkeeping
# ---------------------------------------------------------------------------


def test_dense_output_between_steps(smooth_reference: Any) -> None:
    t_out = np.linspace(0.0, 2.0, 401)
    (status, _, next_out, n_steps, _, _), y_out = _run(smooth_rhs, 0.0, 2.0, SMOOTH_Y0, SMOOTH_P, t_out, 1e-7, 1e-9)
    assert status == 0 and next_out == t_out.size
    # most outputs fall strictly inside steps; steps are long enough (h ~ 0.03)
    # that linear interpolation would be off by ~1e-4
    assert n_steps < t_out.size // 4
    err = np.abs(y_out - smooth_reference.sol(t_out).T)
    assert err.max() < 1e-6, err.max()
    np.testing.assert_array_equal(y_out[0], SMOOTH_Y0)


def test_segments_and_endpoint() -> None:
    k = 3.0
    p = np.array([k])
    y0 = np.array([1.0])
    t_out = np.array([0.0, 0.25, 1.0, 1.5, 2.0])
    y_out = np.full((t_out.size, 1), np.nan)
    st, y1, nxt, _, _, h1 = rb.integrate_segment(
        decay_rhs, 0.0, 1.0, y0, p, t_out, y_out, 0, 1e-10, 1e-14, 0.0, 10**5, 0
    )
    assert st == 0
    assert nxt == 2  # t_out[2] == t1 is not the last output: left for next segment
    assert np.isnan(y_out[2:]).all()
    # a discontinuity at t = 1: the state jumps (e.g. a dose)
    y1 = y1 + 1.0
    st, y2, nxt, _, _, _ = rb.integrate_segment(
        decay_rhs, 1.0, 2.0, y1, p, t_out, y_out, nxt, 1e-10, 1e-14, h1, 10**5, 0
    )
    assert st == 0
    assert nxt == t_out.size  # the final output, exactly at t1, is filled
    exact = np.exp(-k * t_out)
    exact[2:] += np.exp(-k * (t_out[2:] - 1.0))
    np.testing.assert_allclose(y_out[:, 0], exact, rtol=1e-7)
    assert y_out[4, 0] == y2[0]
    assert y_out[2, 0] == y1[0]  # output at the discontinuity: right limit


def test_solve_wrapper() -> None:
    t_eval = np.array([0.0, 0.5, 1.0])
    y = rb.solve(decay_rhs, (0.0, 1.0), np.array([1.0]), np.array([2.0]), t_eval)
    np.testing.assert_allclose(y[:, 0], np.exp(-2.0 * t_eval), rtol=1e-7)


# ---------------------------------------------------------------------------
# 6. quadrature states (n_implicit): same step, fewer rhs calls, smaller LU
# ---------------------------------------------------------------------------

ROB_T_OUT = np.concatenate([[0.0], np.logspace(-5, 5, 41)])
ROB_Y0 = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
ROB_PERM = [3, 4, 5, 0, 1, 2]  # robertson_ledger_permuted_rhs order <-> robertson_ledger_rhs order
FORCED_Y0 = np.array([1.0, 1.0, 0.0, 0.0])


def _robertson_ledger(n_implicit: int) -> tuple[tuple, np.ndarray]:
    return _run(robertson_ledger_rhs, 0.0, 1e5, ROB_Y0, np.zeros(1), ROB_T_OUT, 1e-8, 1e-14, n_implicit=n_implicit)


def _forced_py(t: float, y: np.ndarray) -> list[float]:
    return [
        -1.0e4 * y[0] + 1.0e4 * y[1] ** 2,
        -0.5 * y[1] + 0.1 * y[0],
        y[0] ** 2 + np.cos(t) * y[1],
        1.0e4 * (y[0] - y[1] ** 2) + (1.0 + np.sin(t)) * y[0],
    ]


def test_quadratures_all_implicit_aliases() -> None:
    # n_implicit <= 0 or >= n: the full-matrix method, bit for bit
    res_n, y_n = _robertson_ledger(6)
    for ni in (0, -1, 7):
        res, y = _robertson_ledger(ni)
        np.testing.assert_array_equal(y, y_n)
        np.testing.assert_array_equal(res[1], res_n[1])
        assert res[2:] == res_n[2:]


@pytest.mark.parametrize(
    ("rhs", "rhs_permuted", "y0", "n_dyn", "t1", "n_steps"),
    [
        (robertson_ledger_rhs, robertson_ledger_permuted_rhs, ROB_Y0, 3, 10.0, 20000),
        (forced_ledger_rhs, forced_ledger_permuted_rhs, FORCED_Y0, 2, 3.0, 300),
    ],
)
def test_quadratures_fixed_step_identical_to_rounding(
    rhs: Any, rhs_permuted: Any, y0: np.ndarray, n_dyn: int, t1: float, n_steps: int
) -> None:
    # The same steps taken with both forms of the linear algebra: the block
    # substitution solves the very same systems, so only rounding may differ.
    n = y0.size
    perm = list(range(n - n_dyn, n)) + list(range(n - n_dyn))  # permuted order <-> original order
    t_mid = (np.arange(n_steps) + 0.37) * (t1 / n_steps)  # dense output inside every step

    def fixed(f: Any, y_start: np.ndarray, n_implicit: int) -> tuple[np.ndarray, np.ndarray]:
        y_mid = np.zeros((n_steps, n))
        y_end = rb.integrate_fixed(f, 0.0, t1, y_start, np.zeros(1), n_steps, t_mid, y_mid, n_implicit)
        return y_end, y_mid

    end_split, y_split = fixed(rhs, y0, n_dyn)
    _, y_full = fixed(rhs, y0, 0)
    # the full-matrix method with the quadratures stored first: partial pivoting
    # cannot pick a quadrature row, so its elimination of the dynamic block is
    # the same arithmetic as the split method's -- dynamic states agree bit for bit
    end_perm, y_perm = fixed(rhs_permuted, y0[perm], 0)
    end_perm, y_perm = end_perm[np.argsort(perm)], y_perm[:, np.argsort(perm)]
    assert np.isfinite(y_full).all() and np.abs(y_full[:, n_dyn:]).min(axis=0).max() > 0.0
    np.testing.assert_array_equal(y_split[:, :n_dyn], y_perm[:, :n_dyn])
    np.testing.assert_allclose(y_split, y_perm, rtol=1e-13, atol=0.0)
    np.testing.assert_allclose(end_split, end_perm, rtol=1e-13, atol=0.0)
    # In the original order the full LU may pivot on a quadrature row (it does
    # in the forced problem), which only changes its rounding: the split
    # method is no further from it than its own reordered twin.
    scale = np.abs(y_full).max(axis=0)
    d_split = (np.abs(y_split - y_full) / scale).max()
    d_perm = (np.abs(y_perm - y_full) / scale).max()
    assert d_split <= 1.01 * d_perm + 1e-13, (d_split, d_perm)
    assert d_split < 1e-8


def test_quadratures_match_full_matrix_adaptive() -> None:
    (st_f, yend_f, nxt_f, ns_f, nr_f, _), y_f = _robertson_ledger(6)
    (st_s, yend_s, nxt_s, ns_s, nr_s, _), y_s = _robertson_ledger(3)
    assert st_f == st_s == 0 and nxt_f == nxt_s == ROB_T_OUT.size
    # the same steps ...
    assert ns_s == ns_f and ns_f > 100
    # ... with one Jacobian per accepted step, each 3 rhs calls cheaper
    assert nr_f - nr_s == 3 * ns_f
    # Within 1e-10 relative to each component's magnitude over the run.  The
    # one exception is the fast intermediate y2 (peak 4e-5, ~1e-7 at the end):
    # rounding-level differences in the quadratures shift the step sizes by
    # ulps, which the error control and the finite-difference Jacobian amplify
    # to ~1e-9 in y2 -- exactly as much as the full-matrix method differs from
    # itself when merely the storage order of the states is changed:
    scale = np.abs(y_f).max(axis=0)
    rel = (np.abs(y_s - y_f) / scale).max(axis=0)
    assert rel[[0, 2, 3, 4, 5]].max() < 1e-10, rel
    np.testing.assert_allclose(yend_s, yend_f, rtol=1e-10)
    (st_p, _, _, ns_p, _, _), y_p = _run(
        robertson_ledger_permuted_rhs, 0.0, 1e5, ROB_Y0[ROB_PERM], np.zeros(1), ROB_T_OUT, 1e-8, 1e-14
    )
    assert st_p == 0 and ns_p == ns_f
    y_p = y_p[:, ROB_PERM]
    rel_p = (np.abs(y_p - y_f) / scale).max(axis=0)
    assert rel[1] <= 10.0 * rel_p[1] and rel[1] < 1e-8, (rel, rel_p)


def test_quadratures_conservation() -> None:
    (status, y_end, _, _, _, _), y = _robertson_ledger(3)
    assert status == 0
    y = np.vstack([y, y_end])
    assert y[-1, 3] > 100.0  # the extents grow far beyond the concentrations
    # every concentration is its start value plus the net reaction extents
    np.testing.assert_allclose(y[:, 0], 1.0 - y[:, 3] + y[:, 4], rtol=0.0, atol=1e-12)
    np.testing.assert_allclose(y[:, 1], y[:, 3] - y[:, 4] - y[:, 5], rtol=0.0, atol=1e-12)
    np.testing.assert_allclose(y[:, 2], y[:, 5], rtol=0.0, atol=1e-12)
    np.testing.assert_allclose(y[:, :3].sum(axis=1), 1.0, rtol=0.0, atol=1e-12)


def test_quadratures_nonautonomous_accuracy() -> None:
    # non-autonomous, stiffly driven quadratures (f_t and J_qd both matter):
    # adaptive run against a Radau reference, dense output between steps
    t_out = np.linspace(0.0, 3.0, 301)
    (st_f, _, _, ns_f, nr_f, _), _y_f = _run(forced_ledger_rhs, 0.0, 3.0, FORCED_Y0, np.zeros(1), t_out, 1e-8, 1e-10)
    (st_s, _, nxt, ns_s, nr_s, _), y_s = _run(
        forced_ledger_rhs, 0.0, 3.0, FORCED_Y0, np.zeros(1), t_out, 1e-8, 1e-10, n_implicit=2
    )
    assert st_f == st_s == 0 and nxt == t_out.size
    assert nr_f - nr_s == 2 * ns_f and ns_s == ns_f

    def jac(t: float, y: np.ndarray) -> np.ndarray:
        return np.array(
            [
                [-1.0e4, 2.0e4 * y[1], 0.0, 0.0],
                [0.1, -0.5, 0.0, 0.0],
                [2.0 * y[0], np.cos(t), 0.0, 0.0],
                [1.0e4 + 1.0 + np.sin(t), -2.0e4 * y[1], 0.0, 0.0],
            ]
        )

    ref = solve_ivp(_forced_py, (0.0, 3.0), FORCED_Y0, method="Radau", rtol=1e-12, atol=1e-14, t_eval=t_out, jac=jac)
    assert ref.success
    err = np.abs(y_s - ref.y.T) / np.abs(ref.y.T).max(axis=0)
    assert err.max() < 1e-6, err.max(axis=0)


def test_solve_wrapper_quadratures() -> None:
    y_split = rb.solve(robertson_ledger_rhs, (0.0, 1e5), ROB_Y0, np.zeros(1), ROB_T_OUT, 1e-8, 1e-14, n_implicit=3)
    _, y_seg = _robertson_ledger(3)
    np.testing.assert_array_equal(y_split, y_seg)


# ---------------------------------------------------------------------------
# 7. failures are returned as status codes
# ---------------------------------------------------------------------------


def test_nan_rhs_returns_status() -> None:
    t_out = np.array([0.5, 0.9, 1.5, 2.0])
    (status, y_end, next_out, _, _, _), y_out = _run(
        nan_after_one_rhs,
        0.0,
        2.0,
        np.array([1.0, 2.0]),
        np.zeros(1),
        t_out,
        1e-8,
        1e-10,
    )
    assert status in (2, 3)
    assert next_out == 2  # outputs before t = 1 were filled
    np.testing.assert_allclose(y_out[:2, 0], np.exp(-t_out[:2]), rtol=1e-6)
    assert np.isfinite(y_end).all()
    np.testing.assert_allclose(y_end[0], np.exp(-1.0), rtol=1e-5)  # stopped at t ~ 1
    with pytest.raises(RuntimeError, match="status"):
        rb.solve(nan_after_one_rhs, (0.0, 2.0), np.array([1.0]), np.zeros(1), t_out)


def test_max_steps_returns_status() -> None:
    t_out = np.array([1e5])
    (status, _, next_out, n_steps, _, _), _ = _run(
        robertson_rhs,
        0.0,
        1e5,
        np.array([1.0, 0.0, 0.0]),
        np.zeros(1),
        t_out,
        1e-8,
        1e-12,
        max_steps=20,
    )
    assert status == 1
    assert next_out == 0
    assert n_steps <= 20
