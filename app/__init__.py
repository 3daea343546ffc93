"""Glassbox web service: FastAPI routes over the NumPy engine."""
