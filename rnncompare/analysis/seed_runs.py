"""What one seed of a comparison produced: the data the statistics and the page are made from."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SeedRun:
    """One experiment of a comparison: its seed and, per model (`<task>-<variant>`), what it produced."""

    experiment: str
    seed: int
    metrics: dict[str, dict]
    summaries: dict[str, dict]
    histories: dict[str, dict[str, list[float]]]
