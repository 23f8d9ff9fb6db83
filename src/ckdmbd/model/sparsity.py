"""The Jacobian's sparsity pattern, read from the submodels' own source, and a column colouring for it.

Why: a stiff step needs the Jacobian df/dy. Finite-differencing every column costs one right-hand-side call per
state (52 in the default configuration), about half of a run's time. Most states do not act on most derivatives,
though: parathyroid states do not enter the bone-mineral fluxes directly, and so on. If the zero pattern is known,
columns that never share a nonzero row can be perturbed together ("coloured" finite differences, Curtis, Powell &
Reid 1974, J Inst Math Appl 13:117; the greedy ordering of Coleman & Moré 1983, SIAM J Numer Anal 20:187), so the
Jacobian costs one call per colour instead of one per column.

How the pattern is found: each submodel's function is pure and its argument names are what it reads. A data-flow
pass over the function's syntax tree (:func:`output_dependencies`) finds, for each returned output, the arguments
it can depend on: a variable depends on every name in the expressions assigned to it (to a fixed point, so loops
and reassignments are covered), on every condition of an ``if``/``while`` it is assigned under, and every output on
the conditions of any branch that returns, breaks or continues early. This over-approximates (a dependence that
vanishes numerically is kept), which is what a sparsity pattern may do; it never misses one as long as the
functions read nothing but their arguments and module constants (the framework's contract). Outputs of other
submodels are resolved transitively through the composition order. A function whose source cannot be read falls
back to "every output depends on every input". ``tests/test_engine_jacobian.py`` checks the pattern and the
coloured Jacobian against central differences on every configuration at states along a run.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ckdmbd.model.framework import Process, State, Submodel


def _names(node: ast.AST | None) -> set[str]:
    if node is None:
        return set()
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _target_names(target: ast.AST) -> list[str]:
    """Variables a store target writes (``a``, ``a, b``, ``a[i]`` writes ``a``, ``a.x`` writes ``a``)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [n for elt in target.elts for n in _target_names(elt)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, ast.Subscript | ast.Attribute):
        base = target.value
        while isinstance(base, ast.Subscript | ast.Attribute):
            base = base.value
        return [base.id] if isinstance(base, ast.Name) else []
    return []


def _exits_early(stmts: Sequence[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Return | ast.Break | ast.Continue) for s in stmts for n in ast.walk(s))


class _UnknownConstructError(Exception):
    """A statement the data-flow pass does not follow; the function is then treated as dense (every output may
    depend on every argument), which is always safe."""


