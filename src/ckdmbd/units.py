"""Units: the internal units of the model and every conversion to clinical units, in one place.

Internal units (the Peterson-Riggs convention): time in hours, volume in litres, calcium and phosphate in mmol
(concentrations mM = mmol/L), PTH and calcitriol in pmol (pM = pmol/L), GFR in L/h. Clinical units appear only
at the edges (results table, CLI, scenario files).
"""

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25  # Julian year; one constant for the whole package
HOURS_PER_YEAR = HOURS_PER_DAY * DAYS_PER_YEAR
DAYS_PER_WEEK = 7.0
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0  # 30.4375 days: a twelfth of the Julian year, as scenario durations read months

# Molar masses (g/mol) behind the clinical conversions.
CALCIUM_G_PER_MOL = 40.078  # IUPAC standard atomic weight
PHOSPHORUS_G_PER_MOL = 30.974  # IUPAC; serum "phosphate" is reported as phosphorus
INTACT_PTH_G_PER_MOL = 9425.0  # PTH(1-84); 1 pmol/L = 9.425 pg/mL
CALCITRIOL_G_PER_MOL = 416.6  # 1,25-(OH)2 D3, C27H44O3

ML_PER_MIN_PER_L_PER_H = 1000.0 / 60.0  # 1 L/h = 16.667 mL/min


def calcium_mg_dl(mmol_l):
    """mmol/L -> mg/dL (x 4.008)."""
    return mmol_l * CALCIUM_G_PER_MOL / 10.0


def phosphate_mg_dl(mmol_l):
    """mmol/L of phosphate -> mg/dL of phosphorus (x 3.097)."""
    return mmol_l * PHOSPHORUS_G_PER_MOL / 10.0


def pth_pg_ml(pmol_l):
    """pmol/L -> pg/mL (x 9.425)."""
    return pmol_l * INTACT_PTH_G_PER_MOL / 1000.0


def calcitriol_pg_ml(pmol_l):
    """pmol/L -> pg/mL (x 0.4166)."""
    return pmol_l * CALCITRIOL_G_PER_MOL / 1000.0


def l_h_to_ml_min(l_per_h):
    """A flow or clearance (GFR, dialyzer clearance) in L/h -> mL/min."""
    return l_per_h * ML_PER_MIN_PER_L_PER_H


def ml_min_to_l_h(ml_min):
    """A flow or clearance in mL/min -> L/h (the model's unit)."""
    return ml_min / ML_PER_MIN_PER_L_PER_H
