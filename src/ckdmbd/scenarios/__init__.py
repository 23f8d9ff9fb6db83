"""Built-in scenario files (TOML). Copy one to start your own: ``ckdmbd scenarios`` lists them."""
