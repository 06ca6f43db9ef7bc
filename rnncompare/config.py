"""params.yaml parsed and validated once, into small dataclasses that stages pass down.

Every key is checked: an unknown key, a wrong type or an out-of-range value is a PipelineError
that names the key, the value and the valid choices.
"""

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from rnncompare import registry
from rnncompare.errors import PipelineError

CANONICAL_MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)


@dataclasses.dataclass(frozen=True)
class SumParams:
    """The sum-of-bits dataset."""

    seed: int = 0
    length: int = 10
    train_size: int = 10_000
    validation_size: int = 1_000
    test_size: int = 2_000
    test_lengths: tuple[int, ...] = (5, 10, 20, 50, 100)  # one test set per length: how far a model counts
    train_balanced_fraction: float = 0.0  # of training sequences drawn so that every sum is equally likely
    # [shortest, longest]: training and validation sequences of mixed lengths, padded and masked; null: `length`
    train_lengths: tuple[int, ...] | None = None

    def test_sets(self) -> dict[str, int]:
        """Test set name -> sequence length: `test` at the training length, `test_<n>bits` for the sweep."""
        sets = {"test": self.length}
        sets.update({f"test_{n}bits": n for n in sorted(set(self.test_lengths) - {self.length})})
        return sets

    def validate(self, where: str) -> None:
        for name in ("length", "train_size", "validation_size", "test_size"):
            _require(getattr(self, name) > 0, f"{where}.{name}", getattr(self, name), "a positive integer")
        _require(
            0.0 <= self.train_balanced_fraction <= 1.0,
            f"{where}.train_balanced_fraction",
            self.train_balanced_fraction,
            "a fraction in [0, 1]",
        )
        _require(
            all(n > 0 for n in self.test_lengths),
            f"{where}.test_lengths",
            self.test_lengths,
            "a list of positive sequence lengths, e.g. [5, 10, 20, 50, 100]",
        )
        _require(
            self.train_lengths is None
            or (len(self.train_lengths) == 2 and 0 < self.train_lengths[0] <= self.train_lengths[1]),
            f"{where}.train_lengths",
            self.train_lengths,
            "null, or [shortest, longest] with 0 < shortest <= longest, e.g. [1, 20]",
        )


@dataclasses.dataclass(frozen=True)
class MnistParams:
    """Where MNIST comes from and how it is verified."""

    sources: tuple[str, ...] = CANONICAL_MNIST_MIRRORS
    allow_non_canonical: bool = False
    # "t10k-split": only the official t10k-* files, split by position (stages/fetch_mnist.py)
    files: Literal["all", "t10k-split"] = "all"
    timeout_seconds: float = 60.0

    def validate(self, where: str) -> None:
        _require(
            len(self.sources) > 0,
            f"{where}.sources",
            self.sources,
            "a list of at least one directory, file:// or https:// URL",
        )
        for source in self.sources:
            scheme = source.split("://", 1)[0] if "://" in source else None
            _require(
                scheme in (None, "file", "http", "https"),
                f"{where}.sources",
                source,
                "a local directory, a file:// URL or an http(s):// URL",
            )
        _require(
            self.timeout_seconds > 0, f"{where}.timeout_seconds", self.timeout_seconds, "a positive number of seconds"
        )


Task = Literal["sum", "mnist"]


@dataclasses.dataclass(frozen=True)
class ModelParams:
    """One recurrent variant: its cell, size and stacking."""

    cell: str = "lstm"  # Keras' simple, lstm, gru, or one of ours (rnncompare/registry.py)
    units: int = 128
    layers: int = 1
    bidirectional: bool = False
    forget_bias: float = 1.0
    # "keras": Keras 3's initialisers. "tf1": the seed tutorials' TF 1.x graphs (their LSTM only):
    # BasicLSTMCell's one glorot-uniform draw over [inputs + units, 4 * units], and dense layers
    # drawn with tf.random_normal (weights and biases, standard deviation 1)
    init: Literal["keras", "tf1"] = "keras"

    def validate(self, where: str) -> None:
        cells = registry.cell_names()
        _require(self.cell in cells, f"{where}.cell", self.cell, "one of " + ", ".join(map(repr, cells)))
        _require(self.units > 0, f"{where}.units", self.units, "a positive integer")
        _require(self.layers > 0, f"{where}.layers", self.layers, "a positive integer")
        _require(
            self.init == "keras" or self.cell == "lstm",
            f"{where}.init",
            self.init,
            "'keras' for this cell (the seeds' 'tf1' initialisation is defined for cell: lstm only)",
        )


