"""DLRS Desktop: early-response prediction from one breast ultrasound image (research use)."""

__version__ = "0.1.0"
