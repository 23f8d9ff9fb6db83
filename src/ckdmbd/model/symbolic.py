"""The composed model as one symbolic object, read from the submodels' own code.

Why: the compiled right-hand side, its Jacobian and an SBML export must all say the same thing. Rather than
writing the equations a second time (where they would drift from the code), each submodel's function is *executed
on sympy symbols*: its Python source (``py_func`` of the numba dispatcher) is parsed, the few constructs that do
not work on symbols are rewritten (:class:`_SymbolicRewriter`), and the statements are run by a small interpreter
(:class:`_Interpreter`) that turns branches on symbolic conditions into :class:`sympy.Piecewise`:

- ``max``/``min``/``abs`` -> :class:`sympy.Max`, :class:`sympy.Min`, :class:`sympy.Abs`; ``math.exp``, ``log``,
  ``log1p``, ``sqrt``, ``tanh`` ... -> their sympy functions (numbers stay numbers);
- comparisons, ``and``/``or``/``not`` -> sympy relations and logic when an operand is symbolic;
- ``a if c else b`` and ``if c: ... else: ...`` on a symbolic ``c`` -> ``Piecewise((a, c), (b, True))``: variables
  assigned in a branch are merged per variable; a branch that returns forks the rest of the function, and the two
  returned values are merged the same way;
- calls of other numba/Python helpers (``ppow``, ``hill``, ``smooth_floor`` ...) are executed the same way, so
  ``ppow(x, g)`` becomes ``Piecewise((x, x > 0), (0, True))**g`` exactly as its code says.

Anything else (loops, subscripts, comprehensions, a call of an unknown function on a symbol) raises
:class:`SymbolicFormError` naming the submodel, the function, the line and the construct.

The composition reuses the composer's wiring (:class:`ckdmbd.model.composer.CompiledModel`): its submodel order,
its state order (physiological states, then one ledger state per booked process) and its processes; each output
becomes one named assignment (a symbol and its expression over states, parameters, earlier outputs and ``t``), and
each derivative is the sum of its processes' rates times their stoichiometry. ``tests/test_symbolic.py`` checks
the result against the compiled model: the right-hand side to 1e-10 and the Jacobian against central differences.
"""

from __future__ import annotations

import ast
import copy
import inspect
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import numpy as np
import sympy
from sympy.printing.pycode import PythonCodePrinter

from ckdmbd.model.composer import CompiledModel


class SymbolicFormError(ValueError):
    """A submodel's code holds a construct that cannot be executed on symbols (the message names it)."""


# --- semantics of the rewritten constructs -------------------------------------------------------------------------

_NUMBER = (int, float)


def _is_number(x) -> bool:
    return isinstance(x, _NUMBER) and not isinstance(x, bool)


def _concrete_truth(c):
    """True/False when ``c`` is decided (a Python bool or number, sympy true/false), else None."""
    if isinstance(c, bool):
        return c
    if _is_number(c):
        return c != 0
    if c is sympy.true or c is sympy.false:
        return bool(c)
    if isinstance(c, sympy.Number):
        return bool(c != 0)
    return None


