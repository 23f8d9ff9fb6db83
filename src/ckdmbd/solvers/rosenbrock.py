"""Compiled stiff integrator: the L-stable Rosenbrock method RODAS (order 4(3)).

Why this integrator exists
--------------------------
A patient simulation is a stiff ODE system (fast mineral/hormone kinetics next to
slow bone and renal remodelling) that is cut into many short segments by
discontinuities: drug doses, dialysis sessions, diet changes.  Multistep codes
(BDF, LSODA) pay heavily for each restart, because their history must be rebuilt
at low order with tiny steps.  A one-step Rosenbrock method has no history: it
restarts at full order, taking the previous segment's last step size as a warm
start, so a discontinuity costs almost nothing.  Rosenbrock methods are
linearly implicit (one LU factorisation per step, no Newton iteration), which
makes them robust and cheap for the 20-60 states of the model, and compiling
the whole loop with numba (no Python callbacks) lets many patients run fast.

Method
------
RODAS of Hairer & Wanner, "Solving Ordinary Differential Equations II",
2nd ed., Springer 1996, Sect. IV.7 (the code RODAS, coefficient set 1; also
known as "Rodas4"): six stages, order 4, embedded order 3 error estimate,
stiffly accurate and L-stable, with a continuous (dense) output of order 3.
It is written in the transformed variables U_i of HW (7.6'-7.7):

    (1/(h*gamma) I - J) U_i = f(t + c_i h, y + sum_j a_ij U_j)
                              + sum_j (c_ij / h) U_j + h d_i f_t(t, y)
    y_new = y + sum_j m_j U_j,  err = U_6.

Jacobian J and f_t are computed by forward finite differences at the start
of every step; E = 1/(h*gamma) I - J is LU factorised once per step attempt
and reused for all six stages.  With a known sparsity pattern
(integrate_segment_coloured; ckdmbd.model.sparsity) the columns are
differenced in colour groups, one rhs call per group, and the stage solves
read only the factor's nonzeros.  With a sparse-LU plan for that pattern
(ckdmbd.solvers.sparse_lu: a fill-reducing order and the fill of L and U,
computed once per model) E is factored on the fill only, in that fixed order
(_splu_factor); a step whose pivot fails a threshold test against its
column, in the error weights' scaling, is factored by the dense LU with
partial pivoting instead (_factor_iteration).

Quadrature states
-----------------
A caller may declare the trailing states y[n_implicit:] to be quadratures
(cumulative "ledger" integrals such as mmol excreted so far): their
derivatives may depend on every state, but no derivative depends on them, so
their Jacobian columns are zero.  Splitting y = (y_d, y_q) with
d = 0..n_implicit-1, J = [[J_dd, 0], [J_qd, 0]] and the iteration matrix is
block lower triangular:

    E = [[1/(h*gamma) I - J_dd, 0], [-J_qd, 1/(h*gamma) I]].

Each stage right-hand side b_i = (b_d, b_q) is then solved as

    (1/(h*gamma) I - J_dd) U_d = b_d              (LU of the small block only)
    U_q = h*gamma * (b_q + J_qd U_d)              (substitution, no solve)

which is the same linear system, so the step is the same to rounding.  Only
the n_implicit dynamic columns are finite-differenced (the J_qd rows are still
formed from those perturbations), saving n - n_implicit rhs calls per step and
most of the O(n^3) factorisation.  Error control and dense output still run
over all n states.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numba import njit, prange, types
from numpy.typing import ArrayLike

__all__ = ["fd_jacobian", "integrate_fixed", "integrate_segment", "integrate_segment_coloured", "solve"]

# ---------------------------------------------------------------------------
# RODAS coefficients (method 1 of the RODAS code).
# Source: E. Hairer, G. Wanner, Solving Ordinary Differential Equations II,
# 2nd ed. (1996), Sect. IV.7, and the coefficient routine of their Fortran
# code RODAS (ROCOE, METH=1).  The numbers are verified in
# tests/test_rosenbrock.py: all 8 order-4 conditions of the main method and
# the 4 order-3 conditions of the embedded one hold to ~1e-15, c_i and d_i are
# the row sums of alpha and Gamma, and R(z) -> 0 as z -> -inf (L-stable).
# ---------------------------------------------------------------------------
GAMMA = 0.25
# nodes c_i (stage times t + c_i h)
RODAS_C_NODES = np.array([0.0, 0.386, 0.21, 0.63, 1.0, 1.0])
# d_i = gamma_i (coefficients of h * df/dt); zero for the last two stages
RODAS_D = np.array([0.25, -0.1043, 0.1035, -0.03620000000000023, 0.0, 0.0])
# a_ij (stage arguments y + sum_j a_ij U_j); row 6 = embedded solution weights
RODAS_A = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [1.544, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.9466785280815826, 0.2557011698983284, 0.0, 0.0, 0.0, 0.0],
        [3.314825187068521, 2.896124015972201, 0.9986419139977817, 0.0, 0.0, 0.0],
        [
            1.221224509226641,
            6.019134481288629,
            12.53708332932087,
            -0.6878860361058950,
            0.0,
            0.0,
        ],
        [
            1.221224509226641,
            6.019134481288629,
            12.53708332932087,
            -0.6878860361058950,
            1.0,
            0.0,
        ],
    ]
)
# c_ij (coefficients of U_j / h on the right-hand side of stage i)
RODAS_C = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [-5.6688, 0.0, 0.0, 0.0, 0.0, 0.0],
        [-2.430093356833875, -0.2063599157091915, 0.0, 0.0, 0.0, 0.0],
        [-0.1073529058151375, -9.594562251023355, -20.47028614809616, 0.0, 0.0, 0.0],
        [
            7.496443313967647,
            -10.24680431464352,
            -33.99990352819905,
            11.70890893206160,
            0.0,
            0.0,
        ],
        [
            8.083246795921522,
            -7.981132988064893,
            -31.52159432874371,
            16.31930543123136,
            -6.058818238834054,
            0.0,
        ],
    ]
)
# solution weights m_j (stiffly accurate: y_new = stage-6 argument + U_6)
RODAS_M = np.array(
    [
        1.221224509226641,
        6.019134481288629,
        12.53708332932087,
        -0.6878860361058950,
        1.0,
        1.0,
    ]
)
# dense output: y(t + s h) = (1-s) y0 + s (y1 + (1-s) (Q2 + s Q3)),
# Q2 = sum_j D2_j U_j, Q3 = sum_j D3_j U_j (j = 1..5)
RODAS_D2 = np.array(
    [
        10.12623508344586,
        -7.487995877610167,
        -34.80091861555747,
        -7.992771707568823,
        1.025137723295662,
    ]
)
RODAS_D3 = np.array(
    [
        -0.6762803392801253,
        6.087714651680015,
        16.43084320892478,
        24.76722511418386,
        -6.594389125716872,
    ]
)

_NSTAGE = 6
_EPS = 2.220446049250313e-16
_SQRT_EPS = 1.4901161193847656e-08
_DELTA_FLOOR = 4.712160915387242e-11  # sqrt(eps * 1e-5)
_SAFE = 0.9
_FAC_MIN = 0.2  # hnew / h >= 0.2
_FAC_MAX = 6.0  # hnew / h <= 6
_SHRINK_BAD = 0.25  # step shrink after non-finite stage values / singular matrix
# At a restart the step is min(previous step, _RESTART_CAP * starting-step estimate): the estimate (an explicit
# Euler probe with HNW's 0.01 safety) is conservative for this stiff method.  Measured on a dialysis patient-year
# (313 restarts): cap 1 -> 98 rejected steps but 5 % more steps; 10 -> fewest rhs calls at rtol 1e-4 and 1e-6;
# 30-100 -> the rejections return (~1,000); no cap -> 1,166 rejections, 64 % of them right after a restart.
_RESTART_CAP = 10.0
# A rejected first step after a restart (a segment that starts from the previous one's step) is cut as if the
# error grew as h^3, not h^4 (and by up to 1000x, not 5x): the
# step of a session start or end is in the method's stiff regime, where the error estimate falls by order
# reduction more slowly than the asymptotic h^4.  Measured over a dialysis patient-year at rtol 1e-6 (first attempt
# h ~ 0.14 h, error norm ~12; at h/2 ~1.7, i.e. ~h^2.7): with h^4 two rejections at nearly every restart (683 in
# all), with h^3 one (398), the same 7,111 accepted steps and the same error against a tight run.
_FIRST_ORDER = 3.0
_FAC_MIN_FIRST = 1e-3

STATUS_OK = 0
STATUS_MAX_STEPS = 1
STATUS_H_UNDERFLOW = 2
STATUS_NONFINITE = 3
_STATUS_NAMES = {
    STATUS_OK: "success",
    STATUS_MAX_STEPS: "max_steps exceeded",
    STATUS_H_UNDERFLOW: "step size underflow",
    STATUS_NONFINITE: "non-finite values in rhs/state",
}


# ---------------------------------------------------------------------------
# numba types of the public entry points
# ---------------------------------------------------------------------------
_F8 = types.float64
_I8 = types.int64
_VEC_C = types.Array(_F8, 1, "C")
_VEC_A = types.Array(_F8, 1, "A")
_MAT_A = types.Array(_F8, 2, "A")
#: signature every rhs is compiled for: rhs(t, y, p, dydt) -> None
RHS_SIGNATURE = types.void(_F8, _VEC_C, _VEC_C, _VEC_C)
#: first-class function type of rhs.  The public drivers are compiled eagerly for
#: it, so ONE machine-code version (cached on disk) serves every model rhs; a
#: jitted rhs passed from Python or from nopython code is converted
#: automatically.  (Specialising on each rhs's dispatcher type instead would
#: defeat numba's on-disk cache: that type is not stable across processes, so
#: every new process would recompile and append another cache entry.)
RHS_TYPE = types.FunctionType(RHS_SIGNATURE)
_SEGMENT_SIGNATURE = types.Tuple((_I8, _VEC_C, _I8, _I8, _I8, _F8))(
    RHS_TYPE, _F8, _F8, _VEC_A, _VEC_A, _VEC_A, _MAT_A, _I8, _F8, _F8, _F8, _I8, _I8
)
_IVEC_A = types.Array(_I8, 1, "A")
_COLOURED_SIGNATURE = types.Tuple((_I8, _VEC_C, _I8, _I8, _I8, _F8, _I8))(
    RHS_TYPE, _F8, _F8, _VEC_A, _VEC_A, _VEC_A, _MAT_A, _I8, _F8, _F8, _F8, _I8, _I8,
    _IVEC_A, _IVEC_A, _IVEC_A, _IVEC_A, types.boolean, types.boolean, _IVEC_A,
)
_FIXED_SIGNATURE = _VEC_C(RHS_TYPE, _F8, _F8, _VEC_A, _VEC_A, _I8, _VEC_A, _MAT_A, _I8)


# ---------------------------------------------------------------------------
# small dense linear algebra
# ---------------------------------------------------------------------------
@njit(cache=True)
def _lu_factor(a: np.ndarray, piv: np.ndarray) -> bool:
    """In-place LU with partial pivoting (row-major, Doolittle). False if singular/NaN."""
    n = a.shape[0]
    cols = np.empty(n, dtype=np.int64)
    for k in range(n):
        p = k
        amax = abs(a[k, k])
        for i in range(k + 1, n):
            v = abs(a[i, k])
            if v > amax:
                amax = v
                p = i
        piv[k] = p
        if not (amax > 0.0) or amax == np.inf:  # zero pivot or NaN/inf
            return False
        if p != k:
            for j in range(n):
                tmp = a[k, j]
                a[k, j] = a[p, j]
                a[p, j] = tmp
        inv = 1.0 / a[k, k]
        # the pivot row's nonzeros right of the diagonal: a sparse iteration matrix has few, and an update
        # a[i, j] -= lik * 0 changes nothing
        m = 0
        for j in range(k + 1, n):
            if a[k, j] != 0.0:
                cols[m] = j
                m += 1
        for i in range(k + 1, n):
            lik = a[i, k] * inv
            a[i, k] = lik
            if lik != 0.0:
                for c in range(m):
                    j = cols[c]
                    a[i, j] -= lik * a[k, j]
    return True


@njit(cache=True)
def _lu_solve(lu: np.ndarray, piv: np.ndarray, b: np.ndarray) -> None:
    """Solve (LU) x = P b in place in b."""
    n = lu.shape[0]
    for k in range(n):
        p = piv[k]
        if p != k:
            tmp = b[k]
            b[k] = b[p]
            b[p] = tmp
    for i in range(1, n):
        s = b[i]
        for j in range(i):
            s -= lu[i, j] * b[j]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, n):
            s -= lu[i, j] * b[j]
        b[i] = s / lu[i, i]


@njit(cache=True)
def _lu_nonzeros(lu: np.ndarray, lptr: np.ndarray, lidx: np.ndarray, uptr: np.ndarray, uidx: np.ndarray) -> None:
    """Index lists of the nonzero multipliers (L, left of the diagonal) and of U (right of it), row by row, of a
    factorised matrix: the iteration matrix of a sparse Jacobian stays sparse after pivoting, so the six stage
    solves of a step read those entries only (_lu_solve_sparse) instead of the whole square."""
    n = lu.shape[0]
    ml = 0
    mu = 0
    for i in range(n):
        lptr[i] = ml
        uptr[i] = mu
        for j in range(i):
            if lu[i, j] != 0.0:
                lidx[ml] = j
                ml += 1
        for j in range(i + 1, n):
            if lu[i, j] != 0.0:
                uidx[mu] = j
                mu += 1
    lptr[n] = ml
    uptr[n] = mu


@njit(cache=True)
def _lu_solve_sparse(
    lu: np.ndarray, piv: np.ndarray, b: np.ndarray, lptr: np.ndarray, lidx: np.ndarray, uptr: np.ndarray,
    uidx: np.ndarray,
) -> None:
    """_lu_solve reading only the nonzeros listed by _lu_nonzeros (the skipped terms are exact zeros)."""
    n = lu.shape[0]
    for k in range(n):
        p = piv[k]
        if p != k:
            tmp = b[k]
            b[k] = b[p]
            b[p] = tmp
    for i in range(1, n):
        s = b[i]
        for m in range(lptr[i], lptr[i + 1]):
            j = lidx[m]
            s -= lu[i, j] * b[j]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for m in range(uptr[i], uptr[i + 1]):
            j = uidx[m]
            s -= lu[i, j] * b[j]
        b[i] = s / lu[i, i]


# Threshold partial pivoting (Duff, Erisman & Reid, "Direct Methods for Sparse Matrices", 2nd ed. 2017, Sect. 5.4):
# a fixed-order (diagonal) pivot is accepted when |a_kk| >= u max_{i>k} |a_ik| in the partly eliminated column,
# which bounds every multiplier of L by 1/u; a step whose pivot fails it is factored by the dense LU with partial
# pivoting (u = 1) instead.  u = 0.001 is UMFPACK's default tolerance for keeping a diagonal pivot in its
# symmetric strategy (Davis 2004, ACM TOMS 30:165 and 30:196, Control[UMFPACK_SYM_PIVOT_TOLERANCE]).  The test is
# made on the matrix scaled by the solver's error weights w_i = atol + rtol |y_i| (entry a_ik read as
# a_ik w_k / w_i): the states have arbitrary units (osteoblasts ~1e-3 pM next to OPG ~4 pM) and elimination
# without pivoting is invariant under that diagonal similarity; unscaled, the test refused 161 of 207 iteration
# matrices along a dialysis fortnight (h 1e-5..1e3 h), all of them well conditioned once scaled.  Measured on
# the same fortnight's states at h = 1e-3..1e3 h (299 matrices, tests/test_sparse_lu.py takes such matrices):
# u = 0.1 accepts 138, u = 0.01 184, u = 0.001 230, u = 0 all; the accepted solves agree with LAPACK's
# partial-pivoting ones to <= 3e-14 relative at every u > 0 (1.4e-13 at u = 0).
_PIVOT_THRESHOLD = 0.001


@njit(cache=True)
def _plan_part(plan: np.ndarray, k: int) -> np.ndarray:
    """Part k of a sparse-LU plan (layout: ckdmbd.solvers.sparse_lu.pack_plan)."""
    return plan[plan[1 + k]:plan[2 + k]]


@njit(cache=True)
def _splu_factor(jac: np.ndarray, fac: float, e: np.ndarray, plan: np.ndarray, w: np.ndarray) -> bool:
    """E = fac I - J of the implicit block, permuted by the plan's fixed order, factored in place in e on the
    plan's fill pattern only (right-looking, no pivoting; entries of e outside the pattern are neither written
    nor read).  J is read on its pattern (the plan's entry lists): a Jacobian with entries outside it is not this
    plan's.  w: positive scale of each state (original order; the error weights).  False when a pivot fails the
    threshold test against its scaled column or is zero or not finite: the caller then factors densely with
    partial pivoting."""
    ni = plan[0]
    perm = _plan_part(plan, 0)
    iperm = _plan_part(plan, 1)
    lptr = _plan_part(plan, 2)
    lidx = _plan_part(plan, 3)
    uptr = _plan_part(plan, 4)
    uidx = _plan_part(plan, 5)
    frow = _plan_part(plan, 6)
    fcol = _plan_part(plan, 7)
    erow = _plan_part(plan, 8)
    ecol = _plan_part(plan, 9)
    for m in range(frow.shape[0]):
        e[frow[m], fcol[m]] = 0.0
    for m in range(erow.shape[0]):
        i = erow[m]
        j = ecol[m]
        e[iperm[i], iperm[j]] = -jac[i, j]
    for k in range(ni):
        e[k, k] += fac
    for k in range(ni):
        pivot = e[k, k]
        apiv = abs(pivot)
        amax = 0.0
        for m in range(lptr[k], lptr[k + 1]):
            i = lidx[m]
            amax = max(amax, abs(e[i, k]) / w[perm[i]])
        amax *= w[perm[k]]
        # written so that NaN fails every test
        if not (apiv > 0.0) or apiv == np.inf or not (apiv >= _PIVOT_THRESHOLD * amax):
            return False
        inv = 1.0 / pivot
        for m in range(lptr[k], lptr[k + 1]):
            i = lidx[m]
            lik = e[i, k] * inv
            e[i, k] = lik
            if lik != 0.0:
                for mm in range(uptr[k], uptr[k + 1]):
                    j = uidx[mm]
                    e[i, j] -= lik * e[k, j]
    return True


@njit(cache=True)
def _splu_solve(e: np.ndarray, plan: np.ndarray, b: np.ndarray, x: np.ndarray) -> None:
    """Solve E x = b in place in b[:ni] with the factors of _splu_factor (x: work vector of length ni)."""
    ni = plan[0]
    perm = _plan_part(plan, 0)
    lptr = _plan_part(plan, 2)
    lidx = _plan_part(plan, 3)
    uptr = _plan_part(plan, 4)
    uidx = _plan_part(plan, 5)
    for k in range(ni):
        x[k] = b[perm[k]]
    for k in range(ni):  # L (unit diagonal), column by column
        xk = x[k]
        if xk != 0.0:
            for m in range(lptr[k], lptr[k + 1]):
                i = lidx[m]
                x[i] -= e[i, k] * xk
    for i in range(ni - 1, -1, -1):  # U, row by row
        s = x[i]
        for m in range(uptr[i], uptr[i + 1]):
            j = uidx[m]
            s -= e[i, j] * x[j]
        x[i] = s / e[i, i]
    for k in range(ni):
        b[perm[k]] = x[k]


@njit(cache=True)
def _own_plan(plan: np.ndarray) -> bool:
    """Hook: whether ``plan`` is the one the generated model module wrote its straight-line LU for
    (ckdmbd.solvers.sparse_lu.straight_line_source); the shared solver has none."""
    return False


@njit(cache=True)
def _own_factor(jac: np.ndarray, fac: float, e: np.ndarray, w: np.ndarray) -> bool:
    """Hook: _splu_factor for the model's own plan as straight-line code (the same operations in the same order,
    without the plan's index lists); the shared solver has none (never called there: _own_plan is False)."""
    return False


@njit(cache=True)
def _own_solve(e: np.ndarray, b: np.ndarray) -> None:
    """Hook: _splu_solve for the model's own plan as straight-line code (see _own_factor)."""
    return


@njit(cache=True)
def _factor_iteration(
    jac: np.ndarray, fac: float, e: np.ndarray, piv: np.ndarray, plan: np.ndarray, w: np.ndarray,
    lptr: np.ndarray, lidx: np.ndarray, uptr: np.ndarray, uidx: np.ndarray, own: bool = False,
) -> int:
    """Factor E = fac I - J (implicit block) for the stage solves: the plan's sparse LU when a plan is given
    (plan.shape[0] >= 2) and its pivots pass the threshold test (scaled by w), else the dense LU with partial
    pivoting. ``own``: the plan is the generated module's (_own_plan), factored by its straight-line code.
    Returns 0 (sparse factors in e), 2 (the same, from the straight-line code), 1 (dense factors in e, piv and the
    nonzero lists) or -1 (singular)."""
    ni = e.shape[0]
    if plan.shape[0] >= 2:
        if own:
            if _own_factor(jac, fac, e, w):
                return 2
        elif _splu_factor(jac, fac, e, plan, w):
            return 0
    for i in range(ni):
        for j in range(ni):
            e[i, j] = -jac[i, j]
        e[i, i] += fac
    if not _lu_factor(e, piv):
        return -1
    _lu_nonzeros(e, lptr, lidx, uptr, uidx)
    return 1


@njit(cache=True)
def _solve_iteration(
    kind: int, e: np.ndarray, piv: np.ndarray, b: np.ndarray, plan: np.ndarray, x: np.ndarray, lptr: np.ndarray,
    lidx: np.ndarray, uptr: np.ndarray, uidx: np.ndarray,
) -> None:
    """Solve E x = b in place in b[:ni] with the factors _factor_iteration returned as ``kind`` (0, 1 or 2)."""
    if kind == 2:
        _own_solve(e, b)
    elif kind == 0:
        _splu_solve(e, plan, b, x)
    else:
        _lu_solve_sparse(e, piv, b, lptr, lidx, uptr, uidx)


@njit(cache=True)
def _quadrature_rows(n: int, ni: int, coloured: bool, col_ptr: np.ndarray, col_rows: np.ndarray):
    """CSR lists (qptr, qidx) of the implicit columns each quadrature row i >= ni may depend on: the pattern's
    when coloured, else every column."""
    nq = n - ni
    count = np.zeros(nq + 1, dtype=np.int64)
    if coloured:
        for j in range(ni):
            for r in range(col_ptr[j], col_ptr[j + 1]):
                if col_rows[r] >= ni:
                    count[col_rows[r] - ni + 1] += 1
    else:
        for i in range(nq):
            count[i + 1] = ni
    for i in range(nq):
        count[i + 1] += count[i]
    qidx = np.empty(count[nq], dtype=np.int64)
    fill = count[:nq].copy()
    if coloured:
        for j in range(ni):  # columns in increasing order: each row's list is sorted
            for r in range(col_ptr[j], col_ptr[j + 1]):
                i = col_rows[r]
                if i >= ni:
                    qidx[fill[i - ni]] = j
                    fill[i - ni] += 1
    else:
        for i in range(nq):
            for j in range(ni):
                qidx[count[i] + j] = j
    return count, qidx


@njit(cache=True)
def _all_finite(x: np.ndarray) -> bool:
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i] * 0.0  # NaN as soon as one entry is NaN or +-inf
    return acc == 0.0


