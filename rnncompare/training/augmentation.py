"""MNIST augmentation outside the model: random shifts and rotations, redrawn every epoch.

Kept out of the trained graph on purpose: Keras' image layers cannot be XLA-compiled, so inside
the model they would cost the compiled training step (+44% samples/s for an LSTM on CPU), and
the saved model would carry layers that do nothing at inference.
"""

import keras
import numpy as np

from rnncompare.training.inputs import Split

MNIST_SHAPE = (28, 28)


def image_augmenter(shift: float, rotation: float, seed: int) -> keras.Sequential | None:
    """[batch, 28, 28] rows -> the same, randomly shifted (fraction of the side) and rotated (of a turn)."""
    if not (shift or rotation):
        return None
    steps = [keras.layers.Reshape((*MNIST_SHAPE, 1))]
    if shift:
        steps.append(keras.layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed))
    if rotation:
        steps.append(keras.layers.RandomRotation(rotation, fill_mode="constant", seed=seed + 1))
    steps.append(keras.layers.Reshape(MNIST_SHAPE))
    return keras.Sequential(steps, name="augmentation")


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled batches of a split whose images are augmented afresh, all at once, before each epoch."""

    CHUNK = 4096  # images augmented per call: bounded memory for any training-set size

    def __init__(self, split: Split, batch_size: int, augmenter: keras.Sequential, seed: int):
        super().__init__()
        self.images, self.labels = split
        self.batch_size = batch_size
        self.augmenter = augmenter
        self.rng = np.random.default_rng(seed)
        self._prepare_epoch()

    def _prepare_epoch(self) -> None:
        order = self.rng.permutation(len(self.labels))
        images = self.images[order]
        self.epoch_images = np.concatenate(
            [
                keras.ops.convert_to_numpy(self.augmenter(images[start : start + self.CHUNK], training=True))
                for start in range(0, len(images), self.CHUNK)
            ]
        )
        self.epoch_labels = self.labels[order]

    def __len__(self) -> int:
        return -(-len(self.labels) // self.batch_size)

    def __getitem__(self, index: int):
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.epoch_images[batch], self.epoch_labels[batch]

    def on_epoch_end(self) -> None:
        self._prepare_epoch()
