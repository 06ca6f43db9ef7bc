"""The sum-of-bits task: a sequence of 0./1. floats in, its sum out."""

import numpy as np


def make_split(num_sequences: int, length: int, seed: int, stream: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw `num_sequences` random bit sequences and their sums.

    Each split draws from its own stream of `seed`, so resizing one split leaves the others unchanged.
    Returns bits as float32[num_sequences, length, 1] and sums as float32[num_sequences].
    """
    generator = np.random.default_rng([seed, stream])
    bits = generator.integers(0, 2, size=(num_sequences, length), dtype=np.int8)
    sums = bits.sum(axis=1, dtype=np.int32)
    return bits.astype(np.float32)[:, :, np.newaxis], sums.astype(np.float32)
