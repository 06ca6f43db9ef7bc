"""Recurrent networks trained and compared in a reproducible DVC + MLflow pipeline."""
