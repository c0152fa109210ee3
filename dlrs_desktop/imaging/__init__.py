"""Image loading, calibration and scan area (no Qt)."""
