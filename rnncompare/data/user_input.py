"""What a user gives `predict`: a PNG of a digit, or a string of bits, as the arrays the models take."""

import logging
from pathlib import Path

import numpy as np

from rnncompare.core.errors import PipelineError

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
