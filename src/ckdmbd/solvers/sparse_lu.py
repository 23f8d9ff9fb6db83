"""Symbolic phase of the solver's sparse LU: a fill-reducing ordering and the fill pattern, once per model.

Why: every Rosenbrock step factors the iteration matrix E = I/(h gamma) - J of the implicit block (52 x 52 in the
default configuration). The Jacobian's sparsity pattern is known per model (:mod:`ckdmbd.model.sparsity`), and so
is the pattern of E (that of J plus the diagonal). Eliminating in a fixed, fill-reducing order touches only the
entries of the factors' pattern: with it the factorisation costs a few thousand flops instead of a dense LU's
~n^3/3 comparisons and updates, and the six stage solves read only the factors' entries.

What is computed here (Python, once): a symmetric permutation (the same order for rows and columns, so E's
diagonal -- dominated by 1/(h gamma) for short steps -- stays on the diagonal), chosen as the one of least fill
among a minimum-degree ordering of the graph of E + E^T (the elimination-graph form of Tinney & Walker 1967,
Proc IEEE 55:1801; see George & Liu 1989, SIAM Rev 31:1 for its history), reverse Cuthill-McKee
(:func:`scipy.sparse.csgraph.reverse_cuthill_mckee`) and the natural order; then the fill pattern of L and U by
symbolic Gaussian elimination without pivoting. The numeric phase (``ckdmbd.solvers.rosenbrock._splu_factor``)
factors only that pattern with the pivots in this order and checks each pivot against its column (threshold
partial pivoting, Duff, Erisman & Reid, "Direct Methods for Sparse Matrices", 2nd ed. 2017, Sect. 5.4); a step
whose pivot fails the test is factored by the dense LU with partial pivoting instead, so no step depends on the
order being numerically safe.

Measured (default configuration, 52 dynamic states): E has 296 entries of 2,704; L + U hold 329 in the
minimum-degree order (446 with reverse Cuthill-McKee, 1,057 in the natural order), 551 multiply-adds per
factorisation. Over a dialysis patient-year at the report, population and screen presets (8,165, 2,751 and 1,622
factorisations) no step fell back to the dense LU.

The result travels to the compiled solver as ONE int64 array (:attr:`SparseLU.plan`, layout in
:func:`pack_plan`), so that the solver's signatures grow by a single argument.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NO_PLAN", "SparseLU", "minimum_degree_order", "symbolic_fill", "symbolic_lu"]

NO_PLAN = np.zeros(1, dtype=np.int64)
"""The plan that selects the dense LU with partial pivoting (any array shorter than 2)."""

_N_PARTS = 10  # perm, iperm, lptr, lidx, uptr, uidx, fill rows, fill cols, entry rows, entry cols


@dataclass(frozen=True)
class SparseLU:
    """A fixed-order sparse LU of matrices with one sparsity pattern.

    ``perm[k]``: the original index of the k-th pivot; ``fill``: boolean (n, n) pattern of L + U in the permuted
    order (diagonal included); ``nnz_matrix``: entries of the pattern of E (J's pattern plus the diagonal);
    ``flops``: multiply-adds of one numeric factorisation; ``ordering``: which candidate was chosen;
    ``fills``: the fill (entries of L + U) of every candidate ordering."""

    perm: np.ndarray
    fill: np.ndarray
    nnz_matrix: int
    flops: int
    ordering: str
    fills: dict[str, int]
    plan: np.ndarray

    @property
    def n(self) -> int:
        return int(self.perm.shape[0])

    @property
    def nnz_factors(self) -> int:
        return int(self.fill.sum())


def minimum_degree_order(sym: np.ndarray) -> np.ndarray:
    """Minimum-degree ordering of a symmetric boolean pattern: repeatedly eliminate the node of least degree in the
    elimination graph (ties: the lowest index), joining its neighbours into a clique (the fill it causes)."""
    n = sym.shape[0]
    adj = [set(np.flatnonzero(sym[i]).tolist()) - {i} for i in range(n)]
    alive = set(range(n))
    order: list[int] = []
    while alive:
        k = min(alive, key=lambda v: (len(adj[v]), v))
        nb = adj[k]
        for a in nb:
            adj[a] |= nb
            adj[a].discard(a)
            adj[a].discard(k)
        adj[k] = set()
        alive.remove(k)
        order.append(k)
    return np.array(order, dtype=np.int64)


def symbolic_fill(pattern: np.ndarray) -> tuple[np.ndarray, int]:
    """Pattern of L + U (boolean, diagonal included) of Gaussian elimination without pivoting on ``pattern`` (any
    square boolean pattern, diagonal assumed nonzero), and the multiply-adds of the numeric factorisation."""
    n = pattern.shape[0]
    f = pattern.astype(bool).copy()
    np.fill_diagonal(f, True)
    flops = 0
    for k in range(n):
        rows = np.flatnonzero(f[k + 1:, k]) + k + 1
        cols = np.flatnonzero(f[k, k + 1:]) + k + 1
        if rows.size and cols.size:
            f[np.ix_(rows, cols)] = True
        flops += rows.size * (cols.size + 1)  # the multiplier and its row update
    return f, int(flops)


def symbolic_lu(jac_pattern: np.ndarray) -> SparseLU:
    """The fixed-order LU of E = I/(h gamma) - J for J with the square boolean pattern ``jac_pattern`` (the implicit
    block: ``JacobianStructure.pattern[:n_implicit]``): the candidate ordering of least fill (ties: minimum degree
    first) and its plan."""
    from scipy.sparse import csr_matrix  # scipy only when a model is first simulated
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    a = np.asarray(jac_pattern, dtype=bool)
    n = a.shape[0]
    if a.shape != (n, n):
        raise ValueError(f"the pattern of the implicit block must be square, got {a.shape}")
    e = a.copy()
    np.fill_diagonal(e, True)
    sym = e | e.T
    candidates = {
        "minimum degree": minimum_degree_order(sym),
        "reverse Cuthill-McKee": np.asarray(reverse_cuthill_mckee(csr_matrix(sym.astype(np.int8)),
                                                                  symmetric_mode=True), dtype=np.int64),
        "natural": np.arange(n, dtype=np.int64),
    }
    fills: dict[str, int] = {}
    best = None
    for name, perm in candidates.items():
        fill, flops = symbolic_fill(e[np.ix_(perm, perm)])
        fills[name] = int(fill.sum())
        if best is None or fills[name] < best[2].sum():
            best = (name, perm, fill, flops)
    name, perm, fill, flops = best
    return SparseLU(perm, fill, int(e.sum()), flops, name, fills, pack_plan(a, perm, fill))


def pack_plan(jac_pattern: np.ndarray, perm: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """The int64 array the compiled solver reads.

    Layout: ``plan[0] = n``; ``plan[1:12]`` the offsets of ten parts, part k being
    ``plan[plan[1 + k]:plan[2 + k]]``: 0 ``perm`` (pivot k's original index), 1 ``iperm`` (its inverse), 2-3
    ``lptr, lidx`` (rows i > k of L's column k, permuted indices), 4-5 ``uptr, uidx`` (columns j > k of U's row
    k), 6-7 the rows and columns of every entry of L + U (zeroed before a factorisation), 8-9 the original rows
    and columns of J's pattern in the implicit block (scattered into E)."""
    n = perm.shape[0]
    iperm = np.empty(n, dtype=np.int64)
    iperm[perm] = np.arange(n)
    lptr, lidx, uptr, uidx = [0], [], [0], []
    for k in range(n):
        lidx.extend((np.flatnonzero(fill[k + 1:, k]) + k + 1).tolist())
        lptr.append(len(lidx))
        uidx.extend((np.flatnonzero(fill[k, k + 1:]) + k + 1).tolist())
        uptr.append(len(uidx))
    frow, fcol = np.nonzero(fill)
    erow, ecol = np.nonzero(jac_pattern)
    parts = [perm, iperm, lptr, lidx, uptr, uidx, frow, fcol, erow, ecol]
    assert len(parts) == _N_PARTS
    header = 2 + _N_PARTS
    offsets = np.cumsum([header] + [len(p) for p in parts])
    return np.concatenate([[n], offsets, *[np.asarray(p, dtype=np.int64) for p in parts]]).astype(np.int64)


def straight_line_source(lu: SparseLU | None, decorator: str, pivot_threshold: float) -> str:
    """Source of the solver's hooks ``_own_plan``, ``_own_factor`` and ``_own_solve`` (``ckdmbd.solvers.rosenbrock``)
    for the generated model module: ``rosenbrock._splu_factor`` and ``_splu_solve`` unrolled on this plan.

    Why: the general routines spend most of their time reading the plan's index lists (the entries' positions,
    pivot order, fill) and loading and storing each entry of E through them; a dialysis year factors ~8,000
    times and solves six times per factorisation. Unrolled, each entry of the factorisation is a local variable
    and each index a constant. The operations and their order are those of the general routines (the same
    threshold test, the same updates of each entry in the same order), so the factors are the same numbers; the
    solve omits the general routine's skip of a zero right-hand side entry (subtracting an exact zero product
    changes no value). ``lu`` None (no pattern): hooks that decline."""
    if lu is None:
        return "\n".join([decorator, "def _own_plan(plan):", "    return False", "", "", decorator,
                          "def _own_factor(jac, fac, e, w):", "    return False", "", "", decorator,
                          "def _own_solve(e, b):", "    return", ""])
    plan = lu.plan
    n = int(plan[0])

    def part(k: int) -> np.ndarray:
        return plan[plan[1 + k]:plan[2 + k]]

    perm, iperm, lptr, lidx, uptr, uidx, _frow, _fcol, erow, ecol = (part(k) for k in range(_N_PARTS))
    entries = list(zip(*np.nonzero(lu.fill), strict=True))  # permuted (row, column) of every entry of L + U
    scattered: dict[tuple[int, int], str] = {}
    for i, j in zip(erow.tolist(), ecol.tolist(), strict=True):
        scattered[(int(iperm[i]), int(iperm[j]))] = f"-jac[{i}, {j}]"

    def v(i: int, j: int) -> str:
        return f"v{i}_{j}"

    fac = ["def _own_factor(jac, fac, e, w):",
           f'    """rosenbrock._splu_factor unrolled on the plan of {n} pivots ({len(entries)} entries of L + U)."""']
    for i, j in entries:
        value = scattered.get((i, j), "0.0")
        fac.append(f"    {v(i, j)} = {value} + fac" if i == j else f"    {v(i, j)} = {value}")
    for k in range(n):
        rows = lidx[lptr[k]:lptr[k + 1]].tolist()
        cols = uidx[uptr[k]:uptr[k + 1]].tolist()
        fac.append(f"    apiv = abs({v(k, k)})")
        fac.append("    amax = 0.0")
        fac.extend(f"    amax = max(amax, abs({v(i, k)}) / w[{perm[i]}])" for i in rows)
        fac.append(f"    amax *= w[{perm[k]}]")
        fac.append(f"    if not (apiv > 0.0) or apiv == np.inf or not (apiv >= {pivot_threshold!r} * amax):")
        fac.append("        return False")
        if rows:
            fac.append(f"    inv = 1.0 / {v(k, k)}")
        for i in rows:
            fac.append(f"    {v(i, k)} = {v(i, k)} * inv")
            fac.extend(f"    {v(i, j)} -= {v(i, k)} * {v(k, j)}" for j in cols)
    fac.extend(f"    e[{i}, {j}] = {v(i, j)}" for i, j in entries)
    fac.append("    return True")

    sol = ["def _own_solve(e, b):",
           '    """rosenbrock._splu_solve unrolled on the same plan (b[:n] in place)."""']
    sol.extend(f"    x{k} = b[{perm[k]}]" for k in range(n))
    for k in range(n):
        sol.extend(f"    x{i} -= e[{i}, {k}] * x{k}" for i in lidx[lptr[k]:lptr[k + 1]].tolist())
    for i in range(n - 1, -1, -1):
        terms = "".join(f" - e[{i}, {j}] * x{j}" for j in uidx[uptr[i]:uptr[i + 1]].tolist())
        sol.append(f"    x{i} = (x{i}{terms}) / e[{i}, {i}]" if terms else f"    x{i} = x{i} / e[{i}, {i}]")
    sol.extend(f"    b[{perm[k]}] = x{k}" for k in range(n))

    own = ["_OWN_PLAN = np.array([" + ", ".join(str(int(x)) for x in plan) + "], dtype=np.int64)", "", "",
           decorator, "def _own_plan(plan):",
           '    """Whether plan is the one the functions below were unrolled on (checked once per segment)."""',
           "    if plan.shape[0] != _OWN_PLAN.shape[0]:", "        return False",
           "    for i in range(plan.shape[0]):", "        if plan[i] != _OWN_PLAN[i]:", "            return False",
           "    return True"]
    return "\n".join(["import numpy as np", "", "", *own, "", "", decorator, *fac, "", "", decorator, *sol, ""])