def _piecewise(c, a, b):
    """``a`` where ``c``, else ``b``; tuples element by element."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        if not (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)):
            raise SymbolicFormError("branches return or assign values of different shapes")
        return tuple(_piecewise(c, x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, _Undefined) or isinstance(b, _Undefined):
        return a if isinstance(a, _Undefined) else b
    decided = _concrete_truth(c)
    if decided is not None:
        return a if decided else b
    a, b = sympy.sympify(a), sympy.sympify(b)
    if a == b:
        return a
    rest = b.args if isinstance(b, sympy.Piecewise) else ((b, True),)
    return sympy.Piecewise((a, c), *rest)


def _ifexp(c, then: Callable, other: Callable):
    decided = _concrete_truth(c)
    if decided is not None:
        return then() if decided else other()
    return _piecewise(c, then(), other())


_RELATIONS = {
    "Lt": (lambda a, b: a < b, sympy.Lt), "LtE": (lambda a, b: a <= b, sympy.Le),
    "Gt": (lambda a, b: a > b, sympy.Gt), "GtE": (lambda a, b: a >= b, sympy.Ge),
    "Eq": (lambda a, b: a == b, sympy.Eq), "NotEq": (lambda a, b: a != b, sympy.Ne),
}


def _compare(op: str, a, b):
    numeric, symbolic = _RELATIONS[op]
    if _is_number(a) and _is_number(b):
        return numeric(a, b)
    return symbolic(a, b)


def _short_circuit(thunks, absorbing: bool, combine):
    """Python's ``and`` (absorbing False) / ``or`` (absorbing True) over lazily evaluated operands: a concretely
    decided operand equal to ``absorbing`` ends it; undecided (symbolic) operands are combined with ``combine``."""
    terms = []
    for thunk in thunks:
        v = thunk()
        decided = _concrete_truth(v)
        if decided is absorbing:
            return absorbing
        if decided is None:
            terms.append(v)
    return combine(*terms) if terms else not absorbing


def _and(*thunks: Callable):
    return _short_circuit(thunks, False, sympy.And)


def _or(*thunks: Callable):
    return _short_circuit(thunks, True, sympy.Or)


def _not(x):
    decided = _concrete_truth(x)
    return (not decided) if decided is not None else sympy.Not(x)


def _numeric_or(numeric: Callable, symbolic: Callable) -> Callable:
    def f(*args):
        if all(_is_number(a) for a in args):
            return numeric(*args)
        return symbolic(*args)

    f.__name__ = getattr(numeric, "__name__", "f")
    return f


_SYMBOLIC_BUILTINS = {
    "max": _numeric_or(max, sympy.Max),
    "min": _numeric_or(min, sympy.Min),
    "abs": _numeric_or(abs, sympy.Abs),
    "float": _numeric_or(float, lambda x: x),
}


class _SympyMath:
    """What ``math.X`` means on a symbol (numbers still go to :mod:`math`, so constants stay exact floats)."""

    pi = math.pi
    e = math.e
    inf = math.inf
    exp = staticmethod(_numeric_or(math.exp, sympy.exp))
    sqrt = staticmethod(_numeric_or(math.sqrt, sympy.sqrt))
    tanh = staticmethod(_numeric_or(math.tanh, sympy.tanh))
    sinh = staticmethod(_numeric_or(math.sinh, sympy.sinh))
    cosh = staticmethod(_numeric_or(math.cosh, sympy.cosh))
    log10 = staticmethod(_numeric_or(math.log10, lambda x: sympy.log(x, 10)))
    log1p = staticmethod(_numeric_or(math.log1p, lambda x: sympy.log(1 + x)))
    expm1 = staticmethod(_numeric_or(math.expm1, lambda x: sympy.exp(x) - 1))
    pow = staticmethod(_numeric_or(math.pow, lambda a, b: a**b))
    fabs = staticmethod(_numeric_or(math.fabs, sympy.Abs))

    @staticmethod
    def log(x, base=None):
        if base is None:
            return math.log(x) if _is_number(x) else sympy.log(x)
        return math.log(x, base) if _is_number(x) and _is_number(base) else sympy.log(x) / sympy.log(base)

    def __getattr__(self, name):
        raise SymbolicFormError(f"math.{name} has no symbolic meaning here")


class _Undefined:
    """A variable assigned on one branch only; reading it is an error (Python would fail there too)."""

    def __init__(self, name: str):
        self.name = name


# --- rewriting the syntax tree ---------------------------------------------------------------------------------

_REJECTED_EXPRESSIONS = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr,
                         ast.Subscript, ast.Starred, ast.JoinedStr, ast.Await, ast.Yield, ast.YieldFrom, ast.Dict,
                         ast.Set, ast.List, ast.Slice)


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _thunk(expr: ast.expr) -> ast.Lambda:
    return ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
                      body=expr)


class _SymbolicRewriter(ast.NodeTransformer):
    """Rewrites an expression so that it evaluates on sympy symbols: conditional expressions, boolean operators and
    comparisons become calls of the helpers above (lazily, so a branch that is not taken is not evaluated), and the
    built-ins ``max``/``min``/``abs`` their symbolic versions."""

    def __init__(self, where: str):
        self.where = where

    def generic_visit(self, node):
        if isinstance(node, _REJECTED_EXPRESSIONS):
            raise SymbolicFormError(f"{self.where}: {type(node).__name__} ({ast.unparse(node)!r}) cannot be executed "
                                    f"on symbols")
        return super().generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp):
        node = self.generic_visit(node)
        return _call("__sym_ifexp", node.test, _thunk(node.body), _thunk(node.orelse))

    def visit_BoolOp(self, node: ast.BoolOp):
        node = self.generic_visit(node)
        return _call("__sym_and" if isinstance(node.op, ast.And) else "__sym_or", *(_thunk(v) for v in node.values))

    def visit_Compare(self, node: ast.Compare):
        node = self.generic_visit(node)
        pairs = []
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            name = type(op).__name__
            if name not in _RELATIONS:
                raise SymbolicFormError(f"{self.where}: comparison {name} cannot be executed on symbols")
            pairs.append(_call("__sym_compare", ast.Constant(name), left, right))
            left = right
        return pairs[0] if len(pairs) == 1 else _call("__sym_and", *(_thunk(p) for p in pairs))

    def visit_UnaryOp(self, node: ast.UnaryOp):
        node = self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return _call("__sym_not", node.operand)
        return node

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id in _SYMBOLIC_BUILTINS:
            return ast.copy_location(ast.Name(id=f"__sym_{node.id}", ctx=ast.Load()), node)
        return node


_HELPERS = {
    "__sym_ifexp": _ifexp, "__sym_and": _and, "__sym_or": _or, "__sym_not": _not, "__sym_compare": _compare,
    **{f"__sym_{k}": v for k, v in _SYMBOLIC_BUILTINS.items()},
}


# --- executing a function on symbols --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ParsedFunction:
    name: str
    args: tuple[str, ...]
    body: tuple[ast.stmt, ...]
    globals: Mapping[str, object]
    first_line: int


@cache
def _parse(fn) -> _ParsedFunction:
    py = getattr(fn, "py_func", fn)
    try:
        source = textwrap.dedent(inspect.getsource(py))
    except (OSError, TypeError) as exc:
        raise SymbolicFormError(f"the source of {getattr(py, '__qualname__', py)!r} cannot be read") from exc
    tree = ast.parse(source)
    fdef = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    a = fdef.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults:
        raise SymbolicFormError(f"{py.__qualname__}: only plain positional arguments can be executed on symbols")
    return _ParsedFunction(py.__qualname__, tuple(x.arg for x in a.args), tuple(fdef.body), py.__globals__,
                           py.__code__.co_firstlineno)


class _ModuleProxy:
    """A module as seen by executed code: its functions are executed on symbols too."""

    def __init__(self, module: ModuleType, interpreter: _Interpreter):
        self._module = module
        self._interpreter = interpreter

    def __getattr__(self, name):
        return self._interpreter.wrap(getattr(self._module, name), f"{self._module.__name__}.{name}")


def _all_names(code) -> set[str]:
    """Global names a compiled expression reads, those of the lambdas (thunks) inside it included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _all_names(const)
    return names