# ---------------------------------------------------------------------------
# one RODAS step
# ---------------------------------------------------------------------------
@njit(cache=True)
def _fd_jacobian(
    rhs: Callable,
    t: float,
    t_scale: float,
    t_max: float,
    y: np.ndarray,
    p: np.ndarray,
    f0: np.ndarray,
    jac: np.ndarray,
    fx: np.ndarray,
    ytmp: np.ndarray,
    dy: np.ndarray,
    ni: int,
) -> int:
    """Forward-difference Jacobian (column by column) and df/dt at (t, y).

    Only the first ni columns (the implicit states) are formed, each over all
    n rows (jac needs only ni columns: quadrature columns are zero, not formed).
    f0 must hold f(t, y).  Increments: delta_j = max(sqrt(eps) |y_j|,
    sqrt(eps * 1e-5)) -- relative sqrt(eps) for large components, Hairer &
    Wanner's absolute floor for small ones -- rounded so that y_j + delta_j
    is exact.  If f is not finite at y + delta_j e_j (e.g. a state pushed past
    a domain boundary) the backward difference is used.  df/dt uses
    dt = sqrt(eps) * max(|t|, t_scale), backward if t + dt would pass t_max
    (the segment end, where the rhs may switch) or gives non-finite values.
    Returns the number of rhs evaluations, negated if a non-finite value
    could not be avoided.
    """
    n = y.shape[0]
    nev = 0
    ok = True
    for i in range(n):
        ytmp[i] = y[i]
    for j in range(ni):
        yj = y[j]
        delta = max(_SQRT_EPS * abs(yj), _DELTA_FLOOR)
        ytmp[j] = yj + delta
        delta = ytmp[j] - yj
        rhs(t, ytmp, p, dy)
        nev += 1
        if not _all_finite(dy):
            ytmp[j] = yj - delta
            delta = ytmp[j] - yj
            rhs(t, ytmp, p, dy)
            nev += 1
            ok = ok and _all_finite(dy)
        inv = 1.0 / delta
        for i in range(n):
            jac[i, j] = (dy[i] - f0[i]) * inv
        ytmp[j] = yj
    dt0 = _SQRT_EPS * max(abs(t), t_scale)
    tp = t + dt0 if t + dt0 <= t_max else t - dt0
    rhs(tp, y, p, dy)
    nev += 1
    if not _all_finite(dy) and tp > t:
        tp = t - dt0
        rhs(tp, y, p, dy)
        nev += 1
    ok = ok and _all_finite(dy)
    dt = tp - t
    inv = 1.0 / dt
    for i in range(n):
        fx[i] = (dy[i] - f0[i]) * inv
    return nev if ok else -nev


