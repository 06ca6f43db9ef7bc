"""What runs the model: seeding, determinism and the device in use, for each Keras backend."""

import keras


def configure(seed: int, deterministic: bool) -> None:
    """Seed every generator; with `deterministic`, make the backend's ops repeatable too."""
    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


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