def _returns(stmts: Sequence[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Return) for s in stmts for n in ast.walk(s))


class _Interpreter:
    """Runs a function's statements on symbolic values (see the module docstring)."""

    def __init__(self, submodel: str, reserved: set[str] = frozenset()):
        self.submodel = submodel
        self.reserved = set(reserved)
        self.intermediates: list[tuple[sympy.Symbol, sympy.Expr]] = []
        """Local variables of the executed functions, each as its own named symbol (``function_variable``): the
        expressions stay as small as the code's statements instead of growing by substitution."""
        self._code: dict[int, tuple] = {}

    def wrap(self, obj, label: str):
        if isinstance(obj, ModuleType):
            return _SympyMath() if obj is math else _ModuleProxy(obj, self)
        py = getattr(obj, "py_func", None)
        if py is None and inspect.isfunction(obj) and obj.__module__.startswith("ckdmbd."):
            py = obj
        if py is not None:
            return lambda *args: self.call(py, args)
        if _is_number(obj) or isinstance(obj, bool | str | tuple):
            return obj
        if callable(obj):
            raise SymbolicFormError(f"submodel {self.submodel!r}: {label} is a call the symbolic pass cannot follow")
        return obj

    def call(self, fn, args: Sequence) -> object:
        parsed = _parse(fn)
        if len(args) != len(parsed.args):
            raise SymbolicFormError(f"{parsed.name}: called with {len(args)} arguments, takes {len(parsed.args)}")
        env: dict[str, object] = dict(zip(parsed.args, args, strict=True))
        returned, value = self.block(list(parsed.body), env, parsed)
        if not returned:
            raise SymbolicFormError(f"submodel {self.submodel!r}: {parsed.name} ends without returning a value")
        return value

    def _where(self, parsed: _ParsedFunction, node: ast.AST) -> str:
        line = parsed.first_line + getattr(node, "lineno", 1) - 1
        return f"submodel {self.submodel!r}, {parsed.name} (line {line})"

    def eval(self, node: ast.expr, env: Mapping[str, object], parsed: _ParsedFunction):
        cached = self._code.get(id(node))
        if cached is None or cached[1] is not node:
            tree = _SymbolicRewriter(self._where(parsed, node)).visit(ast.Expression(body=copy.deepcopy(node)))
            cached = (compile(ast.fix_missing_locations(tree), parsed.name, "eval"), node)  # node kept: id unique
            self._code[id(node)] = cached
        code = cached[0]
        names = {}
        for name in _all_names(code):
            if name in env:
                value = env[name]
                if isinstance(value, _Undefined):
                    raise SymbolicFormError(f"{self._where(parsed, node)}: {name!r} is assigned on one branch only")
                names[name] = value
            elif name in _HELPERS:
                names[name] = _HELPERS[name]
            elif name in parsed.globals:
                names[name] = self.wrap(parsed.globals[name], name)
        names["__builtins__"] = {}
        try:
            return eval(code, names)
        except SymbolicFormError:
            raise
        except (TypeError, NameError, AttributeError, ZeroDivisionError) as exc:
            raise SymbolicFormError(f"{self._where(parsed, node)}: {ast.unparse(node)!r} cannot be executed on "
                                    f"symbols ({type(exc).__name__}: {exc})") from None

    def bind(self, name: str, value, parsed: _ParsedFunction):
        """``value`` as a named intermediate symbol when it is a compound expression."""
        if not isinstance(value, sympy.Expr) or value.is_Atom:
            return value
        base = f"{parsed.name.rsplit('.', 1)[-1]}_{name}".lstrip("_")
        label, k = base, 1
        while label in self.reserved:
            k += 1
            label = f"{base}_{k}"
        self.reserved.add(label)
        sym = sympy.Symbol(label, real=True)
        self.intermediates.append((sym, value))
        return sym

    def assign(self, target: ast.expr, value, env: dict, parsed: _ParsedFunction) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = self.bind(target.id, value, parsed)
        elif isinstance(target, ast.Tuple):
            if not isinstance(value, tuple) or len(value) != len(target.elts):
                raise SymbolicFormError(f"{self._where(parsed, target)}: cannot unpack into {ast.unparse(target)!r}")
            for t, v in zip(target.elts, value, strict=True):
                self.assign(t, v, env, parsed)
        else:
            raise SymbolicFormError(f"{self._where(parsed, target)}: assignment to {ast.unparse(target)!r} cannot be "
                                    f"executed on symbols")

    def block(self, stmts: list[ast.stmt], env: dict, parsed: _ParsedFunction) -> tuple[bool, object]:
        """(True, value) when the statements return, else (False, env after them)."""
        for i, s in enumerate(stmts):
            if isinstance(s, ast.Assign):
                value = self.eval(s.value, env, parsed)
                for t in s.targets:
                    self.assign(t, value, env, parsed)
            elif isinstance(s, ast.AnnAssign):
                if s.value is not None:
                    self.assign(s.target, self.eval(s.value, env, parsed), env, parsed)
            elif isinstance(s, ast.AugAssign):
                if not isinstance(s.target, ast.Name):
                    raise SymbolicFormError(f"{self._where(parsed, s)}: {ast.unparse(s)!r} cannot be executed")
                expr = ast.BinOp(left=ast.Name(id=s.target.id, ctx=ast.Load()), op=s.op, right=s.value)
                ast.copy_location(expr, s)
                env[s.target.id] = self.bind(s.target.id, self.eval(expr, env, parsed), parsed)
            elif isinstance(s, ast.Return):
                return True, (self.eval(s.value, env, parsed) if s.value is not None else None)
            elif isinstance(s, ast.If):
                cond = self.eval(s.test, env, parsed)
                decided = _concrete_truth(cond)
                rest = stmts[i + 1:]
                if decided is not None:
                    return self.block(list(s.body if decided else s.orelse) + rest, env, parsed)
                if _returns(s.body) or _returns(s.orelse):  # fork the rest of the function
                    a = self.block(list(s.body) + rest, dict(env), parsed)
                    b = self.block(list(s.orelse) + rest, dict(env), parsed)
                    if a[0] != b[0]:
                        raise SymbolicFormError(f"{self._where(parsed, s)}: one branch returns, the other does not")
                    if a[0]:
                        return True, _piecewise(cond, a[1], b[1])
                    return False, self._merge(cond, a[1], b[1], parsed)
                _, env_a = self.block(list(s.body), dict(env), parsed)
                _, env_b = self.block(list(s.orelse), dict(env), parsed)
                env = self._merge(cond, env_a, env_b, parsed)
            elif isinstance(s, ast.Pass):
                continue
            elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
                continue  # a docstring
            else:
                raise SymbolicFormError(f"{self._where(parsed, s)}: {type(s).__name__} statement "
                                        f"({ast.unparse(s).splitlines()[0]!r}) cannot be executed on symbols")
        return False, env

    def _merge(self, cond, env_a: dict, env_b: dict, parsed: _ParsedFunction) -> dict:
        merged = {}
        for name in dict.fromkeys([*env_a, *env_b]):
            a, b = env_a.get(name, _Undefined(name)), env_b.get(name, _Undefined(name))
            if isinstance(a, _Undefined) and isinstance(b, _Undefined):
                merged[name] = a
            elif isinstance(a, _Undefined) or isinstance(b, _Undefined):
                merged[name] = _Undefined(name)
            elif a is b:
                merged[name] = a
            else:
                merged[name] = self.bind(name, _piecewise(cond, a, b), parsed)
        return merged


