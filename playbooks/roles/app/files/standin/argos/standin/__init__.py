"""Parts that exist only in the Argos STAND-IN: the health checks and web app."""
