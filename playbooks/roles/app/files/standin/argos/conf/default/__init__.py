"""Default config of the Argos STAND-IN (development values, as in the real app)."""