def execute_symbolically(submodel, arguments: Mapping[str, object], reserved: set[str] = frozenset()
                         ) -> tuple[tuple[sympy.Expr, ...], list[tuple[sympy.Symbol, sympy.Expr]]]:
    """The outputs of ``submodel`` (a :class:`ckdmbd.model.framework.Submodel`) for the given argument values
    (sympy expressions or numbers, by argument name), as a tuple of sympy expressions in ``outputs`` order, and the
    intermediate (symbol, expression) pairs they read, in order (their names avoid ``reserved``)."""
    interpreter = _Interpreter(submodel.name, reserved)
    value = interpreter.call(submodel.function, [arguments[name] for name in submodel.inputs])
    if not isinstance(value, tuple):
        value = (value,)
    if len(value) != len(submodel.outputs):
        raise SymbolicFormError(f"submodel {submodel.name!r} returns {len(value)} values, declares "
                                f"{len(submodel.outputs)} outputs")
    return tuple(sympy.sympify(v) for v in value), interpreter.intermediates


# --- the composed model -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessTerm:
    """A process of the composed model: its rate (an output symbol) and its stoichiometry over states."""

    name: str
    submodel: str
    rate: sympy.Symbol
    stoichiometry: Mapping[str, float]
    description: str
    boundary: str | None


