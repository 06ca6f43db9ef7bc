"""Recurrent networks trained and compared in a reproducible DVC + MLflow pipeline."""

import os

import wrapt

# TensorFlow's C++ start-up notices (CPU features, oneDNN) would bury the stages' progress lines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# A pipeline run offline (CI) must not wait on MLflow's usage telemetry; set it to "false" to opt in.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@wrapt.when_imported("keras")
def _register_cells(keras) -> None:
    """Once Keras is imported, anywhere, register our cells with it, so `import rnncompare` is all a
    process needs before `mlflow.keras.load_model` of any variant, without this package importing
    Keras (seconds) in entry points that never touch a model."""
    import rnncompare.models.cells  # noqa: F401