@njit(cache=True)
def _n_outputs(rhs: Callable) -> int:
    """Size of the work array _colour_setup may keep (hook: a generated model solver keeps its outputs)."""
    return 1


@njit(cache=True)
def _colour_setup(rhs: Callable, t: float, y: np.ndarray, p: np.ndarray, o: np.ndarray) -> None:
    """Called once per coloured Jacobian at the base point (hook: a generated model solver stores every submodel
    output in o there, so that each colour re-evaluates only the submodels it perturbs)."""
    return


@njit(cache=True)
def _colour_rhs(rhs: Callable, c: int, t: float, y: np.ndarray, p: np.ndarray, o: np.ndarray,
                dydt: np.ndarray) -> None:
    """f(t, y) for the perturbation of colour c (c = number of colours: the df/dt column).  Hook: here the full
    rhs; a generated model solver recomputes only the submodels that read the perturbed states or t."""
    rhs(t, y, p, dydt)


@njit(cache=True)
def _analytic_jacobian(rhs: Callable, t: float, y: np.ndarray, p: np.ndarray, jac: np.ndarray,
                       fx: np.ndarray) -> bool:
    """Hook: the analytic Jacobian (pattern entries of jac, and fx = df/dt) at (t, y); False when there is none or
    an entry is not finite, and the caller takes coloured finite differences.  A generated model solver defines it
    from the model's symbolic form (ckdmbd.model.analytic_jacobian); the shared solver has none."""
    return False


