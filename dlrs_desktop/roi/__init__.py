"""Tumour contour, masks, peritumoral rings and measurements (no Qt)."""
