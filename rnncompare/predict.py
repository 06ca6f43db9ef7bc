"""Predict with a model from MLflow: a digit for images, a sum for bit strings.

    python -m rnncompare.predict --champion mnist --image digit.png
    python -m rnncompare.predict --model models:/rnncompare-mnist@champion \\
        --idx t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz
    python -m rnncompare.predict --champion sum --bits 0110100111

`--model` takes any MLflow model URI (runs:/<run id>/model, models:/<name>@champion, models:/<id>), or a
model file the pipeline wrote (models/sum-lstm.keras: the MLflow model its training logged);
`--champion <task>` is models:/<mlflow.model_prefix>-<task>@champion. The store is the pipeline's
(MLFLOW_TRACKING_URI, or params.yaml, or mlflow.db at the root).
"""

import argparse
import json
import logging
from pathlib import Path

import keras  # noqa: F401  loaded before run_stage, which then turns off Keras' progress bars
import mlflow
import numpy as np
from mlflow.exceptions import MlflowException

from rnncompare import lineage, tracking
from rnncompare.config import load_params
from rnncompare.errors import PipelineError, run_stage
from rnncompare.idx import GIVEN_FILE_FIX, IMAGES_MAGIC, LABELS_MAGIC, read_idx

log = logging.getLogger(__name__)
SIDE = 28


def read_png(path: Path) -> np.ndarray:
    """A digit picture as float32[1, 28, 28] in 0..1, white on black like MNIST."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path).convert("L")
    except (OSError, UnidentifiedImageError) as error:
        raise PipelineError(f"{path} is not a readable image ({error}); give a PNG of one digit.") from None
    if image.size != (SIDE, SIDE):
        log.info("%s is %dx%d: resized to %dx%d", path, *image.size, SIDE, SIDE)
        image = image.resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    if pixels.mean() > 0.5:
        log.info("%s is dark on light: inverted to MNIST's white on black", path)
        pixels = 1.0 - pixels
    return pixels[np.newaxis]


def read_bits(text: str) -> np.ndarray:
    """'0110' -> float32[1, 4, 1]."""
    if not text or set(text) - {"0", "1"}:
        raise PipelineError(f"--bits {text!r} is not a string of 0s and 1s, e.g. --bits 0110100111.")
    return np.array([[[float(bit)] for bit in text]], dtype=np.float32)


def champion_elsewhere(task: str) -> str:
    """Why the pipeline's last register stage registered no champion in this store, if it said so."""
    path = lineage.repository_root() / "models" / f"champion-{task}.json"
    if not path.is_file():
        return ""
    this_run = json.loads(path.read_text()).get("this_run", {})
    if this_run.get("version") is not None:
        return ""
    return f" The pipeline's best {task} model was {this_run.get('reason', 'not registered')}."


def model_uri_of(argument: str) -> str:
    """--model as an MLflow URI: a Keras file the pipeline wrote (models/<task>-<variant>.keras) stands
    for the MLflow model its training logged, which its summary beside it names."""
    path = Path(argument)
    if path.suffix != ".keras":
        return argument
    if not path.is_file():
        raise PipelineError(
            f"--model {argument}: no such file (`ls models/` lists the pipeline's, after `make repro`)."
        )
    summary = path.with_suffix(".json")
    try:
        uri = json.loads(summary.read_text())["mlflow_model_uri"]
    except (OSError, ValueError, KeyError, TypeError):
        uri = None
    if not isinstance(uri, str):
        raise PipelineError(
            f"--model {argument} is a Keras file, and {summary}, its training's summary with the MLflow model "
            "URI, is missing or unreadable: give the URI instead (runs:/<run id>/model, models:/<name>@champion)."
        )
    log.info("%s: the MLflow model its training logged, %s (from %s)", argument, uri, summary)
    return uri


def load_model(uri: str, hint: str = ""):
    """An MLflow model by URI, or an error naming the URI, the store and how to find valid ones."""
    try:
        return mlflow.pyfunc.load_model(uri)
    except MlflowException as error:
        reason = error.message.splitlines()[0].rstrip(".")
        raise PipelineError(
            f"cannot load MLflow model {uri} from {tracking.store_name(mlflow.get_tracking_uri())}: {reason}."
            + (hint or " Run `make repro` to train and register models, or list them in the UI (`make ui`).")
        ) from None


def task_of(model) -> str:
    """The task a pyfunc model was trained on: from its metadata, else from its input's shape."""
    task = (model.metadata.metadata or {}).get("task")
    if task:
        return task
    inputs = model.metadata.get_input_schema()
    shape = tuple(inputs.inputs[0].shape) if inputs else ()
    return "mnist" if shape[-2:] == (28, 28) else "sum"


def require_task(model, uri: str, wanted: str, option: str) -> None:
    task = task_of(model)
    if task != wanted:
        raise PipelineError(
            f"{uri} is a {task} model, but {option} needs a {wanted} model: "
            f"use --champion {wanted}, or --model with a {wanted} run's model."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="an MLflow model URI, or a model file the pipeline wrote (models/*.keras)")
    which.add_argument("--champion", choices=["sum", "mnist"], help="the registered champion of a task")
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--image", type=Path, help="a PNG of one digit")
    inputs.add_argument("--idx", type=Path, help="a gzipped IDX image file, e.g. t10k-images-idx3-ubyte.gz")
    inputs.add_argument("--bits", help="a bit string, e.g. 0110100111")
    parser.add_argument("--labels", type=Path, help="with --idx: the IDX labels, to print the accuracy")
    parser.add_argument("--show", type=int, default=10, help="with --idx: how many predictions to print")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    arguments = parser.parse_args()

    # The inputs are read first: a bad file fails in a second, before the model loads.
    if arguments.bits is not None:
        task, option, inputs = "sum", "--bits", read_bits(arguments.bits)
    elif arguments.image:
        task, option, inputs = "mnist", "--image", read_png(arguments.image)
    else:
        task, option = "mnist", "--idx"
        inputs = read_idx(arguments.idx, IMAGES_MAGIC, "--idx", GIVEN_FILE_FIX).astype(np.float32) / 255.0
    labels = read_idx(arguments.labels, LABELS_MAGIC, "--labels", GIVEN_FILE_FIX) if arguments.labels else None

    settings = load_params(arguments.params).mlflow
    tracking.connect(settings)
    uri = (
        model_uri_of(arguments.model)
        if arguments.model
        else f"models:/{settings.model_prefix}-{arguments.champion}@champion"
    )
    model = load_model(uri, champion_elsewhere(arguments.champion) if arguments.champion else "")
    require_task(model, uri, task, option)
    if task == "sum":
        total = float(np.asarray(model.predict(inputs)).reshape(-1)[0])
        print(f"{arguments.bits}: sum {total:.3f} (rounded {round(total)}; true {arguments.bits.count('1')})")
        return
    images = inputs
    probabilities = np.asarray(model.predict(images))
    digits = probabilities.argmax(axis=1)
    for index in range(min(len(digits), arguments.show)):
        print(f"image {index}: {digits[index]} (p={probabilities[index, digits[index]]:.3f})")
    if labels is not None:
        if len(labels) != len(digits):
            raise PipelineError(f"{arguments.labels} holds {len(labels)} labels for {len(digits)} images.")
        print(f"accuracy {np.mean(digits == labels):.4f} on {len(labels)} images ({uri})")


if __name__ == "__main__":
    run_stage(main)