@njit(cache=True)
def _analytic_jacobian_f(rhs: Callable, t: float, y: np.ndarray, p: np.ndarray, jac: np.ndarray, fx: np.ndarray,
                         f: np.ndarray) -> bool:
    """Hook: _analytic_jacobian that also writes f(t, y) into f (computed on the way, so a step needs no separate
    rhs call for it); False as _analytic_jacobian, f then unspecified. The shared solver has none."""
    return False


@njit(cache=True)
def _coloured_jacobian(
    rhs: Callable,
    t: float,
    t_scale: float,
    t_max: float,
    y: np.ndarray,
    p: np.ndarray,
    f0: np.ndarray,
    jac: np.ndarray,
    fx: np.ndarray,
    ytmp: np.ndarray,
    dy: np.ndarray,
    delta: np.ndarray,
    colour_ptr: np.ndarray,
    colour_cols: np.ndarray,
    col_ptr: np.ndarray,
    col_rows: np.ndarray,
    time_dependent: bool,
    o: np.ndarray,
) -> int:
    """Forward-difference Jacobian on a known sparsity pattern, one rhs call per colour, and df/dt.

    Columns of one colour share no nonzero row (ckdmbd.model.sparsity), so perturbing them together and reading
    each column's own rows recovers every column as _fd_jacobian would (same increments, same backward fallback,
    per colour).  Only pattern entries of jac are written: the caller keeps the rest zero.  df/dt is formed only
    when the rhs reads t (else it is exactly zero).  Returns the rhs calls, negated if a non-finite value could
    not be avoided.
    """
    n = y.shape[0]
    nev = 0
    ok = True
    n_colours = colour_ptr.shape[0] - 1
    _colour_setup(rhs, t, y, p, o)
    for i in range(n):
        ytmp[i] = y[i]
    for c in range(n_colours):
        for sign in (1.0, -1.0):
            for m in range(colour_ptr[c], colour_ptr[c + 1]):
                j = colour_cols[m]
                yj = y[j]
                d = sign * max(_SQRT_EPS * abs(yj), _DELTA_FLOOR)
                ytmp[j] = yj + d
                delta[j] = ytmp[j] - yj
            _colour_rhs(rhs, c, t, ytmp, p, o, dy)
            nev += 1
            if _all_finite(dy):
                break
            if sign < 0.0:
                ok = False
        for m in range(colour_ptr[c], colour_ptr[c + 1]):
            j = colour_cols[m]
            inv = 1.0 / delta[j]
            for r in range(col_ptr[j], col_ptr[j + 1]):
                i = col_rows[r]
                jac[i, j] = (dy[i] - f0[i]) * inv
            ytmp[j] = y[j]
    if not time_dependent:
        for i in range(n):
            fx[i] = 0.0
        return nev if ok else -nev
    dt0 = _SQRT_EPS * max(abs(t), t_scale)
    tp = t + dt0 if t + dt0 <= t_max else t - dt0
    _colour_rhs(rhs, n_colours, tp, y, p, o, dy)
    nev += 1
    if not _all_finite(dy) and tp > t:
        tp = t - dt0
        _colour_rhs(rhs, n_colours, tp, y, p, o, dy)
        nev += 1
    ok = ok and _all_finite(dy)
    inv = 1.0 / (tp - t)
    for i in range(n):
        fx[i] = (dy[i] - f0[i]) * inv
    return nev if ok else -nev


@njit(cache=True)
def _rodas_step(
    rhs: Callable,
    t: float,
    y: np.ndarray,
    h: float,
    p: np.ndarray,
    f0: np.ndarray,
    fx: np.ndarray,
    jac: np.ndarray,
    e: np.ndarray,
    piv: np.ndarray,
    u: np.ndarray,
    ytmp: np.ndarray,
    dy: np.ndarray,
    ynew: np.ndarray,
    lptr: np.ndarray,
    lidx: np.ndarray,
    uptr: np.ndarray,
    uidx: np.ndarray,
    qptr: np.ndarray,
    qidx: np.ndarray,
    plan: np.ndarray,
    xw: np.ndarray,
    wscale: np.ndarray,
    own: bool,
) -> tuple[int, int]:
    """Attempt one RODAS step of size h from (t, y) with J, f0 = f(t,y), fx = f_t given.

    lptr..uidx: work arrays (ni+1, ni*ni) for the factor's nonzero lists; qptr, qidx: the columns each
    quadrature row of J may be nonzero in (_quadrature_rows).  plan: the sparse LU of the implicit block
    (ckdmbd.solvers.sparse_lu; shorter than 2: the dense LU), with the dense LU as fallback for a step whose
    pivots fail its threshold test; xw: work vector of length ni; wscale: the states' error weights (the
    threshold test's scaling); own: the plan is the generated module's (_own_plan: its straight-line LU).

    e is the (ni, ni) work matrix of the implicit block: states i >= ni are
    quadratures (zero Jacobian columns; only jac[:, :ni] is read), whose stage
    increments follow by substitution (module docstring).  ni = n is the plain
    full-matrix method.  Writes the stage increments to u[0..5] (u[5] is the
    error estimate) and the new solution to ynew.  Returns (code, n_rhs): code 0
    ok, 1 singular iteration matrix, 2 non-finite stage values.
    """
    n = y.shape[0]
    ni = e.shape[0]
    hg = h * GAMMA
    fac = 1.0 / hg
    kind = _factor_iteration(jac, fac, e, piv, plan, wscale, lptr, lidx, uptr, uidx, own)
    if kind < 0:
        return 1, 0
    nrhs = 0
    inv_h = 1.0 / h
    for s in range(_NSTAGE):
        if s == 0:
            for i in range(n):
                dy[i] = f0[i]
        else:
            # stage argument y + sum_j a_sj U_j, summed over j in order for every i (the loops are swapped so
            # that the inner one runs along a contiguous row of u: the same operations in the same order)
            for i in range(n):
                ytmp[i] = y[i]
            for j in range(s):
                a = RODAS_A[s, j]
                uj = u[j]
                for i in range(n):
                    ytmp[i] += a * uj[i]
            rhs(t + RODAS_C_NODES[s] * h, ytmp, p, dy)
            nrhs += 1
        ds = RODAS_D[s] * h
        for i in range(n):  # ynew: scratch for sum_j c_sj U_j until the new solution is written below
            ynew[i] = 0.0
        for j in range(s):
            c = RODAS_C[s, j]
            uj = u[j]
            for i in range(n):
                ynew[i] += c * uj[i]
        us = u[s]
        for i in range(n):
            us[i] = (dy[i] + ds * fx[i]) + ynew[i] * inv_h
        _solve_iteration(kind, e, piv, us, plan, xw, lptr, lidx, uptr, uidx)  # implicit block: us[:ni]
        # quadrature rows of E U = b:  -J_qd U_d + U_q / (h gamma) = b_q
        for i in range(ni, n):
            acc = us[i]
            for m in range(qptr[i - ni], qptr[i - ni + 1]):
                j = qidx[m]
                acc += jac[i, j] * us[j]
            us[i] = hg * acc
        if not _all_finite(us):
            return 2, nrhs
    # stiffly accurate: y_new = (stage-6 argument) + U_6
    for i in range(n):
        ynew[i] = ytmp[i] + u[5, i]
    if not _all_finite(ynew):
        return 2, nrhs
    return 0, nrhs