@dataclasses.dataclass(frozen=True)
class TrainingParams:
    """How one task is trained."""

    epochs: int = 20
    layers: int | None = None  # stacked recurrent layers for this task, over models.<variant>.layers
    steps: int | None = None  # train for exactly this many batches instead, without early stopping
    batch_size: int = 64
    optimizer: Literal["adam", "sgd"] = "adam"
    learning_rate: float = 0.001
    clip_norm: float | None = None  # rescale each step's gradients to at most this global norm
    patience: int = 5
    reduce_lr_patience: int | None = None  # halve the learning rate after this many epochs without progress
    cosine_decay: bool = False  # instead: decay the learning rate along a cosine to zero over all epochs
    dropout: float = 0.0  # after every recurrent layer
    augment_shift: float = 0.0  # MNIST only: random shifts up to this fraction of the image, in training
    augment_rotation: float = 0.0  # MNIST only: random rotations up to this fraction of a full turn
    validation_fraction: float = 0.1  # held out of the training set when the task has no validation split
    train_size: int | None = None  # use only the first N training examples (seed-parity recipes)

    def validate(self, where: str) -> None:
        for name in ("epochs", "batch_size", "patience"):
            _require(getattr(self, name) > 0, f"{where}.{name}", getattr(self, name), "a positive integer")
        _require(
            self.reduce_lr_patience is None or self.reduce_lr_patience > 0,
            f"{where}.reduce_lr_patience",
            self.reduce_lr_patience,
            "a positive integer, or null for a constant learning rate",
        )
        _require(
            self.layers is None or self.layers > 0,
            f"{where}.layers",
            self.layers,
            "a positive integer, or null for each variant's own models.<variant>.layers",
        )
        _require(
            not (self.cosine_decay and self.reduce_lr_patience),
            f"{where}.reduce_lr_patience",
            self.reduce_lr_patience,
            "null when cosine_decay is true (the schedule sets the learning rate)",
        )
        for name in ("dropout", "augment_shift", "augment_rotation"):
            _require(0.0 <= getattr(self, name) < 1.0, f"{where}.{name}", getattr(self, name), "a value in [0, 1)")
        _require(self.learning_rate > 0, f"{where}.learning_rate", self.learning_rate, "a positive number")
        _require(
            self.clip_norm is None or self.clip_norm > 0,
            f"{where}.clip_norm",
            self.clip_norm,
            "a positive number, or null for no clipping",
        )
        _require(
            0.0 < self.validation_fraction < 1.0,
            f"{where}.validation_fraction",
            self.validation_fraction,
            "a fraction in (0, 1)",
        )
        _require(
            self.train_size is None or self.train_size > 0,
            f"{where}.train_size",
            self.train_size,
            "a positive integer, or null for the whole training set",
        )


@dataclasses.dataclass(frozen=True)
class TrainParams:
    """Training settings shared by every model, and one section per task."""

    seed: int = 0  # initial weights, shuffling, dropout and augmentation: what `make compare` varies
    split_seed: int = 0  # which training images MNIST holds out for validation: part of the data, kept fixed
    deterministic: bool = True
    distribute: Literal["none", "mirrored"] = "none"  # mirrored: tf.distribute.MirroredStrategy (device.py)
    sum: TrainingParams = TrainingParams()
    mnist: TrainingParams = TrainingParams()

    def validate(self, where: str) -> None:
        for name in ("augment_shift", "augment_rotation"):
            value = getattr(self.sum, name)
            _require(value == 0.0, f"{where}.sum.{name}", value, "0.0: augmentation applies to images only")


@dataclasses.dataclass(frozen=True)
class ChampionParams:
    """How the best model of a task is chosen for the registry."""

    metric: str = "test.accuracy"  # a key of metrics/<task>-<variant>.json
    direction: Literal["max", "min"] = "max"


@dataclasses.dataclass(frozen=True)
class MlflowParams:
    """Where runs are recorded and how the champion of each task is picked."""

    tracking_uri: str | None = None  # None: sqlite:///<repository>/mlflow.db; MLFLOW_TRACKING_URI overrides both
    experiment_prefix: str = "rnncompare"  # experiments <prefix>-sum and <prefix>-mnist
    model_prefix: str = "rnncompare"  # registered models <prefix>-sum and <prefix>-mnist
    champion: dict[str, ChampionParams] = dataclasses.field(default_factory=dict)

    def validate(self, where: str) -> None:
        for task in self.champion:
            _require(task in typing.get_args(Task), f"{where}.champion", task, "a task: 'sum' or 'mnist'")

    def champion_of(self, task: str) -> ChampionParams:
        if task not in self.champion:
            raise PipelineError(
                f"params.yaml: no mlflow.champion.{task}; add e.g. `{task}: {{metric: test.accuracy, direction: max}}`."
            )
        return self.champion[task]


