"""Built-in population specs (``ckdmbd population NAME``)."""
