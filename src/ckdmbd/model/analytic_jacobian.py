"""The analytic Jacobian df/dy (and df/dt), generated as numba source from the symbolic form of the model.

Why: the Rosenbrock solver needs df/dy at every step. Coloured finite differences cost one right-hand-side call per
colour (about half of a run's time) and carry a truncation error of ~1e-8. The symbolic form
(:mod:`ckdmbd.model.symbolic`) is read from the submodels' own code, so its derivatives are those of the code
itself, never of a hand-kept copy: when a submodel changes, the symbolic form and this Jacobian change with it.

How: the symbolic form is a chain of named assignments (each submodel output and each local variable of the
submodels' code) over the states, the parameters, ``t`` and earlier assignments. Each assignment's partial
derivatives with respect to the symbols it reads directly are differentiated by sympy (``max``/``min`` as
``Piecewise`` first, so that a kink takes the branch the code takes) and simplified by common-subexpression
elimination; the gradient over the dynamic states (and ``t``) is then propagated forward through the chain on the
sparsity pattern only: one scalar per (assignment, state it can reach), the chain rule written out. The generated
function ``analytic_jacobian(t, y, p, jac, fx)`` writes the pattern entries of ``jac`` (rows: every state, ledger
states included; columns: the dynamic states) and ``fx`` = df/dt, and returns False when an entry is not finite (a
fractional power at exactly zero, say): the solver then takes coloured finite differences for that step.
``analytic_jacobian_f(t, y, p, jac, fx, f)`` does the same and writes f(t, y) itself, which the pass computes on
the way (each assignment's value): the solver takes a step's f(t, y) from it instead of one more right-hand-side
call (one of seven per step; the same values up to rounding, the assignments being the symbolic form's).

What it cannot read (:class:`ckdmbd.model.symbolic.SymbolicFormError`: a loop, a subscript, an unknown call; a
derivative that reads a ledger state; a nonzero outside the composer's sparsity pattern; a function without a numba
spelling) makes :func:`jacobian_source` return None, and the model solves with coloured finite differences.

Building the symbolic form and differentiating it takes seconds, so the generated source is kept in the code cache
(:mod:`ckdmbd.model.code_cache`), under a name that hashes everything it depends on: the composer's generated right
-hand side (the wiring), the source of every ckdmbd module the submodels' functions reach, this module,
``symbolic.py`` and sympy's version. The cached text is run as code, like the generated module beside it: it is
read only from the user's checked private cache folder (:func:`ckdmbd.model.code_cache.cache_dir`), and a file that
does not start with this generator's header is regenerated. ``tests/test_analytic_jacobian.py`` checks it against
central differences on every configuration.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Sequence
from functools import cache
from importlib import metadata
from pathlib import Path
from types import ModuleType

import numpy as np

GENERATOR_VERSION = "3"  # 3: analytic_jacobian_f, f(t, y) from the same pass
_HEADER = "# analytic Jacobian of {name!r}, generated from its symbolic form by ckdmbd.model.analytic_jacobian\n"


def _reachable_modules(functions: Sequence) -> list[ModuleType]:
    """The ckdmbd modules the submodels' functions live in and every ckdmbd module their globals reach (helpers such
    as ``hill`` or ``ppow`` in another module), transitively."""
    seen: dict[str, ModuleType] = {}
    todo = [getattr(fn, "py_func", fn) for fn in functions]
    while todo:
        fn = todo.pop()
        name = getattr(fn, "__module__", None)
        if not name or not name.startswith("ckdmbd") or name in seen or name not in sys.modules:
            continue
        module = sys.modules[name]
        seen[name] = module
        for value in vars(module).values():
            target = getattr(value, "py_func", value)
            if isinstance(target, ModuleType):
                if target.__name__.startswith("ckdmbd") and target.__name__ not in seen:
                    seen[target.__name__] = target
                    todo.extend(v for v in vars(target).values() if callable(v))
            elif callable(target) and getattr(target, "__module__", "").startswith("ckdmbd"):
                todo.append(target)
    return [seen[k] for k in sorted(seen)]


def cache_key(model_name: str, rhs_source: str, functions: Sequence) -> str:
    """Hash of everything the generated Jacobian depends on (see the module docstring)."""
    digest = hashlib.sha256(GENERATOR_VERSION.encode())
    digest.update(model_name.encode())
    digest.update(rhs_source.encode())
    try:  # not ``import sympy``: a cache hit must not pay sympy's import (~0.4 s of a cold start)
        digest.update(metadata.version("sympy").encode())
    except metadata.PackageNotFoundError:
        digest.update(b"<no sympy>")
    symbolic = importlib.util.find_spec("ckdmbd.model.symbolic")
    digest.update(Path(symbolic.origin).read_bytes() if symbolic and symbolic.origin else b"<no symbolic>")
    for module in [sys.modules[__name__], *_reachable_modules(functions)]:
        try:
            digest.update(inspect.getsource(module).encode())
        except (OSError, TypeError):
            digest.update(f"<no source: {module.__name__}>".encode())
    return digest.hexdigest()[:16]


def cached_jacobian_source(model, rhs_source: str) -> str:
    """The generated Jacobian source of ``model`` (a :class:`ckdmbd.model.composer.CompiledModel` whose
    ``generated`` module may not exist yet), from the code cache when it holds it, else generated and stored.
    An empty string: the symbolic pass cannot read this model (the solver uses coloured finite differences)."""
    from ckdmbd.model.code_cache import cache_dir

    key = cache_key(model.name, rhs_source, [sm.function for sm in model.submodels])
    path = cache_dir() / f"jacobian_{model.name.replace('-', '_')}_{key}.txt"
    try:
        cached = path.read_text()
    except (OSError, UnicodeDecodeError):
        cached = None
    if cached is not None and (cached == "" or cached.startswith(_HEADER.format(name=model.name))):
        return cached  # (a truncated or foreign file is regenerated; the folder itself is checked private)
    source = jacobian_source(model) or ""
    try:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)  # atomic: parallel workers never read a half-written file
    except OSError:
        pass  # a read-only cache only costs the regeneration next time
    return source


def jacobian_source(model) -> str | None:
    """numba source defining ``analytic_jacobian(t, y, p, jac, fx) -> bool``, ``analytic_jacobian_f(t, y, p, jac,
    fx, f) -> bool`` (also f(t, y) into f) and ``ANALYTIC_NONZEROS`` (the (row,
    column) pairs it writes), or None when the symbolic pass cannot read the model (the reason is not an error: the
    solver falls back to coloured finite differences)."""
    from ckdmbd.model.symbolic import symbolic_form

    try:
        return _generate(symbolic_form(model), model)
    except Exception:  # SymbolicFormError, or any failure of sympy: the fallback is always correct
        return None


def _generate(sym, model) -> str:
    import sympy

    from ckdmbd.model.symbolic import SymbolicFormError, _smooth_form

    ni = len(model.states)
    n = len(model.state_names)
    time_col = ni  # df/dt is the column after the dynamic states
    state_col = {s: i for i, s in enumerate(sym.states)}
    printer = _numba_printer()
    pr = printer.doprint

    lines = [f"    {printer.name(s)} = y[{i}]" for i, s in enumerate(sym.states[:ni])]
    pidx = {nm: i for i, nm in enumerate(model.parameter_names)}
    lines += [f"    {printer.name(s)} = p[{pidx[s.name]}]" for s in sym.parameters]

    reach: dict[sympy.Symbol, dict[int, str]] = {}  # symbol -> {column: the name of its gradient entry}
    for s, i in state_col.items():
        if i < ni:
            reach[s] = {i: "1.0"}
    reach[sym.time] = {time_col: "1.0"}

    def chain(k: int, expr, label: str) -> dict[int, str]:
        """Lines computing ``expr``'s gradient entries; returns {column: expression naming the entry}."""
        expr = _with_power_rule(_smooth_form(expr))
        reads = sorted(expr.free_symbols & set(reach) | {s for s in expr.free_symbols if s in state_col},
                       key=lambda s: s.name)
        partials = []
        for s in reads:
            if s in state_col and state_col[s] >= ni:
                raise SymbolicFormError(f"{label} reads the ledger state {s.name} (a quadrature)")
            d = sympy.diff(expr, s)
            if d != 0:
                partials.append((s, d))
        if not partials:
            return {}
        subs, reduced = sympy.cse([d for _, d in partials], symbols=sympy.numbered_symbols(f"c{k}_"))
        for c, e in subs:
            lines.append(f"    {printer.name(c)} = {pr(e)}")
        terms: dict[int, list[str]] = {}
        for m, ((s, _), d) in enumerate(zip(partials, reduced, strict=True)):
            dname = f"d{k}_{m}"
            lines.append(f"    {dname} = {pr(d)}")
            for col, g in reach[s].items():
                terms.setdefault(col, []).append(dname if g == "1.0" else f"{dname} * {g}")
        return {col: " + ".join(ts) for col, ts in sorted(terms.items())}

    for k, (o, e) in enumerate(sym.assignments):
        lines.append(f"    {printer.name(o)} = {pr(e)}")
        grads = chain(k, e, f"assignment {o.name}")
        reach[o] = {}
        for col, g in grads.items():
            gname = f"g{k}_{col}"
            lines.append(f"    {gname} = {g}")
            reach[o][col] = gname
    allowed = model.jacobian.pattern if model.jacobian is not None else np.ones((n, ni), dtype=bool)
    nonzeros: list[tuple[int, int]] = []
    time_rows: list[int] = []
    base = len(sym.assignments)
    for i, d in enumerate(sym.derivatives):
        lines.append(f"    f[{i}] = {pr(d)}")  # f itself: the step's f(t, y) comes with its Jacobian
        grads = chain(base + i, d, f"d {sym.states[i].name}/dt")
        for col, g in grads.items():
            if col == time_col:
                lines.append(f"    fx[{i}] = {g}")
                time_rows.append(i)
                continue
            if not allowed[i, col]:
                raise SymbolicFormError(f"d {sym.states[i].name}/dt depends on {sym.states[col].name}, outside the "
                                        f"composer's sparsity pattern")
            lines.append(f"    jac[{i}, {col}] = {g}")
            nonzeros.append((i, col))
    rows = ", ".join(str(i) for i, _ in nonzeros)
    cols = ", ".join(str(j) for _, j in nonzeros)
    zero_fx = [f"    fx[{i}] = 0.0" for i in range(n) if i not in set(time_rows)]
    check = [
        "    acc = 0.0",
        "    for m in range(ANALYTIC_ROWS.shape[0]):",
        "        acc += jac[ANALYTIC_ROWS[m], ANALYTIC_COLS[m]] * 0.0",
        "    for i in range(fx.shape[0]):",
        "        acc += fx[i] * 0.0",
        "    return acc == 0.0  # NaN as soon as one entry is NaN or infinite",
    ]
    header = [
        _HEADER.format(name=model.name),
        "import math",
        "import numpy as _np",
        f"ANALYTIC_ROWS = _np.array([{rows}], dtype=_np.int64)",
        f"ANALYTIC_COLS = _np.array([{cols}], dtype=_np.int64)",
        "",
        '@numba.njit(cache=True, error_model="numpy")',
        "def analytic_jacobian(t, y, p, jac, fx):",
        "    return analytic_jacobian_f(t, y, p, jac, fx, _np.empty(fx.shape[0]))",
        "",
        "",
        '@numba.njit(cache=True, error_model="numpy")',
        "def analytic_jacobian_f(t, y, p, jac, fx, f):",
        f"    {printer.name(sym.time)} = t",
    ]
    return header[0] + "\n".join([*header[1:], *lines, *zero_fx, *check, ""])