@dataclasses.dataclass(frozen=True)
class CheckParams:
    """The regression gate's reference (stages/check.py)."""

    baseline: str = "baselines/full.yaml"
    allow_new: bool = False  # True: a model with no baseline passes (its row says so) instead of failing


@dataclasses.dataclass(frozen=True)
class CompareParams:
    """What `make compare` (stages/compare.py) holds the seed means to."""

    # "<task>-<variant>": {metric: the lowest acceptable mean over seeds}
    targets: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    # with sum.train_lengths: the lowest acceptable mean rounded accuracy at every length trained on
    seen_lengths_accuracy: float = 0.99


@dataclasses.dataclass(frozen=True)
class PresetParams:
    """A complete recipe, model and training, for one task: the seed tutorials'."""

    task: Task = "sum"
    model: ModelParams = ModelParams()
    training: TrainingParams = TrainingParams()


@dataclasses.dataclass(frozen=True)
class Params:
    """Everything in params.yaml, one section per stage."""

    sum: SumParams = SumParams()
    mnist: MnistParams = MnistParams()
    train: TrainParams = TrainParams()
    models: dict[str, ModelParams] = dataclasses.field(default_factory=dict)
    presets: dict[str, PresetParams] = dataclasses.field(default_factory=dict)
    mlflow: MlflowParams = MlflowParams()
    check: CheckParams = CheckParams()
    compare: CompareParams = CompareParams()

    def model(self, variant: str) -> ModelParams:
        """The params of one variant, or an error listing the variants params.yaml defines."""
        if variant not in self.models:
            raise PipelineError(
                f"params.yaml: no variant '{variant}' under models; defined variants: {', '.join(self.models)}."
            )
        return self.models[variant]

    def preset(self, name: str) -> PresetParams:
        """One seed-parity recipe, or an error listing those params.yaml defines."""
        if name not in self.presets:
            raise PipelineError(
                f"params.yaml: no preset '{name}' under presets; defined presets: {', '.join(self.presets)}."
            )
        return self.presets[name]


def _require(condition: bool, key: str, value: Any, expected: str) -> None:
    if not condition:
        raise PipelineError(f"params.yaml: {key} = {value!r} is invalid; expected {expected}.")


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Check `value` against a field's type annotation and convert YAML lists to tuples."""
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation):
        return parse_section(annotation, value, key)
    if origin is Literal:
        choices = typing.get_args(annotation)
        _require(value in choices, key, value, "one of " + ", ".join(map(repr, choices)))
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        (annotation,) = [option for option in options if option is not type(None)]
        return _coerce(value, annotation, key)
    if origin is dict:
        _require(isinstance(value, dict), key, value, "a mapping of names to sections")
        value_type = typing.get_args(annotation)[1]
        return {name: _coerce(item, value_type, f"{key}.{name}") for name, item in value.items()}
    if origin is tuple:
        item_type = typing.get_args(annotation)[0]
        _require(isinstance(value, list), key, value, f"a list of {item_type.__name__}")
        return tuple(_coerce(item, item_type, f"{key}[{index}]") for index, item in enumerate(value))
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    valid = isinstance(value, annotation) and not (annotation is int and isinstance(value, bool))
    _require(valid, key, value, f"a value of type {annotation.__name__}")
    return value


def parse_section(cls: type, mapping: Any, where: str) -> Any:
    """Build dataclass `cls` from a YAML mapping, refusing unknown keys and invalid values."""
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict):
        raise PipelineError(f"params.yaml: {where} must be a mapping of keys to values, got {mapping!r}.")
    hints = typing.get_type_hints(cls)
    names = [field.name for field in dataclasses.fields(cls)]
    for key in mapping:
        if key not in names:
            raise PipelineError(
                f"params.yaml: unknown key '{where + '.' if where else ''}{key}'; "
                f"valid keys here are: {', '.join(names)}."
            )
    section = cls(
        **{key: _coerce(value, hints[key], f"{where + '.' if where else ''}{key}") for key, value in mapping.items()}
    )
    if hasattr(section, "validate"):
        section.validate(where)
    return section


def load_params(path: Path = Path("params.yaml")) -> Params:
    """Read and validate params.yaml."""
    try:
        document = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path} not found; run from the repository root, where params.yaml lives.") from None
    except yaml.YAMLError as error:
        raise PipelineError(f"{path} is not valid YAML: {error}") from None
    try:
        return parse_section(Params, document, "")
    except PipelineError as error:
        raise PipelineError(str(error).replace("params.yaml", str(path), 1)) from None