@njit(cache=True)
def _error_norm(err: np.ndarray, y: np.ndarray, ynew: np.ndarray, rtol: float, atol: float) -> float:
    n = y.shape[0]
    s = 0.0
    for i in range(n):
        sk = atol + rtol * max(abs(y[i]), abs(ynew[i]))
        q = err[i] / sk
        s += q * q
    return np.sqrt(s / n)


@njit(cache=True)
def _dense_coeffs(u: np.ndarray, q: np.ndarray) -> None:
    n = u.shape[1]
    for i in range(n):
        a2 = 0.0
        a3 = 0.0
        for j in range(5):
            a2 += RODAS_D2[j] * u[j, i]
            a3 += RODAS_D3[j] * u[j, i]
        q[0, i] = a2
        q[1, i] = a3


@njit(cache=True)
def _dense_eval(s: float, yold: np.ndarray, ynew: np.ndarray, q: np.ndarray, out: np.ndarray) -> None:
    n = yold.shape[0]
    s1 = 1.0 - s
    for i in range(n):
        out[i] = s1 * yold[i] + s * (ynew[i] + s1 * (q[0, i] + s * q[1, i]))


@njit(cache=True)
def _initial_step(
    rhs: Callable,
    t0: float,
    t1: float,
    y0: np.ndarray,
    f0: np.ndarray,
    p: np.ndarray,
    rtol: float,
    atol: float,
    ytmp: np.ndarray,
    dy: np.ndarray,
) -> tuple[float, int]:
    """Hairer-Norsett-Wanner starting step heuristic (one extra rhs call)."""
    n = y0.shape[0]
    span = abs(t1 - t0)
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sk = atol + rtol * abs(y0[i])
        d0 += (y0[i] / sk) ** 2
        d1 += (f0[i] / sk) ** 2
    d0 = np.sqrt(d0 / n)
    d1 = np.sqrt(d1 / n)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h0 = min(h0, span)
    for i in range(n):
        ytmp[i] = y0[i] + h0 * f0[i]
    rhs(t0 + h0, ytmp, p, dy)
    d2 = 0.0
    for i in range(n):
        sk = atol + rtol * abs(y0[i])
        d2 += ((dy[i] - f0[i]) / sk) ** 2
    d2 = np.sqrt(d2 / n) / h0
    if not np.isfinite(d2):
        return max(1e-6 * h0, 1e-14 * abs(t0)), 1
    dmax = max(d1, d2)
    h1 = max(1e-6, h0 * 1e-3) if dmax <= 1e-15 else (0.01 / dmax) ** 0.25
    return min(100.0 * h0, h1, span), 1


# ---------------------------------------------------------------------------
# public compiled driver
# ---------------------------------------------------------------------------
@njit(cache=True)
def _integrate(
    rhs: Callable,
    t0: float,
    t1: float,
    y0: np.ndarray,
    p: np.ndarray,
    t_out: np.ndarray,
    y_out: np.ndarray,
    first_out: int,
    rtol: float,
    atol: float,
    h_init: float,
    max_steps: int,
    n_implicit: int,
    coloured: bool,
    colour_ptr: np.ndarray,
    colour_cols: np.ndarray,
    col_ptr: np.ndarray,
    col_rows: np.ndarray,
    time_dependent: bool,
    restart_estimate: bool,
    analytic: bool,
    lu_plan: np.ndarray,
) -> tuple[int, np.ndarray, int, int, int, float, int]:
    """The driver behind integrate_segment (dense FD Jacobian, coloured = False) and integrate_segment_coloured;
    returns integrate_segment's tuple plus the number of rejected step attempts.  analytic (with coloured): the
    Jacobian from the _analytic_jacobian hook, coloured finite differences for a step where it has none (counted as
    one rhs evaluation).  lu_plan: the stage solves' sparse LU (ckdmbd.solvers.sparse_lu.SparseLU.plan of the
    first n_implicit columns' pattern; shorter than 2, or made for another size: the dense LU)."""
    n = y0.shape[0]
    n_out = t_out.shape[0]
    y = np.empty(n)
    for i in range(n):
        y[i] = y0[i]
    pc = np.ascontiguousarray(p)
    ynew = np.empty(n)
    f0 = np.empty(n)
    fx = np.empty(n)
    ytmp = np.empty(n)
    dy = np.empty(n)
    ni = n if (n_implicit <= 0 or n_implicit > n) else n_implicit
    jac = np.zeros((n, ni))  # the coloured Jacobian writes only its pattern: the rest stays zero
    delta = np.empty(ni)
    obase = np.empty(_n_outputs(rhs))
    e = np.empty((ni, ni))
    piv = np.empty(ni, dtype=np.int64)
    lptr = np.empty(ni + 1, dtype=np.int64)
    uptr = np.empty(ni + 1, dtype=np.int64)
    lidx = np.empty(ni * ni, dtype=np.int64)
    uidx = np.empty(ni * ni, dtype=np.int64)
    qptr, qidx = _quadrature_rows(n, ni, coloured, col_ptr, col_rows)
    plan = lu_plan if (lu_plan.shape[0] >= 2 and lu_plan[0] == ni) else lu_plan[:0]
    own = plan.shape[0] >= 2 and _own_plan(plan)  # checked once per segment, not per step
    xw = np.empty(ni)
    wscale = np.ones(ni)
    u = np.empty((_NSTAGE, n))
    q = np.empty((2, n))

    t = t0
    n_steps = 0
    n_attempts = 0
    n_rhs = 0
    k = first_out
    span = t1 - t0

    # outputs before / at t0
    while k < n_out and t_out[k] <= t0:
        if t_out[k] == t0 and (t0 < t1 or k == n_out - 1):
            for i in range(n):
                y_out[k, i] = y[i]
        elif t_out[k] == t0:
            break  # t0 == t1 and not the last output: belongs to the next segment
        k += 1

    if not (span > 0.0):
        return 0, y, k, 0, 0, h_init, 0

    if not _all_finite(y):
        return 3, y, k, 0, 0, h_init, 0

    rhs(t, y, pc, f0)
    n_rhs += 1
    if not _all_finite(f0):
        return 3, y, k, 0, n_rhs, h_init, 0

    if h_init > 0.0 and restart_estimate:
        # a restart after an event: the previous segment's step may be far off for the new rates (a session
        # starts), so the Hairer-Norsett-Wanner estimate at the new state caps it
        h_est, nr = _initial_step(rhs, t0, t1, y, f0, pc, rtol, atol, ytmp, dy)
        n_rhs += nr
        h = min(h_init, _RESTART_CAP * h_est, span)
    elif h_init > 0.0:
        h = min(h_init, span)
    else:
        h, nr = _initial_step(rhs, t0, t1, y, f0, pc, rtol, atol, ytmp, dy)
        n_rhs += nr
    h_last = h

    need_jac = True
    f0_fresh = True  # f0 holds f(t, y) (False: it comes with the next analytic Jacobian)
    reject = False
    last_bad = False  # last failure was non-finite values (vs. error/underflow)
    h_acc = 0.0
    err_acc = 1.0
    status = 0
    while True:
        if n_attempts >= max_steps:
            status = 1
            break
        hmin = 1e-14 * abs(t) + 1e-300
        if h < hmin:
            status = 3 if last_bad else 2
            break
        # step to hit t1 exactly
        h_prop = h
        last = False
        if t + 1.0001 * h >= t1:
            h = t1 - t
            last = True
        if need_jac:
            done = False
            if analytic and coloured:
                if f0_fresh:
                    done = _analytic_jacobian(rhs, t, y, pc, jac, fx)
                else:  # f(t, y) of the new step with its Jacobian
                    done = _analytic_jacobian_f(rhs, t, y, pc, jac, fx, f0)
                    if not done:  # declined (none, or an entry not finite): f from the rhs, and differences
                        rhs(t, y, pc, f0)
                        n_rhs += 1
                    f0_fresh = True
                    if not _all_finite(f0):
                        status = 3
                        break
            if done:
                nev = 1
            elif coloured:
                nev = _coloured_jacobian(rhs, t, span, t1, y, pc, f0, jac, fx, ytmp, dy, delta, colour_ptr,
                                         colour_cols, col_ptr, col_rows, time_dependent, obase)
            else:
                nev = _fd_jacobian(rhs, t, span, t1, y, pc, f0, jac, fx, ytmp, dy, ni)
            n_rhs += abs(nev)
            if nev < 0:
                status = 3
                break
            need_jac = False
            for i in range(ni):
                wscale[i] = atol + rtol * abs(y[i])
        n_attempts += 1
        code, nr = _rodas_step(rhs, t, y, h, pc, f0, fx, jac, e, piv, u, ytmp, dy, ynew, lptr, lidx, uptr, uidx,
                               qptr, qidx, plan, xw, wscale, own)
        n_rhs += nr
        if code != 0:
            # singular matrix or non-finite stage values: shrink and retry
            last_bad = code == 2
            reject = True
            h = h * _SHRINK_BAD
            continue
        err = _error_norm(u[5], y, ynew, rtol, atol)
        if not np.isfinite(err):
            last_bad = True
            reject = True
            h = h * _SHRINK_BAD
            continue
        # step size proposal: hnew = h / fac, 0.2 <= hnew/h <= 6
        fac = max(1.0 / _FAC_MAX, min(1.0 / _FAC_MIN, err**0.25 / _SAFE))
        if err <= 1.0:
            # predictive (Gustafsson) controller, as in HW's RODAS
            if n_steps > 0:
                facgus = (h_acc / h) * (err * err / err_acc) ** 0.25 / _SAFE
                facgus = max(1.0 / _FAC_MAX, min(1.0 / _FAC_MIN, facgus))
                fac = max(fac, facgus)
            h_acc = h
            err_acc = max(1e-2, err)
            hnew = h / fac
            if reject:
                hnew = min(hnew, h)
            reject = False
            last_bad = False
            # accept
            t_new = t1 if last else t + h
            # dense output for t_out in (t, t_new]
            if k < n_out and t_out[k] <= t_new:  # the coefficients only for a step with an output time in it
                _dense_coeffs(u, q)
                while k < n_out:
                    tk = t_out[k]
                    if tk > t_new:
                        break
                    if tk >= t1 and not (tk == t1 and k == n_out - 1):
                        break
                    if tk == t_new:
                        for i in range(n):
                            y_out[k, i] = ynew[i]
                    elif tk > t:
                        s = (tk - t) / h
                        _dense_eval(s, y, ynew, q, y_out[k])
                    k += 1
            for i in range(n):
                y[i] = ynew[i]
            t = t_new
            n_steps += 1
            h_last = h_prop if (last and h_prop > h) else h
            if last:
                break
            h = hnew
            if analytic and coloured:
                f0_fresh = False  # f(t, y) comes with the Jacobian (_analytic_jacobian_f) at the next attempt
            else:
                rhs(t, y, pc, f0)
                n_rhs += 1
                if not _all_finite(f0):
                    status = 3
                    break
            need_jac = True
        else:
            reject = True
            last_bad = False
            if n_steps == 0 and h_init > 0.0:  # the first step after a restart: cut by the observed order
                fac = max(fac, min(err ** (1.0 / _FIRST_ORDER) / _SAFE, 1.0 / _FAC_MIN_FIRST))
            h = h / fac
    return status, y, k, n_steps, n_rhs, h_last, n_attempts - n_steps