@cache
def _power_function():
    """``b**e`` with a symbolic exponent as a function whose derivatives are the power rule as written,
    d/db = e b**(e - 1), d/de = b**e log(b): sympy's own rule, b**e * e / b, is NaN at b = 0 where the code's value
    and its derivative are 0 (a Hill term of an empty depot)."""
    import sympy

    class SymPow(sympy.Function):
        nargs = 2

        def fdiff(self, argindex=1):
            b, e = self.args
            return e * SymPow(b, e - 1) if argindex == 1 else self * sympy.log(b)

    return SymPow


def _with_power_rule(expr):
    power = _power_function()
    return expr.replace(lambda e: e.is_Pow and not e.exp.is_Number, lambda e: power(e.base, e.exp))


def _numba_printer():
    """The printer of the generated Jacobian: :class:`ckdmbd.model.symbolic.PythonPrinter` (the symbolic form's own
    spelling of floats, Max and Min) plus what numba source needs. Built on call, so that importing this module
    (a cache hit) does not import sympy."""
    from ckdmbd.model.symbolic import PythonPrinter, SymbolicFormError

    class NumbaPrinter(PythonPrinter):
        """Every symbol prefixed (no clash with the function's own names), ``SymPow`` as a power; anything without
        a spelling raises SymbolicFormError (the model then solves with coloured finite differences)."""

        def name(self, s) -> str:
            return f"v_{s.name}"

        def _print_Symbol(self, expr):
            return self.name(expr)

        def _print_SymPow(self, expr):
            b, e = expr.args
            return f"({self._print(b)})**({self._print(e)})"

        def _print_not_supported(self, expr):
            raise SymbolicFormError(f"{type(expr).__name__} ({expr}) has no compiled spelling")

    return NumbaPrinter({"fully_qualified_modules": True, "strict": False})
