"""Small numerical helpers shared by the submodels (numba-compiled)."""

import numba


@numba.njit(cache=True, inline="always")
def nonneg(x: float) -> float:
    """max(x, 0): concentrations enter fractional powers, which are undefined for tiny negative round-off."""
    return x if x > 0.0 else 0.0


@numba.njit(cache=True, inline="always")
def hill(x: float, ec50: float, gamma: float) -> float:
    """Fraction x^g / (x^g + ec50^g) of a sigmoid Emax (Hill) effect."""
    xg = x**gamma
    return xg / (xg + ec50**gamma)
