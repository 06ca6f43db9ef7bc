"""The metrics the pipeline writes (metrics/<task>-<variant>.json), by name: the values each can take
and which way is better. params.yaml names them (mlflow.champion, compare.targets); evaluation
writes them, `make compare` and the gate read them."""

import math
from dataclasses import dataclass

SUM_TOLERANCE = 0.05  # the original tutorials' "accuracy": predictions within 0.05 of the true sum
NUM_CLASSES = 10


@dataclass(frozen=True)
class Metric:
    higher_is_better: bool
    low: float
    high: float

    def describe(self) -> str:
        span = f"[{self.low:g}, {self.high:g}]" if math.isfinite(self.high) else f">= {self.low:g}"
        return f"{span}, {'higher' if self.higher_is_better else 'lower'} is better"


SHARE = Metric(True, 0.0, 1.0)  # accuracies, shares of predictions
ERROR = Metric(False, 0.0, math.inf)  # errors and losses

# Per test set of each task: `<test set>.<name>`.
TEST_METRICS = {
    "sum": {"mse": ERROR, "mae": ERROR, f"within_{SUM_TOLERANCE}": SHARE, "rounded_accuracy": SHARE},
    "mnist": {"accuracy": SHARE, "loss": ERROR, **{f"per_class_accuracy.{d}": SHARE for d in range(NUM_CLASSES)}},
}
# The validation curve's best value, which `make compare` adds beside the test metrics.
VALIDATION_METRICS = {"sum": {"validation.best_loss": ERROR}, "mnist": {"validation.best_accuracy": SHARE}}


def test_metrics(task: str, test_sets: list[str]) -> dict[str, Metric]:
    """Every metric a model of `task` writes, for the given test sets."""
    return {f"{test_set}.{name}": metric for test_set in test_sets for name, metric in TEST_METRICS[task].items()}


def metric_of(name: str) -> Metric | None:
    """A metric by its flat name (`test_20bits.mae`, `validation.best_accuracy`), whatever its test set."""
    for metrics in VALIDATION_METRICS.values():
        if name in metrics:
            return metrics[name]
    _, _, short = name.partition(".")
    for metrics in TEST_METRICS.values():
        if short in metrics:
            return metrics[short]
    return None
