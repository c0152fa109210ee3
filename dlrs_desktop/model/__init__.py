"""Model bundle format, preprocessing and predictor (no Qt)."""