class _DataFlow:
    """Flow-insensitive, control-aware dependence of local variables on the function's arguments."""

    def __init__(self, args: Sequence[str], arrays: set[str]):
        self.deps: dict[str, set[str]] = {a: {a} for a in args}
        self.arrays = arrays  # locals that may be mutable arrays: a call may write into them
        self.global_ctx: set[str] = set()  # names (not yet resolved) every output depends on
        self.returns: list[tuple[ast.expr | None, set[str]]] = []
        self.changed = False

    def expr(self, names: set[str]) -> set[str]:
        out: set[str] = set()
        for n in names:
            out |= self.deps.get(n, set())  # a name that is no local/argument is a module constant or function
        return out

    def write(self, name: str, deps: set[str]) -> None:
        have = self.deps.setdefault(name, set())
        if not deps <= have:
            have |= deps
            self.changed = True

    def block(self, stmts: Sequence[ast.stmt], ctx: set[str]) -> None:
        for s in stmts:
            self.stmt(s, ctx)

    def stmt(self, s: ast.stmt, ctx: set[str]) -> None:
        if not isinstance(s, ast.If | ast.While | ast.For | ast.Try):  # compound statements: per inner statement
            for call in (n for n in ast.walk(s) if isinstance(n, ast.Call)):
                # a call may write into an array it is given (or, as a bare statement, into any argument)
                passed = _names(ast.Tuple(elts=[*call.args, *(k.value for k in call.keywords)]))
                if isinstance(call.func, ast.Attribute):
                    passed |= _names(call.func.value)
                d = self.expr(_names(call)) | ctx
                for name in passed:
                    if name in self.deps and (name in self.arrays or isinstance(s, ast.Expr)):
                        self.write(name, d)
        if isinstance(s, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            if s.value is None:
                return
            value_names = _names(s.value)
            for tgt in targets:
                if isinstance(s, ast.Assign) and isinstance(tgt, ast.Tuple) and isinstance(s.value, ast.Tuple) \
                        and len(tgt.elts) == len(s.value.elts):
                    pairs = list(zip(tgt.elts, s.value.elts, strict=True))
                else:
                    pairs = [(tgt, s.value)]
                for t, v in pairs:
                    names = _names(v) if len(pairs) > 1 else value_names
                    if isinstance(t, ast.Subscript | ast.Attribute):
                        names = names | _names(t)  # the index read by a[i] = ...
                    d = self.expr(names) | ctx
                    if isinstance(s, ast.AugAssign):
                        d = d | self.expr(_names(t))
                    for name in _target_names(t):
                        self.write(name, d)
        elif isinstance(s, ast.If | ast.While):
            inner = ctx | self.expr(_names(s.test))
            if _exits_early(s.body) or _exits_early(s.orelse):
                self.global_ctx |= _names(s.test)
            self.block(s.body, inner)
            self.block(s.orelse, inner)
        elif isinstance(s, ast.For):
            inner = ctx | self.expr(_names(s.iter))
            for name in _target_names(s.target):
                self.write(name, inner)
            if _exits_early(s.body):
                self.global_ctx |= _names(s.iter)
            self.block(s.body, inner)
            self.block(s.orelse, inner)
        elif isinstance(s, ast.Return):
            self.returns.append((s.value, set(ctx)))
        elif isinstance(s, ast.Try):
            for part in (s.body, *(h.body for h in s.handlers), s.orelse, s.finalbody):
                self.block(part, ctx)
        elif isinstance(s, ast.Expr | ast.Pass | ast.Assert | ast.Raise | ast.Break | ast.Continue):
            pass  # no store (a call as a statement has no effect on a pure function's values)
        else:
            raise _UnknownConstructError(type(s).__name__)


def output_dependencies(function, n_outputs: int) -> list[set[str]] | None:
    """For each of the function's ``n_outputs`` returned values, the argument names it may depend on.

    None if the source cannot be read or holds a construct the pass does not know (the caller then assumes every
    output depends on every argument)."""
    fn = getattr(function, "py_func", function)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if len(defs) != 1:
        return None
    fdef = defs[0]
    if any(isinstance(n, ast.NamedExpr | ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef) and n is not fdef
           for n in ast.walk(fdef)):
        return None  # stores inside expressions or nested scopes: not followed
    args = [a.arg for a in fdef.args.args]
    arrays = set()
    for n in ast.walk(fdef):
        if isinstance(n, ast.Subscript | ast.Attribute) and isinstance(n.ctx, ast.Store):
            arrays.update(_target_names(n))
        elif isinstance(n, ast.Assign) and isinstance(n.value, ast.Call):
            arrays.update(t for tgt in n.targets for t in _target_names(tgt))  # may hold an array it returned
    flow = _DataFlow(args, arrays)
    try:
        for _ in range(100):  # to a fixed point: reassignments and loops feed dependences back
            flow.changed = False
            flow.returns = []
            flow.block(fdef.body, set())
            if not flow.changed:
                break
        else:
            return None
    except _UnknownConstructError:
        return None
    if not flow.returns:
        return None
    common = flow.expr(flow.global_ctx)
    out = [set(common) for _ in range(n_outputs)]
    for value, ctx in flow.returns:
        if isinstance(value, ast.Tuple) and len(value.elts) == n_outputs:
            for k, elt in enumerate(value.elts):
                out[k] |= flow.expr(_names(elt)) | ctx
        else:  # a returned variable holding the tuple: every output depends on all of it
            d = flow.expr(_names(value)) | ctx
            for k in range(n_outputs):
                out[k] |= d
    return [o & set(args) for o in out]


@dataclass(frozen=True)
class JacobianStructure:
    """Sparsity pattern of df/dy over the dynamic columns and its column colouring, as flat integer tables for the
    compiled solver.

    ``pattern[i, j]``: derivative i (any state, ledgers included) may depend on dynamic state j. Colour c groups
    columns ``colour_cols[colour_ptr[c]:colour_ptr[c + 1]]``; column j's possibly nonzero rows are
    ``col_rows[col_ptr[j]:col_ptr[j + 1]]``. ``time_dependent``: some submodel reads ``t`` (else df/dt = 0)."""

    pattern: np.ndarray
    colour_ptr: np.ndarray
    colour_cols: np.ndarray
    col_ptr: np.ndarray
    col_rows: np.ndarray
    time_dependent: bool
    submodel_masks: np.ndarray
    """(n_colours + 1, n_submodels) uint8: 1 where a submodel (in composition order) reads, directly or through
    other outputs, a state of that colour; the last row: it reads ``t``. The generated solver re-evaluates only
    those per colour (the others' outputs are unchanged, bit for bit)."""
    exact_submodels: tuple[str, ...]
    """Submodels whose per-output dependences were read from their source (the others count as dense)."""

    @property
    def n_colours(self) -> int:
        return len(self.colour_ptr) - 1


def colour_columns(pattern: np.ndarray) -> np.ndarray:
    """Greedy colouring of the columns of ``pattern`` (largest-first order): two columns with a common nonzero
    row never share a colour, so one perturbation per colour recovers every column exactly (to FD error)."""
    n = pattern.shape[1]
    colour = np.full(n, -1, dtype=np.int64)
    overlap = (pattern.T.astype(np.int64) @ pattern.astype(np.int64)) > 0
    for j in sorted(range(n), key=lambda j: (-int(pattern[:, j].sum()), j)):
        used = {int(colour[k]) for k in np.flatnonzero(overlap[j]) if colour[k] >= 0}
        c = 0
        while c in used:
            c += 1
        colour[j] = c
    return colour


def jacobian_structure(
    ordered: Sequence[Submodel],
    states: Sequence[State],
    processes: Sequence[tuple[Submodel, Process]],
    ledger_rates: Sequence[tuple[int, str]],
    n_total: int,
) -> JacobianStructure:
    """Pattern of the composed right-hand side: derivative rows (dynamic states, then ledgers ``(row, rate)``)
    against the dynamic state columns."""
    sidx = {st.name: i for i, st in enumerate(states)}
    sidx["t"] = -1  # time, for the df/dt column
    dep: dict[str, set[int]] = {}  # output -> dynamic state indices (-1: t) it may depend on
    exact: list[str] = []
    submodel_reads: list[set[int]] = []
    for sm in ordered:
        per_output = output_dependencies(sm.function, len(sm.outputs))
        if per_output is None:
            per_output = [set(sm.inputs) for _ in sm.outputs]
        else:
            exact.append(sm.name)
        reads_any: set[int] = set()
        for r in sm.inputs:
            reads_any |= {sidx[r]} if r in sidx else dep.get(r, set())
        submodel_reads.append(reads_any)
        for name, reads in zip(sm.outputs, per_output, strict=True):
            d: set[int] = set()
            for r in reads:
                if r in sidx:
                    d.add(sidx[r])
                elif r in dep:
                    d |= dep[r]
            dep[name] = d
    dep = {k: {i for i in v if i >= 0} for k, v in dep.items()}
    n = len(states)
    pattern = np.zeros((n_total, n), dtype=bool)
    for _sm, proc in processes:
        cols = sorted(dep[proc.rate])
        for st in proc.stoichiometry:
            pattern[sidx[st], cols] = True
    for row, rate in ledger_rates:
        pattern[row, sorted(dep[rate])] = True
    colour = colour_columns(pattern)
    order = np.argsort(colour, kind="stable")
    n_col = int(colour.max()) + 1 if n else 0
    colour_ptr = np.searchsorted(colour[order], np.arange(n_col + 1)).astype(np.int64)
    col_ptr = np.zeros(n + 1, dtype=np.int64)
    rows: list[int] = []
    for j in range(n):
        r = np.flatnonzero(pattern[:, j])
        rows.extend(int(x) for x in r)
        col_ptr[j + 1] = len(rows)
    reads_t = any("t" in sm.inputs for sm in ordered)
    masks = np.zeros((n_col + 1, len(ordered)), dtype=np.uint8)
    for c in range(n_col):
        cols = set(order[colour_ptr[c]:colour_ptr[c + 1]].tolist())
        masks[c] = [bool(r & cols) for r in submodel_reads]
    masks[n_col] = [-1 in r for r in submodel_reads]
    return JacobianStructure(pattern, colour_ptr, order.astype(np.int64), col_ptr,
                             np.array(rows, dtype=np.int64), reads_t, masks, tuple(exact))
