"""Fetch MNIST's files, each from the first source that serves it verified by SHA-256."""

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pooch
import requests

from rnncompare.core.errors import PipelineError
from rnncompare.core.repository import repository_root

CANONICAL_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
CHECKSUM_FILE = "SHA256SUMS"
OFFLINE_HINT = (
    "\nNo internet on this machine? List a local directory that holds the files first in mnist.sources,"
    " as profiles/ci.yaml and profiles/mnist-mini.yaml do with ../shared/data/mnist-mini."
)
log = logging.getLogger(__name__)


class SourceFailure(Exception):
    """One source could not deliver one file; the next source is tried."""


@dataclass(frozen=True)
class FetchedFile:
    path: Path
    source: str
    sha256: str
    canonical: bool


class Mirror:
    """One entry of mnist.sources: a local directory, a file:// URL or an http(s):// URL."""

    def __init__(self, source: str, workdir: Path, timeout_seconds: float):
        self.source = source
        self.workdir = workdir
        self.timeout_seconds = timeout_seconds
        parsed = urlparse(source)
        self.is_remote = parsed.scheme in ("http", "https")
        self.directory = None
        if not self.is_remote:
            self.directory = Path(url2pathname(parsed.path) if parsed.scheme == "file" else source)
            # Relative to the repository, also from DVC's experiment copies under .dvc/tmp/exps
            self.directory = Path(os.path.normpath(repository_root() / self.directory))
        self.dead_because: str | None = None
        self._declared: dict[str, str] | None = None

    def retrieve(self, name: str) -> Path:
        """Bring file `name` into the working directory; raise SourceFailure if the source can't."""
        if not self.is_remote:
            if not self.directory.is_dir():
                self.dead_because = f"directory {self.directory} does not exist"
                raise SourceFailure(self.dead_because)
            local = self.directory / name
            if not local.is_file():
                raise SourceFailure(f"no file {local}")
            target = self.workdir / name
            shutil.copyfile(local, target)
            return target
        downloader = pooch.HTTPDownloader(progressbar=True, timeout=self.timeout_seconds)
        try:
            return Path(
                pooch.retrieve(
                    self.source.rstrip("/") + "/" + name,
                    known_hash=None,
                    fname=name,
                    path=self.workdir,
                    downloader=downloader,
                )
            )
        except requests.HTTPError as error:
            raise SourceFailure(f"HTTP {error.response.status_code} for {name}") from None
        except (requests.RequestException, OSError) as error:
            self.dead_because = f"{type(error).__name__}: {error}"
            raise SourceFailure(self.dead_because) from None

    def declared_digests(self) -> dict[str, str]:
        """Digests from the mirror's own SHA256SUMS, or {} when it declares none."""
        if self._declared is None:
            try:
                text = self.retrieve(CHECKSUM_FILE).read_text()
            except SourceFailure:
                if self.dead_because:
                    raise
                text = ""
            self._declared = {}
            for line in text.splitlines():
                if line.strip():
                    digest, name = line.split(maxsplit=1)
                    self._declared[name.lstrip("*")] = digest.lower()
        return self._declared


def fetch_from(mirror: Mirror, name: str, allow_non_canonical: bool) -> FetchedFile:
    """Fetch and verify one file from one mirror, or raise SourceFailure saying why not."""
    if mirror.dead_because:
        raise SourceFailure(f"skipped: {mirror.dead_because}")
    canonical = CANONICAL_SHA256[name]
    expected = mirror.declared_digests().get(name, canonical)
    if expected != canonical and not allow_non_canonical:
        raise SourceFailure(
            f"its {CHECKSUM_FILE} declares {name} as sha256 {expected}, which is not canonical MNIST "
            f"({canonical}); set mnist.allow_non_canonical: true in params.yaml to accept this mirror's data"
        )
    log.info("fetching %s from %s", name, mirror.source)
    path = mirror.retrieve(name)
    actual = pooch.file_hash(str(path), alg="sha256")
    if actual != expected:
        path.unlink()
        kind = f"declared in the mirror's {CHECKSUM_FILE}" if expected != canonical else "canonical"
        raise SourceFailure(
            f"checksum mismatch for {name} from {mirror.source}: expected sha256 {expected} ({kind}), "
            f"got {actual}; the mirror's copy is corrupted"
        )
    return FetchedFile(path=path, source=mirror.source, sha256=actual, canonical=actual == canonical)


def fetch_all(
    sources: tuple[str, ...],
    workdir: Path,
    allow_non_canonical: bool,
    timeout_seconds: float,
    names: tuple[str, ...] = tuple(CANONICAL_SHA256),
) -> dict[str, FetchedFile]:
    """Fetch the named MNIST files, each from the first source in order that delivers it verified.
    A source that is missing or unreachable is said once in the log, then skipped."""
    pooch.get_logger().setLevel(logging.WARNING)
    mirrors = []
    for index, source in enumerate(sources):
        (workdir / str(index)).mkdir(parents=True, exist_ok=True)
        mirrors.append(Mirror(source, workdir / str(index), timeout_seconds))
    fetched = {}
    for name in names:
        reasons = []
        for mirror in mirrors:
            was_dead = mirror.dead_because is not None
            try:
                fetched[name] = fetch_from(mirror, name, allow_non_canonical)
                break
            except SourceFailure as failure:
                if not was_dead:
                    log.warning("%s: %s%s", mirror.source, failure, "; skipped" if mirror.dead_because else "")
                reasons.append(f"  - {mirror.source}: {failure}")
        else:
            offline = any(mirror.is_remote and mirror.dead_because for mirror in mirrors)
            raise PipelineError(
                f"could not fetch {name} from any of the {len(mirrors)} sources in params.yaml "
                "mnist.sources:\n"
                + "\n".join(reasons)
                + "\nFix a source or add a reachable mirror (a directory, file:// or https:// URL) to mnist.sources."
                + (OFFLINE_HINT if offline else "")
            )
    return fetched
