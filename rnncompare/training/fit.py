"""Compile and fit a model with early stopping; a NaN loss is an error, never a saved model."""

import logging
import math
import time

import keras
import numpy as np

from rnncompare.config.params import Task, TrainingParams
from rnncompare.core import stagetimes
from rnncompare.core.errors import PipelineError
from rnncompare.training.augmentation import AugmentedBatches, image_augmenter
from rnncompare.training.inputs import TaskData

log = logging.getLogger(__name__)

# Per task: the loss and the metric shown per epoch (train and validation).
OBJECTIVES = {
    "sum": ("mean_squared_error", "mean_absolute_error"),
    "mnist": ("sparse_categorical_crossentropy", "accuracy"),
}


def make_optimizer(training: TrainingParams, total_steps: int | None = None) -> keras.optimizers.Optimizer:
    learning_rate = training.learning_rate
    if training.cosine_decay:
        if not total_steps:
            raise ValueError("cosine_decay needs the number of training steps the schedule spans (total_steps)")
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    options = {"learning_rate": learning_rate, "global_clipnorm": training.clip_norm}
    if training.optimizer == "sgd":
        return keras.optimizers.SGD(**options)
    return keras.optimizers.Adam(**options)


def compile_model(
    model: keras.Model,
    task: Task,
    training: TrainingParams,
    jit_compile: bool | str = "auto",
    total_steps: int | None = None,
) -> None:
    loss, metric = OBJECTIVES[task]
    optimizer = make_optimizer(training, total_steps)
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric], jit_compile=jit_compile)


class EpochLog(keras.callbacks.Callback):
    """One progress line per epoch, through `logging`, with the epoch's time."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()
        self.cpu_started = stagetimes.cpu_seconds()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        stagetimes.epoch_finished(seconds, stagetimes.cpu_seconds() - self.cpu_started)
        values = "  ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items())
        log.info("epoch %d/%d  %s  (%.1f s)", epoch + 1, self.epochs, values, seconds)


def training_batches(data: TaskData, training: TrainingParams, seed: int) -> dict:
    """`model.fit` arguments for the training split: plain arrays, or batches augmented per epoch."""
    augmenter = image_augmenter(training.augment_shift, training.augment_rotation, seed)
    if augmenter is None:
        return {"x": data.train[0], "y": data.train[1], "batch_size": training.batch_size, "shuffle": True}
    return {"x": AugmentedBatches(data.train, training.batch_size, augmenter, seed)}


def fit(
    model: keras.Model,
    data: TaskData,
    task: Task,
    training: TrainingParams,
    seed: int = 0,
    jit_compile: bool | str = "auto",
    extra_callbacks: list | None = None,
) -> dict[str, list[float]]:
    """Train until `epochs` or early stopping (restoring the best weights); return the history."""
    batches = training_batches(data, training, seed)
    steps_per_epoch = math.ceil(len(data.train[1]) / training.batch_size)
    epochs = training.epochs
    if training.steps:  # a fixed budget of batches, as the original tutorials trained
        epochs = math.ceil(training.steps / steps_per_epoch)
    compile_model(model, task, training, jit_compile, total_steps=epochs * steps_per_epoch)
    callbacks = [keras.callbacks.TerminateOnNaN(), *(extra_callbacks or [])]
    if not training.steps:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=training.patience, restore_best_weights=True)
        )
    callbacks.append(EpochLog(epochs))
    if training.reduce_lr_patience:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=training.reduce_lr_patience)
        )
    history = model.fit(
        **batches,
        validation_data=data.validation,
        validation_batch_size=max(training.batch_size, 256),
        epochs=epochs,
        callbacks=callbacks,
        verbose=0,
    )
    losses = history.history["loss"]
    if any(not math.isfinite(loss) for loss in losses) or not np.all(np.isfinite(model.get_weights()[0])):
        raise PipelineError(
            f"the {task} model's training loss became NaN or infinite in epoch {len(losses)}, so no model "
            f"was saved: training diverged (lower train.{task}.learning_rate in params.yaml, now "
            f"{training.learning_rate}) or the data holds NaN (rebuild it with `dvc repro`)."
        )
    return {name: [float(value) for value in values] for name, values in history.history.items()}
