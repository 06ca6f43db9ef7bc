"""Read gzipped IDX files, the format MNIST ships in, checking every header field."""

import gzip
import zlib
from pathlib import Path

import numpy as np

from rnncompare.core.errors import PipelineError

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
IMAGE_SIDE = 28
NUM_CLASSES = 10
# What to do about a bad file: a mirror's (the fetch stage), or one the user gave (predict).
MIRROR_FIX = (
    "the file on that mirror is damaged or not the one its name says: "
    "repair it or remove the mirror from mnist.sources."
)
GIVEN_FILE_FIX = "give a gzipped IDX file in MNIST's layout, e.g. t10k-images-idx3-ubyte.gz."


def read_idx(path: Path, expected_magic: int, origin: str, fix: str = MIRROR_FIX) -> np.ndarray:
    """Decompress and parse one IDX file into a uint8 array of the shape its header declares."""
    try:
        raw = gzip.decompress(Path(path).read_bytes())
    except OSError as error:  # missing, unreadable, or not gzip (BadGzipFile is an OSError)
        raise PipelineError(f"{Path(path).name} from {origin} is not a readable gzip file ({error}); {fix}") from None
    except (EOFError, zlib.error) as error:
        raise PipelineError(f"{Path(path).name} from {origin} is not a complete gzip file ({error}); {fix}") from None
    if len(raw) < 4:
        raise PipelineError(f"{Path(path).name} from {origin} holds {len(raw)} bytes, too few for an IDX header; {fix}")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise PipelineError(
            f"{Path(path).name} from {origin} has IDX magic number {magic:#010x}, "
            f"expected {expected_magic:#010x}; {fix}"
        )
    num_dimensions = raw[3]
    header_size = 4 + 4 * num_dimensions
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(num_dimensions))
    body = raw[header_size:]
    if len(body) != int(np.prod(shape)):
        raise PipelineError(
            f"{Path(path).name} from {origin}: header declares shape {shape} ({int(np.prod(shape))} bytes) "
            f"but the file holds {len(body)} bytes of data; {fix}"
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def read_split(images_path: Path, labels_path: Path, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse one split: images uint8[count, 28, 28] and labels uint8[count] with values 0..9."""
    images = read_idx(images_path, IMAGES_MAGIC, origin)
    labels = read_idx(labels_path, LABELS_MAGIC, origin)
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise PipelineError(
            f"{Path(images_path).name} from {origin} holds images of {images.shape[1:]} pixels, "
            f"expected {IMAGE_SIDE}x{IMAGE_SIDE}."
        )
    if len(images) != len(labels):
        raise PipelineError(
            f"{Path(images_path).name} holds {len(images)} images but {Path(labels_path).name} holds "
            f"{len(labels)} labels (from {origin}); the two files must come from the same release."
        )
    if labels.size and labels.max() >= NUM_CLASSES:
        raise PipelineError(
            f"{Path(labels_path).name} from {origin} holds label {int(labels.max())}, "
            f"outside 0..{NUM_CLASSES - 1}; the file is not an MNIST label file."
        )
    return images, labels
