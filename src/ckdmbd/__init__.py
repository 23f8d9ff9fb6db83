"""ckdmbd: a virtual patient for mineral metabolism in chronic kidney disease (CKD-MBD)."""

__version__ = "0.1.0"
