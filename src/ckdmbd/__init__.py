"""ckdmbd: a virtual patient for mineral metabolism in chronic kidney disease (CKD-MBD)."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``ckdmbd.Population`` without importing the model machinery at ``import ckdmbd``."""
    if name == "Population":
        from ckdmbd.population import Population

        return Population
    raise AttributeError(f"module 'ckdmbd' has no attribute {name!r}")