@dataclass(frozen=True)
class SymbolicModel:
    """The composed model in symbols. ``assignments`` (symbol, expression): the submodels' outputs and the local
    variables of their code, in the composer's wiring order, so each expression reads only states, parameters,
    ``time`` and earlier assignments; ``derivatives[i]`` is
    d(state i)/dt over those symbols (ledger states included, in ``model.state_names`` order)."""

    model: CompiledModel
    time: sympy.Symbol
    states: tuple[sympy.Symbol, ...]
    parameters: tuple[sympy.Symbol, ...]
    """The parameters some submodel reads, in ``model.parameter_names`` order."""
    assignments: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
    output_submodel: Mapping[str, str]
    processes: tuple[ProcessTerm, ...]
    derivatives: tuple[sympy.Expr, ...]
    intermediates: frozenset[str] = frozenset()
    """Assignments that are local variables of the submodels' code (named ``function_variable``), not outputs."""

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def _code(self) -> tuple[list[str], list[str]]:
        printer = PythonPrinter()
        lines = [f"    {s.name} = y[{i}]" for i, s in enumerate(self.states)]
        pidx = {n: i for i, n in enumerate(self.model.parameter_names)}
        lines += [f"    {p.name} = p[{pidx[p.name]}]" for p in self.parameters]
        lines += [f"    {o.name} = {printer.doprint(e)}" for o, e in self.assignments]
        return lines, [printer.doprint(d) for d in self.derivatives]

    def rhs_function(self) -> Callable[[float, np.ndarray, np.ndarray], np.ndarray]:
        """f(t, y, p) -> dy/dt from the symbolic form, in plain Python (``p``: ``model.parameter_vector``)."""
        body, derivs = self._code()
        src = "\n".join(["def rhs(t, y, p):", *body, f"    return [{', '.join(derivs)}]"])
        namespace = _namespace()
        exec(compile(src, f"<symbolic rhs of {self.model.name}>", "exec"), namespace)
        fn = namespace["rhs"]

        def rhs(t, y, p):
            with np.errstate(all="ignore"):
                return np.array(fn(np.float64(t), _floats(y), _floats(p)), dtype=float)

        return rhs

    def output_function(self) -> Callable[[float, np.ndarray, np.ndarray], dict[str, float]]:
        """The outputs (every assignment) at (t, y, p), by name."""
        body, _ = self._code()
        names = ", ".join(f"{o.name!r}: {o.name}" for o, _ in self.assignments)
        src = "\n".join(["def outputs(t, y, p):", *body, f"    return {{{names}}}"])
        namespace = _namespace()
        exec(compile(src, f"<symbolic outputs of {self.model.name}>", "exec"), namespace)
        fn = namespace["outputs"]

        def call(t, y, p):
            with np.errstate(all="ignore"):
                return fn(np.float64(t), _floats(y), _floats(p))

        return call

    def partial_derivatives(self) -> list[dict[sympy.Symbol, sympy.Expr]]:
        """For each assignment and then each derivative, its nonzero partial derivatives with respect to the
        states, ``time`` and earlier outputs it reads directly (max/min written as Piecewise first, so the result is
        piecewise smooth like the code)."""
        direct = set(self.states) | {o for o, _ in self.assignments}
        out = []
        for expr in [e for _, e in self.assignments] + list(self.derivatives):
            expr = _smooth_form(expr)
            parts = {}
            for s in sorted(expr.free_symbols & direct, key=lambda s: s.name):
                d = sympy.diff(expr, s)
                if d != 0:
                    parts[s] = d
            out.append(parts)
        return out

    def jacobian_function(self) -> Callable[[float, np.ndarray, np.ndarray], np.ndarray]:
        """J(t, y, p) = d f / d y from the symbolic partial derivatives, chained through the outputs (forward mode:
        each output's gradient over the states is its direct partials plus partials times earlier gradients)."""
        printer = PythonPrinter()
        parts = self.partial_derivatives()
        n = len(self.states)
        body, _ = self._code()
        sidx = {s: i for i, s in enumerate(self.states)}
        lines = ["def jac(t, y, p):", *body, "    import numpy as _np", f"    J = _np.zeros(({n}, {n}))",
                 "    G = {}"]
        for k, (o, _) in enumerate(self.assignments):
            lines.append(f"    g = _np.zeros({n})")
            for s, d in parts[k].items():
                if s in sidx:
                    lines.append(f"    g[{sidx[s]}] += {printer.doprint(d)}")
                else:
                    lines.append(f"    g += ({printer.doprint(d)}) * G[{s.name!r}]")
            lines.append(f"    G[{o.name!r}] = g")
        for i in range(n):
            for s, d in parts[len(self.assignments) + i].items():
                if s in sidx:
                    lines.append(f"    J[{i}, {sidx[s]}] += {printer.doprint(d)}")
                else:
                    lines.append(f"    J[{i}] += ({printer.doprint(d)}) * G[{s.name!r}]")
        lines.append("    return J")
        namespace = _namespace()
        exec(compile("\n".join(lines), f"<symbolic jacobian of {self.model.name}>", "exec"), namespace)
        fn = namespace["jac"]

        def call(t, y, p):
            with np.errstate(all="ignore"):
                return fn(np.float64(t), _floats(y), _floats(p))

        return call

    def jacobian_pattern(self) -> np.ndarray:
        """Structural nonzeros of df/dy (rows: every state, columns: the physiological states) from the symbolic
        partial derivatives: a subset of :mod:`ckdmbd.model.sparsity`'s over-approximating pattern."""
        parts = self.partial_derivatives()
        n = len(self.states)
        sidx = {s: i for i, s in enumerate(self.states)}
        reach: dict[sympy.Symbol, set[int]] = {}
        for k, (o, _) in enumerate(self.assignments):
            r: set[int] = set()
            for s in parts[k]:
                r |= {sidx[s]} if s in sidx else reach[s]
            reach[o] = r
        pattern = np.zeros((n, len(self.model.states)), dtype=bool)
        for i in range(n):
            for s in parts[len(self.assignments) + i]:
                for j in ({sidx[s]} if s in sidx else reach[s]):
                    if j < pattern.shape[1]:
                        pattern[i, j] = True
        return pattern


