"""Argos STAND-IN package (argos-cloud local backends; not the real Argos app)."""
