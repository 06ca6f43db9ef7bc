"""The sum-of-bits task: a sequence of 0./1. floats in, its sum out."""

import numpy as np

PAD = -1.0  # the input after a shorter sequence's last bit, in mixed-length sets; models mask it


def make_split(
    num_sequences: int, length: int, seed: int, stream: int, balanced_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw `num_sequences` random bit sequences and their sums.

    Bits are fair coin flips, except in the last `balanced_fraction` of the sequences, whose
    probability of a one is itself drawn uniformly from [0, 1]: their sums are uniform over
    0..length, where fair bits make the extremes rare (all ones: 1 in 2**length). The fair rows come
    first and equal those of a split with no balancing, so the first rows (`train_size`, as the
    tutorials' recipes take) are the tutorials' fair bits; training shuffles every epoch.
    Each split draws from its own stream of `seed`, so resizing one split leaves the others unchanged.
    Returns bits as float32[num_sequences, length, 1] and sums as float32[num_sequences].
    """
    generator = np.random.default_rng([seed, stream])
    bits = generator.integers(0, 2, size=(num_sequences, length), dtype=np.int8)
    balanced = round(num_sequences * balanced_fraction)
    if balanced:
        probability_of_one = generator.random((balanced, 1))
        bits[num_sequences - balanced :] = generator.random((balanced, length)) < probability_of_one
    sums = bits.sum(axis=1, dtype=np.int32)
    return bits.astype(np.float32)[:, :, np.newaxis], sums.astype(np.float32)


def make_mixed_split(
    num_sequences: int, lengths: tuple[int, int], seed: int, stream: int, balanced_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """As make_split, with each sequence's length drawn uniformly from [shortest, longest]; shorter
    sequences are right-padded with PAD to the longest (the padding Keras' cuDNN kernels accept).
    Returns bits as float32[num_sequences, longest, 1] and sums as float32[num_sequences]."""
    shortest, longest = lengths
    bits, _ = make_split(num_sequences, longest, seed, stream, balanced_fraction)
    sequence_lengths = np.random.default_rng([seed, stream, 1]).integers(shortest, longest + 1, size=num_sequences)
    padding = np.arange(longest)[np.newaxis, :] >= sequence_lengths[:, np.newaxis]
    bits[padding] = PAD
    sums = np.where(padding, 0.0, bits[:, :, 0]).sum(axis=1)
    return bits, sums.astype(np.float32)
