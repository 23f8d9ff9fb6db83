"""Data: one TOML file per published validation case (read by ckdmbd.validation.casefile)."""