def _smooth_form(expr: sympy.Expr) -> sympy.Expr:
    """Max/Min as Piecewise (Python's max(a, b) is b only where b > a), so derivatives hold no Heaviside."""
    def as_max(*args):
        out = args[0]
        for a in args[1:]:
            out = sympy.Piecewise((a, sympy.Gt(a, out)), (out, True))
        return out

    def as_min(*args):
        out = args[0]
        for a in args[1:]:
            out = sympy.Piecewise((a, sympy.Lt(a, out)), (out, True))
        return out

    return expr.replace(sympy.Max, as_max).replace(sympy.Min, as_min)


class PythonPrinter(PythonCodePrinter):
    """Python code for the expressions: floats in full precision, Max/Min as Python's max/min.

    The one printer of the symbolic form: :meth:`SymbolicModel.rhs_function` and
    :meth:`SymbolicModel.jacobian_function` print with it, and the compiled analytic Jacobian
    (:mod:`ckdmbd.model.analytic_jacobian`) subclasses it, so a number or a kink is spelt the same way everywhere."""

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"


class _FloatMath:
    """``math`` for the generated Python: numpy's scalar functions on float64, so that a branch of a Piecewise that
    is not taken may be NaN or infinite (a logarithm of a negative, an overflow) without raising, as in the
    compiled code (numba's ``error_model="numpy"``)."""

    pi = math.pi
    e = math.e
    inf = math.inf
    nan = math.nan
    exp, log, sqrt, tanh, sinh, cosh, log10, log1p, expm1, fabs = (np.exp, np.log, np.sqrt, np.tanh, np.sinh,
                                                                   np.cosh, np.log10, np.log1p, np.expm1, np.fabs)


