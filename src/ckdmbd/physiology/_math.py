"""Small numerical helpers shared by the submodels (numba-compiled)."""

import numba


@numba.njit(cache=True, inline="always", error_model="numpy")
def nonneg(x: float) -> float:
    """max(x, 0): concentrations enter fractional powers, which are undefined for tiny negative round-off."""
    return x if x > 0.0 else 0.0


@numba.njit(cache=True, inline="always", error_model="numpy")
def ppow(x: float, gamma: float) -> float:
    """x**gamma for a quantity that cannot be negative: states that decay to ~0 (RANK-RANKL after
    parathyroidectomy) dip below zero by round-off, and a fractional power of a negative number is NaN.
    Identical to x**gamma for x >= 0, so reference trajectories are unchanged."""
    return (x if x > 0.0 else 0.0) ** gamma


@numba.njit(cache=True, inline="always", error_model="numpy")
def hill(x: float, ec50: float, gamma: float) -> float:
    """Fraction x^g / (x^g + ec50^g) of a sigmoid Emax (Hill) effect."""
    xg = ppow(x, gamma)
    return xg / (xg + ec50**gamma)


@numba.njit(cache=True, inline="always", error_model="numpy")
def smooth_floor(x: float, floor: float) -> float:
    """x above ``floor``; below it a quadratic blend to floor/2 at x <= 0 (continuous with continuous slope).

    Used where a model term has an infinite slope at zero (x**0.1), which a stiff solver cannot follow."""
    if x >= floor:
        return x
    if x <= 0.0:
        return 0.5 * floor
    return 0.5 * floor + 0.5 * x * x / floor