# ---------------------------------------------------------------------------
# a whole run in one compiled call: segments, state actions and parameter rows as tables
# ---------------------------------------------------------------------------
ACTION_SET = 0
ACTION_ADD = 1
ACTION_SCALE = 2


@njit(cache=True)
def _guard_rows(y_out: np.ndarray, r0: int, r1: int, extra: np.ndarray, idx: np.ndarray, scale: np.ndarray,
                gatol: float, grtol: float) -> tuple[int, int, float]:
    """The nonnegative-state check of ckdmbd.simulation._NonnegativeGuard on rows y_out[r0:r1] and the row
    ``extra`` after them: the scale of each checked state is the largest magnitude seen so far, this block
    included (NaN ignored), and is kept only when no row fails.  Returns (row offset from r0, column of idx,
    value) of the first failing entry in row-major order (offset r1 - r0: the extra row), or (-1, -1, 0)."""
    nc = idx.shape[0]
    if nc == 0:
        return -1, -1, 0.0
    new = scale.copy()
    nrow = r1 - r0 + 1
    for r in range(nrow):
        row = extra if r == nrow - 1 else y_out[r0 + r]
        for c in range(nc):
            v = abs(row[idx[c]])
            if v > new[c]:
                new[c] = v
    for r in range(nrow):
        row = extra if r == nrow - 1 else y_out[r0 + r]
        for c in range(nc):
            v = row[idx[c]]
            if v < -(gatol + grtol * new[c]):
                return r, c, v
    for c in range(nc):
        scale[c] = new[c]
    return -1, -1, 0.0


@njit(cache=True)
def _integrate_run(
    rhs: Callable,
    seg_t: np.ndarray,
    act_ptr: np.ndarray,
    act_kind: np.ndarray,
    act_state: np.ndarray,
    act_value: np.ndarray,
    act_delta: np.ndarray,
    seg_prow: np.ndarray,
    ptable: np.ndarray,
    y0: np.ndarray,
    t_out: np.ndarray,
    y_out: np.ndarray,
    rtol: float,
    atol: float,
    h_init: float,
    max_steps: int,
    n_implicit: int,
    colour_ptr: np.ndarray,
    colour_cols: np.ndarray,
    col_ptr: np.ndarray,
    col_rows: np.ndarray,
    time_dependent: bool,
    restart_estimate: bool,
    analytic: bool,
    lu_plan: np.ndarray,
    guard_idx: np.ndarray,
    guard_scale: np.ndarray,
    gatol: float,
    grtol: float,
):
    """The event loop of ckdmbd.simulation.simulate in compiled code: segment k runs from seg_t[k] to seg_t[k+1]
    with the parameter vector ptable[seg_prow[k]], after the state actions act_ptr[k]..act_ptr[k+1]-1 (kind
    ACTION_SET/ADD/SCALE of state act_state[m] by act_value[m]; the change each made is written to act_delta[m],
    for the mass balance) are applied at its start.  Each segment is the same _integrate call the Python loop
    makes (same arguments, the previous segment's last step as warm start), so the numbers are the same bit for
    bit; what is saved is the Python work and the dispatch between segments.  The nonnegative guard
    (_guard_rows; guard_scale updated in place) runs where the Python loop runs it: at a segment start after a
    state action (and at the first), and on every segment's outputs and end state.

    Returns (status, y, next_out, n_steps, n_rhs, h_last, n_rejected, k_stop, fail_t, fail_col, fail_value,
    at_start): status as _integrate's, or 4 when the guard failed (fail_t, guard column fail_col, its value;
    at_start: at the segment's start, before integrating it); k_stop the segment the run stopped in (the number
    of segments when it finished)."""
    nseg = seg_t.shape[0] - 1
    y = y0.copy()
    k_out = 0
    steps = 0
    nrhs = 0
    nrej = 0
    h_last = h_init
    for k in range(nseg):
        t0 = seg_t[k]
        t1 = seg_t[k + 1]
        for m in range(act_ptr[k], act_ptr[k + 1]):
            i = act_state[m]
            before = y[i]
            if act_kind[m] == ACTION_SET:
                y[i] = act_value[m]
            elif act_kind[m] == ACTION_ADD:
                y[i] += act_value[m]
            else:
                y[i] *= act_value[m]
            act_delta[m] = y[i] - before
        if k == 0 or act_ptr[k + 1] > act_ptr[k]:
            r, c, v = _guard_rows(y_out, 0, 0, y, guard_idx, guard_scale, gatol, grtol)
            if r >= 0:
                return 4, y, k_out, steps, nrhs, h_last, nrej, k, t0, c, v, True
        first = k_out
        status, y_end, k_out, n_s, n_f, h_last, n_r = _integrate(
            rhs, t0, t1, y, ptable[seg_prow[k]], t_out, y_out, k_out, rtol, atol, h_last, max_steps, n_implicit,
            True, colour_ptr, colour_cols, col_ptr, col_rows, time_dependent, restart_estimate, analytic, lu_plan)
        steps += n_s
        nrhs += n_f
        nrej += n_r
        if status != 0:
            return status, y_end, k_out, steps, nrhs, h_last, nrej, k, t0, -1, 0.0, False
        y = y_end.copy()
        r, c, v = _guard_rows(y_out, first, k_out, y, guard_idx, guard_scale, gatol, grtol)
        if r >= 0:
            tf = t1 if r == k_out - first else t_out[first + r]
            return 4, y, k_out, steps, nrhs, h_last, nrej, k, tf, c, v, False
    return 0, y, k_out, steps, nrhs, h_last, nrej, nseg, 0.0, -1, 0.0, False


