"""The model's unit strings ("mmol/h", "1/(pM*h)", "mmol^(1/3)/h", "mM2") as SBML unit definitions.

Why a parser of its own rather than pint: the parameter files write ``pH`` for the pH scale (pint reads picohenry)
and concentrations as ``pM``/``mM``; the few unit strings that are prose ("1/h per g/day") or have no SBML base
unit (international units, IU) get no ``units`` attribute, and the parameter's notes keep the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# SBML base unit kind, multiplier to it (value in that kind per unit), exponent, for each unit symbol
_BASE: dict[str, tuple[tuple[str, float, float], ...]] = {
    "mol": (("mole", 1.0, 1.0),),
    "g": (("gram", 1.0, 1.0),),
    "L": (("litre", 1.0, 1.0),),
    "M": (("mole", 1.0, 1.0), ("litre", 1.0, -1.0)),
    "s": (("second", 1.0, 1.0),),
    "min": (("second", 60.0, 1.0),),
    "h": (("second", 3600.0, 1.0),),
    "day": (("second", 86400.0, 1.0),),
    "yr": (("second", 86400.0 * 365.25, 1.0),),
    "m": (("metre", 1.0, 1.0),),
    "pH": (),  # the pH scale is a number
}
_PREFIX = {"p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "m": 1e-3, "c": 1e-2, "d": 1e-1, "k": 1e3}
_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-zµ]+)|(?P<op>[*/^()]))")


@dataclass(frozen=True)
class SBMLUnit:
    kind: str
    exponent: float
    multiplier: float


class _UnparsableError(ValueError):
    pass


def _symbol(name: str) -> dict[str, tuple[float, float]]:
    """{kind: (factor, exponent)} of one unit symbol with its prefix."""
    if name in _BASE:
        entries, factor = _BASE[name], 1.0
    elif name[0] in _PREFIX and name[1:] in _BASE and name[1:] != "pH":
        entries, factor = _BASE[name[1:]], _PREFIX[name[0]]
    else:
        raise _UnparsableError(name)
    out: dict[str, tuple[float, float]] = {}
    for i, (kind, mult, exp) in enumerate(entries):
        f = mult * (factor if i == 0 else 1.0)
        out[kind] = (f**exp, exp)
    return out


class _Parser:
    def __init__(self, text: str):
        self.tokens = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise _UnparsableError(text)
            pos = m.end()
            self.tokens.append(m.group("num") or m.group("name") or m.group("op"))
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expr(self) -> dict[str, tuple[float, float]]:
        out = self.power()
        while self.peek() in ("*", "/"):
            op = self.take()
            rhs = self.power()
            out = _combine(out, rhs, 1.0 if op == "*" else -1.0)
        return out

    def power(self) -> dict[str, tuple[float, float]]:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            exponent = self.exponent()
            base = {k: (f**exponent, e * exponent) for k, (f, e) in base.items()}
        return base

    def exponent(self) -> float:
        tok = self.take()
        if tok == "(":
            num = float(self.take())
            if self.take() != "/":
                raise _UnparsableError("exponent")
            den = float(self.take())
            if self.take() != ")":
                raise _UnparsableError("exponent")
            return num / den
        if tok is None:
            raise _UnparsableError("exponent")
        return float(tok)

    def atom(self) -> dict[str, tuple[float, float]]:
        tok = self.take()
        if tok == "(":
            inner = self.expr()
            if self.take() != ")":
                raise _UnparsableError("parenthesis")
            return inner
        if tok is None or tok in "*/^)":
            raise _UnparsableError(str(tok))
        if tok[0].isdigit():
            if float(tok) != 1.0:
                raise _UnparsableError(tok)
            return {}
        return _symbol(tok)


def _combine(a, b, sign: float):
    out = dict(a)
    for k, (f, e) in b.items():
        fa, ea = out.get(k, (1.0, 0.0))
        out[k] = (fa * f**sign, ea + e * sign)
    return out


def sbml_units(text: str) -> tuple[SBMLUnit, ...] | None:
    """The unit string as SBML units (an empty tuple: dimensionless), or None when it cannot be read."""
    text = text.strip()
    if text in ("", "1", "dimensionless", "fraction"):
        return ()
    text = re.sub(r"(?<=[A-Za-z])(\d)$", r"^\1", text)  # "mM2" is mM^2
    try:
        parser = _Parser(text)
        parsed = parser.expr()
        if parser.peek() is not None:
            return None
    except (_UnparsableError, ValueError, ZeroDivisionError):
        return None
    units = []
    for kind, (factor, exponent) in sorted(parsed.items()):
        if exponent == 0.0:
            if abs(factor - 1.0) > 1e-12:
                return None
            continue
        units.append(SBMLUnit(kind, exponent, factor ** (1.0 / exponent)))  # (multiplier x kind)^exponent
    return tuple(units)


def unit_id(text: str) -> str:
    """An SBML identifier for a unit string ("mmol/h" -> "mmol_per_h")."""
    out = text.replace("^(1/3)", "_cuberoot").replace("^", "_pow").replace("/", "_per_").replace("*", "_")
    out = re.sub(r"[^A-Za-z0-9_]", "_", out.replace("(", "").replace(")", ""))
    out = re.sub(r"_+", "_", out).strip("_")
    if not out or not (out[0].isalpha() or out[0] == "_"):
        out = "u_" + out
    return "unit_" + out
