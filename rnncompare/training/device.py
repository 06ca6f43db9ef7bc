"""What runs the model: seeding, determinism, compilation, the devices in use, for each Keras backend."""

import contextlib
from dataclasses import dataclass

import keras

from rnncompare.config.params import ModelParams
from rnncompare.core.errors import PipelineError


@dataclass(frozen=True)
class Execution:
    """How a model is built and compiled on this machine."""

    cudnn: bool  # LSTM and GRU keep the cuDNN kernel (TensorFlow on a GPU)
    jit_compile: bool | str  # for `model.compile`


def execution(model: ModelParams, replicas: int = 1) -> Execution:
    """TensorFlow on a GPU: cuDNN, which Keras cannot XLA-compile. On a CPU: XLA for one recurrent
    layer (LSTM +44%, GRU +74% samples/s), none for stacked layers, which XLA's CPU loop over
    whole-sequence outputs makes 3x slower (measured, LSTM 128 on MNIST rows), and none for several
    replicas (XLA cannot compile a step whose variables sit on several devices). JAX always
    compiles, with no cuDNN: on an H200 XLA's loop trained the LSTM 1.7x faster than Keras' cuDNN
    path for JAX (bench/README.md); PyTorch runs eagerly (Keras' "auto")."""
    if keras.backend.backend() != "tensorflow":
        return Execution(cudnn=False, jit_compile="auto")
    if describe()["device"] != "cpu":
        return Execution(cudnn=True, jit_compile="auto")
    return Execution(cudnn=False, jit_compile=model.layers == 1 and replicas == 1)


def configure(seed: int, deterministic: bool, plan: Execution) -> None:
    """Seed every generator; with `deterministic`, make the backend's ops repeatable too.

    TensorFlow's op determinism rules XLA out (Keras then refuses to compile), so it is switched on
    only for uncompiled runs, and off again for a compiled one in the same process (a notebook, the
    tests), where it would quietly cost the compilation; XLA on a CPU repeats itself bit for bit
    (tests/test_training.py)."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config  # disable_op_determinism is not exported

    if deterministic and plan.jit_compile is not True:
        tf.config.experimental.enable_op_determinism()
    elif plan.jit_compile is True and tf_config.is_op_determinism_enabled():
        tf_config.disable_op_determinism()


def describe() -> dict[str, str]:
    """The backend and the accelerator it uses, e.g. {"backend": "jax", "device": "gpu: NVIDIA H100"}."""
    backend = keras.backend.backend()
    device = "cpu"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            device = f"gpu: {details.get('device_name', gpus[0].name)}"
    elif backend == "jax":
        import jax

        first = jax.devices()[0]
        device = "cpu" if first.platform == "cpu" else f"{first.platform}: {first.device_kind}"
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            device = f"gpu: {torch.cuda.get_device_name(0)}"
    return {"backend": backend, "device": device}


def distribution(distribute: str) -> tuple[contextlib.AbstractContextManager, int]:
    """The scope to build and compile the model in, and how many replicas train it.

    `mirrored`: tf.distribute.MirroredStrategy over every local GPU or, on a machine without one,
    over every logical CPU device (one, unless the process split its CPU before TensorFlow started,
    as the tests do). Each replica takes an equal share of every batch and the gradients are summed,
    so `batch_size` stays the global batch."""
    if distribute == "none":
        return contextlib.nullcontext(), 1
    if keras.backend.backend() != "tensorflow":
        raise PipelineError(
            f"params.yaml train.distribute = {distribute!r} needs the TensorFlow backend (KERAS_BACKEND is "
            f"{keras.backend.backend()!r}); set train.distribute: none"
        )
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    strategy = tf.distribute.MirroredStrategy([device.name for device in devices])
    return strategy.scope(), strategy.num_replicas_in_sync