@njit(cache=True)
def _observe(rhs: Callable, t: float, y: np.ndarray, p: np.ndarray, o: np.ndarray) -> None:
    """Hook: every named output of the model at (t, y) into o (a generated model solver defines it as its
    ``observe``); the shared solver has no outputs."""
    return


@njit(cache=True)
def _observe_rows(rhs: Callable, t: np.ndarray, y: np.ndarray, seg: np.ndarray, ptable: np.ndarray,
                  out: np.ndarray) -> None:
    """Every model output at each row: out[r] = outputs at (t[r], y[r]) with the parameters ptable[seg[r]] (the
    segment row r lies in), in one compiled pass (Result.outputs: a Python loop over segments cost ~35 µs each)."""
    for r in range(t.shape[0]):
        _observe(rhs, t[r], y[r], ptable[seg[r]], out[r])


@njit(cache=True)
def _integrate_many(
    rhs: Callable,
    run: np.ndarray,
    seg_t: np.ndarray,
    act_ptr: np.ndarray,
    act_kind: np.ndarray,
    act_state: np.ndarray,
    act_value: np.ndarray,
    seg_prow: np.ndarray,
    ptables: np.ndarray,
    y0s: np.ndarray,
    t_out: np.ndarray,
    obs_idx: np.ndarray,
    state_idx: np.ndarray,
    out: np.ndarray,
    info: np.ndarray,
    act_deltas: np.ndarray,
    rtol: float,
    atol: float,
    h_init: float,
    max_steps: int,
    n_implicit: int,
    colour_ptr: np.ndarray,
    colour_cols: np.ndarray,
    col_ptr: np.ndarray,
    col_rows: np.ndarray,
    time_dependent: bool,
    restart_estimate: bool,
    analytic: bool,
    lu_plan: np.ndarray,
    guard_idx: np.ndarray,
    gatol: float,
    grtol: float,
) -> None:
    """_integrate_run for every patient j with run[j] (one shared event table: seg_t, act_*; per patient the
    parameter rows ptables[j] indexed by seg_prow[j] and the initial state y0s[j]), patients spread over the
    threads (prange in the generated model solver, which is compiled with parallel=True).  Reduced outputs only:
    out[j, r, :] holds the model outputs obs_idx and then the states state_idx at t_out[r], observed with the
    parameters of the segment each output time lies in (as Result.outputs: a time on a boundary belongs to the
    segment it starts); rows the run did not reach stay NaN.  info[j]: (status, next_out, n_steps, n_rhs,
    n_rejected, k_stop, fail_t, fail_col, fail_value, h_last); act_deltas[j]: each state action's change."""
    npat = y0s.shape[0]
    n = y0s.shape[1]
    n_out = t_out.shape[0]
    nseg = seg_t.shape[0] - 1
    no = out.shape[2]
    for j in prange(npat):
        if not run[j]:
            continue
        y_out = np.full((n_out, n), np.nan)
        scale = np.empty(guard_idx.shape[0])
        for c in range(guard_idx.shape[0]):
            scale[c] = abs(y0s[j, guard_idx[c]])
        delta = np.zeros(act_kind.shape[0])
        res = _integrate_run(rhs, seg_t, act_ptr, act_kind, act_state, act_value, delta, seg_prow[j],
                             ptables[j], y0s[j], t_out, y_out, rtol, atol, h_init, max_steps, n_implicit,
                             colour_ptr, colour_cols, col_ptr, col_rows, time_dependent, restart_estimate,
                             analytic, lu_plan, guard_idx, scale, gatol, grtol)
        status = res[0]
        k_out = res[2]
        if status == 0:
            for r in range(n_out):
                for i in range(n):
                    if not np.isfinite(y_out[r, i]):
                        status = 3
        info[j, 0] = status
        info[j, 1] = k_out
        info[j, 2] = res[3]
        info[j, 3] = res[4]
        info[j, 4] = res[6]
        info[j, 5] = res[7]
        info[j, 6] = res[8]
        info[j, 7] = res[9]
        info[j, 8] = res[10]
        info[j, 9] = res[5]
        for m in range(delta.shape[0]):
            act_deltas[j, m] = delta[m]
        o = np.empty(max(_n_outputs(rhs), 1))
        seg = 0
        for r in range(k_out):
            while seg + 1 < nseg and seg_t[seg + 1] <= t_out[r]:
                seg += 1
            _observe(rhs, t_out[r], y_out[r], ptables[j][seg_prow[j][seg]], o)
            for c in range(obs_idx.shape[0]):
                out[j, r, c] = o[obs_idx[c]]
            for c in range(state_idx.shape[0]):
                out[j, r, obs_idx.shape[0] + c] = y_out[r, state_idx[c]]
        for r in range(k_out, n_out):
            for c in range(no):
                out[j, r, c] = np.nan




@njit(_SEGMENT_SIGNATURE, cache=True)
def integrate_segment(
    rhs: Callable,
    t0: float,
    t1: float,
    y0: np.ndarray,
    p: np.ndarray,
    t_out: np.ndarray,
    y_out: np.ndarray,
    first_out: int,
    rtol: float,
    atol: float,
    h_init: float,
    max_steps: int,
    n_implicit: int,
) -> tuple[int, np.ndarray, int, int, int, float]:
    """Integrate dy/dt = rhs(t, y, p, dydt) from t0 to t1 (t1 > t0) with RODAS.

    rhs: a numba-jitted function rhs(t: float64, y: float64[:], p: float64[:],
      dydt: float64[:]) -> None that writes dydt in place.  It is called through
      a first-class function pointer of type RHS_TYPE (RHS_SIGNATURE, all three
      arrays C-contiguous); a lazily jitted rhs is compiled for it on first use.
    y0: float64[:] initial state (not modified). p: float64[:] parameters passed
      through to rhs (copied to a contiguous array if it is a strided view).
    t_out: float64[:] sorted output times (whole run); y_out: float64[:, :]
      (len(t_out), n) filled in place for every index i >= first_out with
      t0 <= t_out[i] < t1, and also t_out[i] == t1 when that is the last output
      (i == len(t_out)-1); values between steps come from the RODAS dense output
      (order 3).  Indices i >= first_out with t_out[i] < t0 are skipped (left
      untouched) -- callers should not produce them.
    rtol, atol: float64 scalars (componentwise error norm: RMS of
      err_i / (atol + rtol*max(|y_i|, |ynew_i|))).
    h_init: float64 initial step (<= 0 means choose automatically).
    max_steps: bound on step attempts (accepted + rejected) in this call.
    n_implicit: states y[n_implicit:] are quadratures -- no derivative may
      depend on them (their Jacobian columns are taken as zero, unchecked) --
      and are integrated without finite differences or factorisation (module
      docstring); the same step to rounding, n - n_implicit fewer rhs calls per
      Jacobian.  n_implicit <= 0 or >= n: all states implicit (full matrix).
    Returns a tuple (status, y_end, next_out, n_steps, n_rhs, h_last):
      status 0 = success, 1 = max_steps exceeded, 2 = step size underflow
      (h < 1e-14*|t|), 3 = non-finite values in rhs/state.
      y_end: state reached (t1 on success, else the last accepted state).
      next_out = index of the first t_out not yet filled.
      n_steps: accepted steps; n_rhs: rhs evaluations (Jacobian included).
      h_last: last accepted step size, or if the final step was shortened to
      land on t1, the step the controller had proposed (warm start).
    Never raises on solver failure: returns the status code.
    """
    none = np.zeros(1, dtype=np.int64)
    status, y, k, n_steps, n_rhs, h_last, _rej = _integrate(
        rhs, t0, t1, y0, p, t_out, y_out, first_out, rtol, atol, h_init, max_steps, n_implicit,
        False, none, none, none, none, True, False, False, none)
    return status, y, k, n_steps, n_rhs, h_last


