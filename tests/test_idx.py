"""IDX parsing checks every header field and names the file and the fix."""

import gzip

import numpy as np
import pytest

from rnncompare.core.errors import PipelineError
from rnncompare.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, read_split


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path, payload: bytes):
    path.write_bytes(gzip.compress(payload))
    return path


def test_reads_images_and_labels(tmp_path):
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    read_images, read_labels = read_split(
        write_gz(tmp_path / "i.gz", idx_bytes(IMAGES_MAGIC, images)),
        write_gz(tmp_path / "l.gz", idx_bytes(LABELS_MAGIC, np.array([3, 9]))),
        "test",
    )
    np.testing.assert_array_equal(read_images, images)
    np.testing.assert_array_equal(read_labels, [3, 9])


def test_truncated_gzip_is_reported(tmp_path):
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(idx_bytes(LABELS_MAGIC, np.zeros(500)))[:-20])
    with pytest.raises(PipelineError, match=r"t\.gz from mirror-x is not a complete gzip file"):
        read_idx(path, LABELS_MAGIC, "mirror-x")


def test_wrong_magic_is_reported(tmp_path):
    path = write_gz(tmp_path / "m.gz", idx_bytes(IMAGES_MAGIC, np.zeros((1, 28, 28))))
    with pytest.raises(PipelineError, match="magic number 0x00000803, expected 0x00000801"):
        read_idx(path, LABELS_MAGIC, "here")


def test_body_shorter_than_header_declares_is_reported(tmp_path):
    path = write_gz(tmp_path / "s.gz", idx_bytes(LABELS_MAGIC, np.zeros(10))[:-3])
    with pytest.raises(PipelineError, match=r"declares shape \(10,\).*holds 7 bytes"):
        read_idx(path, LABELS_MAGIC, "here")


def test_image_and_label_counts_must_match(tmp_path):
    with pytest.raises(PipelineError, match="holds 2 images but l.gz holds 3 labels"):
        read_split(
            write_gz(tmp_path / "i.gz", idx_bytes(IMAGES_MAGIC, np.zeros((2, 28, 28)))),
            write_gz(tmp_path / "l.gz", idx_bytes(LABELS_MAGIC, np.zeros(3))),
            "here",
        )


def test_labels_outside_zero_to_nine_are_refused(tmp_path):
    with pytest.raises(PipelineError, match="holds label 12, outside 0..9"):
        read_split(
            write_gz(tmp_path / "i.gz", idx_bytes(IMAGES_MAGIC, np.zeros((1, 28, 28)))),
            write_gz(tmp_path / "l.gz", idx_bytes(LABELS_MAGIC, np.array([12]))),
            "here",
        )


def test_empty_file_is_reported(tmp_path):
    with pytest.raises(PipelineError, match="holds 0 bytes, too few for an IDX header"):
        read_idx(write_gz(tmp_path / "e.gz", b""), LABELS_MAGIC, "here")
