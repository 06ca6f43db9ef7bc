"""What MLflow records of a Keras model: each epoch's metrics, and the model itself with its
signature, input example, requirements and the code that loads it (rnncompare/models/serving.py)."""

import os
import shutil
from pathlib import Path

import keras
import mlflow
import numpy as np
from mlflow.models import ModelSignature
from mlflow.types import Schema, TensorSpec

from rnncompare.core.errors import PipelineError
from rnncompare.tracking.store import store_name

MODEL_NAME = "model"  # the logged model's name inside each run
PACKAGE = Path(__file__).resolve().parents[1]  # rnncompare/
# What loading a model needs, carried inside every logged model: the package's root (its environment
# defaults), the cells, their registry and the pyfunc loader. None of it imports more than Keras and MLflow.
CARRIED = ("__init__.py", "models/__init__.py", "models/registry.py", "models/serving.py", "models/cells")
LOADER_MODULE = "rnncompare.models.serving"
CODE_FOLDER = "code"


class EpochMetrics(keras.callbacks.Callback):
    """Each epoch's training and validation metrics as MLflow step metrics (one write per epoch)."""

    def on_epoch_end(self, epoch, logs=None):
        try:
            mlflow.log_metrics(self.renamed(logs), step=epoch + 1)
        except Exception as error:  # the store stopped answering: stop training, say which store
            raise PipelineError(
                f"lost the MLflow tracking store {store_name(mlflow.get_tracking_uri())} after epoch {epoch + 1} "
                f"({type(error).__name__}: {str(error)[:300]}). Start it again (`make server`) and rerun; its runs "
                "of this stage are marked FAILED by `make server` or the next stage."
            ) from None

    @staticmethod
    def renamed(logs) -> dict:
        renamed = {}
        for key, value in (logs or {}).items():
            if key.startswith("val_"):
                key = "validation." + key.removeprefix("val_")
            elif key != "learning_rate":
                key = "train." + key
            renamed[key] = float(value)
        return renamed


class KerasFlavor:
    """`mlflow.keras`, plus the code that loads our cells as the pyfunc flavor's code, so that every
    variant loads where our code is not installed (`mlflow models serve`, a notebook): its pyfunc
    loader is rnncompare.models.serving, which registers our cells first. Also creates the model folder before the
    input example is written into it: MLflow 3.17's keras `save_model` writes the example first
    (FileNotFoundError; tests/test_tracking.py checks that the upstream bug is still there)."""

    __name__ = "mlflow.keras"

    @staticmethod
    def save_model(path, mlflow_model=None, **options):
        os.makedirs(path, exist_ok=True)
        mlflow_model = mlflow_model or mlflow.models.Model()
        mlflow.keras.save_model(path=path, mlflow_model=mlflow_model, **options)
        carry_loading_code(Path(path) / CODE_FOLDER / PACKAGE.name)
        flavor = mlflow_model.flavors[mlflow.pyfunc.FLAVOR_NAME]
        mlflow.pyfunc.add_to_model(
            mlflow_model,
            loader_module=LOADER_MODULE,
            code=CODE_FOLDER,
            conda_env=flavor.get("env", {}).get("conda"),
            python_env=flavor.get("env", {}).get("virtualenv"),
        )
        mlflow_model.save(os.path.join(path, mlflow.models.model.MLMODEL_FILE_NAME))


def carry_loading_code(destination: Path) -> None:
    """Copy what loading a model needs (CARRIED) into a model's code folder, as the package it is."""
    for part in CARRIED:
        source, target = PACKAGE / part, destination / part
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def _spec(shape) -> TensorSpec:
    return TensorSpec(np.dtype(np.float32), tuple(-1 if size is None else size for size in shape))


def pip_requirements() -> list[str]:
    import wrapt

    requirements = [f"keras=={keras.__version__}", f"numpy=={np.__version__}", f"wrapt=={wrapt.__version__}"]
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        requirements.append(f"tensorflow=={tf.__version__}")
    return requirements


def log_model(model: keras.Model, example: np.ndarray, task: str) -> str:
    """Log with the Keras flavor, a signature (any batch; for sums any length), an input example, and
    the task in the model's metadata (predict refuses a model of the other task)."""
    signature = ModelSignature(inputs=Schema([_spec(model.input_shape)]), outputs=Schema([_spec(model.output_shape)]))
    info = mlflow.models.Model.log(
        artifact_path=None,
        name=MODEL_NAME,
        flavor=KerasFlavor,
        model=model,
        signature=signature,
        input_example=example,
        pip_requirements=pip_requirements(),
        metadata={"task": task},
    )
    return info.model_uri
