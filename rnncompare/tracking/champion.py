"""The champion rule: when a task's best new model takes the registry alias `champion`.

A candidate (the best variant of this run, by `mlflow.champion.<task>`) is promoted when there is
no champion yet, or when it beats the champion by that metric on the same test data, known by the
digest of the test files recorded on each registered version. Otherwise the alias stays: a model
measured on other test data (a CI-profile run against the full defaults) is never compared.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

DIGEST_TAG = "test_data.sha256"
DECISION_TAG = "champion.decision"  # on each version: why it was (not) promoted


@dataclass(frozen=True)
class Standing:
    """A model's score as the registry records it: version, metric value and test-data digest."""

    version: int
    value: float | None
    digest: str | None


def digest_of_test_data(data_dir: Path) -> str:
    """SHA-256 over the task's test files (`test*.npz`, by name): equal digests, equal test data."""
    digest = hashlib.sha256()
    for path in sorted(Path(data_dir).glob("test*.npz")):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def decide(
    candidate: Standing, champion: Standing | None, metric: str, direction: str, task: str = "<task>"
) -> tuple[bool, str]:
    """(promote?, why) for `candidate` against the current `champion` (None: no champion yet)."""
    if champion is None:
        return True, "no champion yet"
    if champion.version == candidate.version:
        return True, f"version {candidate.version} is already the champion"
    if champion.digest != candidate.digest:
        return False, (
            f"champion version {champion.version} was measured on other test data "
            f"({DIGEST_TAG} {str(champion.digest)[:12]}…, this run {candidate.digest[:12]}…): not compared; "
            f"`make promote TASK={task} VERSION={candidate.version}` makes it the champion by hand"
        )
    if champion.value is None:
        return False, f"champion version {champion.version} records no {metric}: not compared"
    better = candidate.value < champion.value if direction == "min" else candidate.value > champion.value
    verdict = "beats" if better else "does not beat"
    held = f"champion version {champion.version}'s {champion.value:.6g}"
    return better, f"{metric} {candidate.value:.6g} {verdict} {held}"
