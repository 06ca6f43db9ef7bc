"""Recurrent networks trained and compared in a reproducible DVC + MLflow pipeline."""

import os

# TensorFlow's C++ start-up notices (CPU features, oneDNN) would bury the stages' progress lines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# A pipeline run offline (CI) must not wait on MLflow's usage telemetry; set it to "false" to opt in.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
