"""Synthetic cohort, training and evaluation (no Qt)."""
