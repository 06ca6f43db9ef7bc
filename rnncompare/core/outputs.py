"""Outputs written all at once: a stage either replaces its output completely or leaves it as it was."""

import contextlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

# A fixed timestamp inside .npz archives keeps equal arrays byte-identical across runs.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@contextlib.contextmanager
def replaced_directory(final: Path) -> Iterator[Path]:
    """Yield an empty staging directory that replaces `final` only if the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the output is an ordinary directory
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.replace(final, retired)
    os.replace(staging, final)
    shutil.rmtree(retired, ignore_errors=True)


@contextlib.contextmanager
def replaced_file(final: Path) -> Iterator[Path]:
    """Yield a temporary path (same suffix) that replaces `final` only if the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.with_name(f".{final.stem}.partial-{os.getpid()}{final.suffix}")
    try:
        yield temporary
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, final)


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """Write arrays as an uncompressed .npz whose bytes depend only on the arrays."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH), buffer.getvalue())


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read every array of an .npz written by `save_arrays`."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def write_json(path: Path, document: object) -> None:
    """Write JSON atomically (temp file, then rename), keys sorted for stable diffs."""
    with replaced_file(path) as temporary:
        temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
