"""Predict with a model from MLflow: a digit for images, a sum for bit strings.

    rnncompare predict --champion mnist --image digit.png
    rnncompare predict --model models:/rnncompare-mnist@champion \\
        --idx t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz
    rnncompare predict --champion sum --bits 0110100111

`--model` takes any MLflow model URI (runs:/<run id>/model, models:/<name>@champion, models:/<id>), or a
model file the pipeline wrote (models/sum-lstm.keras: the MLflow model its training logged);
`--champion <task>` is models:/<mlflow.model_prefix>-<task>@champion. The store is the pipeline's
(MLFLOW_TRACKING_URI, or params.yaml, or mlflow.db at the root).
"""

import argparse
import json
from pathlib import Path

import keras  # noqa: F401  loaded before run_stage, which then turns off Keras' progress bars
import numpy as np

from rnncompare.config.params import load_params
from rnncompare.core.errors import PipelineError, run_stage
from rnncompare.data.idx import GIVEN_FILE_FIX, IMAGES_MAGIC, LABELS_MAGIC, read_idx
from rnncompare.data.user_input import read_bits, read_png
from rnncompare.experiments.dvc_experiments import newest_output
from rnncompare.tracking import store
from rnncompare.tracking.loading import champion_elsewhere, load_model, model_uri_of, require_task


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
    store.connect(settings)
    uri = (
        model_uri_of(arguments.model)
        if arguments.model
        else f"models:/{settings.model_prefix}-{arguments.champion}@champion"
    )
    hint = ""
    if arguments.champion:
        description = newest_output(f"models/champion-{arguments.champion}.json")
        hint = champion_elsewhere(arguments.champion, json.loads(description) if description else None)
    model = load_model(uri, hint)
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
