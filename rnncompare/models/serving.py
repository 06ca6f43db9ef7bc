"""The loader MLflow's pyfunc flavor calls for the project's models (`loader_module` in MLmodel).

Each logged model carries this module with the cells and their registry (rnncompare/tracking/
model_logging.py), so `mlflow.pyfunc.load_model`, `mlflow models serve` and a notebook outside the
repository load any variant: it registers the project's cells with Keras, then hands over to
MLflow's Keras flavor.
"""


def _load_pyfunc(path: str):
    from mlflow.keras.load import _load_pyfunc as load_keras_pyfunc

    import rnncompare.models.cells  # noqa: F401  registers every custom cell before Keras deserializes

    return load_keras_pyfunc(path)