def _namespace() -> dict:
    return {"math": _FloatMath, "__builtins__": __builtins__}


def _floats(values) -> list[np.float64]:
    return [np.float64(v) for v in values]


def symbolic_form(model: CompiledModel) -> SymbolicModel:
    """Execute every submodel of ``model`` on symbols, in the composer's order, and assemble the derivatives from
    its processes and ledger."""
    time = sympy.Symbol("t", real=True)
    state_syms = tuple(sympy.Symbol(n, real=True) for n in model.state_names)
    by_name = {s.name: s for s in state_syms}
    param_syms: dict[str, sympy.Symbol] = {}
    output_syms: dict[str, sympy.Symbol] = {}
    assignments = []
    owner = {}
    intermediates: list[str] = []
    params = set(model.parameter_names)
    reserved = {"t", "time", *model.state_names, *params, *model.output_names,
                *(proc.name for sm in model.submodels for proc in sm.processes)}
    for sm in model.submodels:
        args = {}
        for name in sm.inputs:
            if name == "t":
                args[name] = time
            elif name in by_name:
                args[name] = by_name[name]
            elif name in output_syms:
                args[name] = output_syms[name]
            elif name in params:
                args[name] = param_syms.setdefault(name, sympy.Symbol(name, real=True))
            else:
                raise SymbolicFormError(f"submodel {sm.name!r} reads {name!r}, unknown to the composed model")
        values, inner = execute_symbolically(sm, args, reserved)
        for sym, expr in inner:
            reserved.add(sym.name)
            owner[sym.name] = sm.name
            intermediates.append(sym.name)
            assignments.append((sym, expr))
        for out, expr in zip(sm.outputs, values, strict=True):
            sym = sympy.Symbol(out, real=True)
            output_syms[out] = sym
            owner[out] = sm.name
            assignments.append((sym, expr))
    processes = tuple(ProcessTerm(proc.name, sm.name, output_syms[proc.rate], dict(proc.stoichiometry),
                                  proc.description, proc.boundary)
                      for sm in model.submodels for proc in sm.processes)
    sidx = {n: i for i, n in enumerate(model.state_names)}
    terms: list[list[sympy.Expr]] = [[] for _ in model.state_names]
    for proc in processes:
        for st, coef in proc.stoichiometry.items():
            terms[sidx[st]].append(sympy.Float(float(coef)) * proc.rate if coef != 1.0 else proc.rate)
    by_process = {p.name: p for p in processes}
    for entry in model.ledger:
        terms[entry.state_index].append(by_process[entry.process].rate)
    derivatives = tuple(sympy.Add(*t) if t else sympy.Float(0.0) for t in terms)
    ordered_params = tuple(param_syms[n] for n in model.parameter_names if n in param_syms)
    return SymbolicModel(model, time, state_syms, ordered_params, tuple(assignments), owner, processes, derivatives,
                         frozenset(intermediates))


@cache
def symbolic_model(configuration: str) -> SymbolicModel:
    """The symbolic form of a built-in configuration (built once per process)."""
    from ckdmbd.model.configurations import model

    return symbolic_form(model(configuration))