@njit(_COLOURED_SIGNATURE, cache=True)
def integrate_segment_coloured(
    rhs: Callable,
    t0: float,
    t1: float,
    y0: np.ndarray,
    p: np.ndarray,
    t_out: np.ndarray,
    y_out: np.ndarray,
    first_out: int,
    rtol: float,
    atol: float,
    h_init: float,
    max_steps: int,
    n_implicit: int,
    colour_ptr: np.ndarray,
    colour_cols: np.ndarray,
    col_ptr: np.ndarray,
    col_rows: np.ndarray,
    time_dependent: bool,
    restart_estimate: bool,
    lu_plan: np.ndarray,
) -> tuple[int, np.ndarray, int, int, int, float, int]:
    """integrate_segment with a Jacobian by coloured finite differences on a known sparsity pattern.

    colour_ptr, colour_cols, col_ptr, col_rows: the pattern of the first n_implicit columns and its colouring
    (ckdmbd.model.sparsity.JacobianStructure); every nonzero of df/dy must lie in the pattern (entries outside
    it are taken as zero).  time_dependent: the rhs reads t (else df/dt = 0 and is not formed).
    restart_estimate: when h_init > 0 (a restart), start with min(h_init, the Hairer-Norsett-Wanner estimate
    at the new state) instead of h_init alone.  lu_plan: the sparse LU of the stage solves
    (ckdmbd.solvers.sparse_lu.SparseLU.plan for this pattern's implicit block; NO_PLAN there: the dense LU).
    Returns integrate_segment's tuple plus the number of rejected step attempts.
    """
    return _integrate(rhs, t0, t1, y0, p, t_out, y_out, first_out, rtol, atol, h_init, max_steps, n_implicit,
                      True, colour_ptr, colour_cols, col_ptr, col_rows, time_dependent, restart_estimate, False,
                      lu_plan)


_JAC_SIGNATURE = _MAT_A(RHS_TYPE, _F8, _VEC_A, _VEC_A, _I8, _IVEC_A, _IVEC_A, _IVEC_A, _IVEC_A)


@njit(_JAC_SIGNATURE, cache=True)
def fd_jacobian(
    rhs: Callable,
    t: float,
    y: np.ndarray,
    p: np.ndarray,
    n_implicit: int,
    colour_ptr: np.ndarray,
    colour_cols: np.ndarray,
    col_ptr: np.ndarray,
    col_rows: np.ndarray,
) -> np.ndarray:
    """The (n, n_implicit) Jacobian the solver uses at (t, y): coloured finite differences on the given pattern,
    or column by column when colour_ptr has fewer than two entries.  For tests and diagnostics."""
    n = y.shape[0]
    yc = np.ascontiguousarray(y)
    pc = np.ascontiguousarray(p)
    f0 = np.empty(n)
    fx = np.empty(n)
    ytmp = np.empty(n)
    dy = np.empty(n)
    jac = np.zeros((n, n_implicit))
    rhs(t, yc, pc, f0)
    if colour_ptr.shape[0] < 2:
        _fd_jacobian(rhs, t, 1.0, np.inf, yc, pc, f0, jac, fx, ytmp, dy, n_implicit)
    else:
        delta = np.empty(n_implicit)
        obase = np.empty(_n_outputs(rhs))
        _coloured_jacobian(rhs, t, 1.0, np.inf, yc, pc, f0, jac, fx, ytmp, dy, delta, colour_ptr, colour_cols,
                           col_ptr, col_rows, False, obase)
    return jac


@njit(_FIXED_SIGNATURE, cache=True)
def integrate_fixed(
    rhs: Callable,
    t0: float,
    t1: float,
    y0: np.ndarray,
    p: np.ndarray,
    n_steps: int,
    t_out: np.ndarray,
    y_out: np.ndarray,
    n_implicit: int,
) -> np.ndarray:
    """Fixed-step RODAS from t0 to t1 in n_steps equal steps (for order checks).

    Fills y_out[i] (dense output) for every t0 < t_out[i] <= t1; returns y(t1).
    n_implicit as in integrate_segment (<= 0: all states implicit).
    """
    n = y0.shape[0]
    n_out = t_out.shape[0]
    y = np.empty(n)
    for i in range(n):
        y[i] = y0[i]
    pc = np.ascontiguousarray(p)
    ynew = np.empty(n)
    f0 = np.empty(n)
    fx = np.empty(n)
    ytmp = np.empty(n)
    dy = np.empty(n)
    ni = n if (n_implicit <= 0 or n_implicit > n) else n_implicit
    jac = np.empty((n, ni))
    e = np.empty((ni, ni))
    piv = np.empty(ni, dtype=np.int64)
    lptr = np.empty(ni + 1, dtype=np.int64)
    uptr = np.empty(ni + 1, dtype=np.int64)
    lidx = np.empty(ni * ni, dtype=np.int64)
    uidx = np.empty(ni * ni, dtype=np.int64)
    none = np.zeros(1, dtype=np.int64)
    qptr, qidx = _quadrature_rows(n, ni, False, none, none)
    xw = np.empty(ni)
    wscale = np.ones(ni)
    u = np.empty((_NSTAGE, n))
    q = np.empty((2, n))
    h = (t1 - t0) / n_steps
    k = 0
    while k < n_out and t_out[k] <= t0:
        k += 1
    for m in range(n_steps):
        t = t0 + m * h
        rhs(t, y, pc, f0)
        _fd_jacobian(rhs, t, t1 - t0, t1, y, pc, f0, jac, fx, ytmp, dy, ni)
        _rodas_step(rhs, t, y, h, pc, f0, fx, jac, e, piv, u, ytmp, dy, ynew, lptr, lidx, uptr, uidx, qptr, qidx,
                    none, xw, wscale, False)
        _dense_coeffs(u, q)
        t_new = t0 + (m + 1) * h
        while k < n_out and t_out[k] <= t_new:
            _dense_eval((t_out[k] - t) / h, y, ynew, q, y_out[k])
            k += 1
        for i in range(n):
            y[i] = ynew[i]
    return y


def solve(
    rhs: Callable,
    t_span: Sequence[float],
    y0: ArrayLike,
    p: ArrayLike,
    t_eval: ArrayLike,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 1_000_000,
    n_implicit: int = 0,
) -> np.ndarray:
    """Convenience wrapper: integrate over t_span once and return y at t_eval.

    n_implicit: see integrate_segment (0: all states implicit).  Returns an
    array of shape (len(t_eval), len(y0)).  Raises RuntimeError if the solver
    does not succeed.
    """
    t0, t1 = float(t_span[0]), float(t_span[1])
    y0a = np.ascontiguousarray(y0, dtype=np.float64)
    pa = np.ascontiguousarray(p, dtype=np.float64)
    t_out = np.ascontiguousarray(t_eval, dtype=np.float64)
    if t_out.ndim != 1 or np.any(np.diff(t_out) < 0.0):
        raise ValueError("t_eval must be a sorted 1-d array")
    if t_out.size and (t_out[0] < t0 or t_out[-1] > t1):
        raise ValueError("t_eval must lie inside t_span")
    y_out = np.full((t_out.size, y0a.size), np.nan)
    status, _y_end, next_out, _ns, _nr, _h = integrate_segment(
        rhs,
        t0,
        t1,
        y0a,
        pa,
        t_out,
        y_out,
        0,
        float(rtol),
        float(atol),
        0.0,
        int(max_steps),
        int(n_implicit),
    )
    if status != 0:
        raise RuntimeError(
            f"rosenbrock.solve failed: status {status} "
            f"({_STATUS_NAMES.get(int(status), 'unknown')}), "
            f"{next_out} of {t_out.size} outputs filled"
        )
    return y_out
