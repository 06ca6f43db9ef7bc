"""params.yaml parsed and validated once, into small frozen dataclasses that stages pass down.

pydantic checks every key: an unknown key, a wrong type or an out-of-range value is a
PipelineError that names the key, the value and what is allowed (a field's description). The same
classes give params.schema.json (rnncompare/config/schema.py), with which editors check the file.
"""

import dataclasses
import os
import pkgutil
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from rnncompare.config import schema
from rnncompare.core.errors import PipelineError

CANONICAL_MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
# The cells a variant may name: Keras' own (rnncompare/models/build.py builds them), then one per
# module of rnncompare/models/cells, read from the folder so that validating params imports no Keras.
KERAS_CELLS = ("simple", "lstm", "gru")
CELLS_FOLDER = Path(__file__).resolve().parents[1] / "models" / "cells"
section = dataclass(frozen=True, config=ConfigDict(extra="forbid"))


def cell_names() -> tuple[str, ...]:
    """Every cell params.yaml may name: Keras' own, then one per module of rnncompare/models/cells."""
    modules = pkgutil.iter_modules([str(CELLS_FOLDER)])
    return KERAS_CELLS + tuple(sorted(module.name for module in modules if not module.name.startswith("_")))


def allowed(description: str, **limits) -> Any:
    """A field's limits and what an error says is allowed (also the schema's description)."""
    return Field(description=description, **limits)


Positive = Annotated[StrictInt, allowed("a positive integer", gt=0)]
Fraction = Annotated[StrictFloat, allowed("a fraction in [0, 1)", ge=0, lt=1)]
PositiveOrNull = Annotated[StrictInt, Field(gt=0)] | None
Task = Literal["sum", "mnist"]
Cell = Literal[cell_names()]


def invalid(expected: str, key: str | None = None, value: Any = None) -> PydanticCustomError:
    """A cross-field check's error; `key` names a field below the one validated."""
    return PydanticCustomError("params", "{expected}", {"expected": expected, "key": key, "value": value})


def known_schemes(sources: tuple[str, ...]) -> tuple[str, ...]:
    for source in sources:
        if "://" in source and source.split("://", 1)[0] not in ("file", "http", "https"):
            raise invalid("a local directory, a file:// URL or an http(s):// URL", value=source)
    return sources


@section
class SumParams:
    """The sum-of-bits dataset."""

    seed: StrictInt = 0
    length: Positive = 10
    train_size: Positive = 10_000
    validation_size: Positive = 1_000
    test_size: Positive = 2_000
    # one test set per length: how far a model counts
    test_lengths: tuple[Positive, ...] = allowed("a list of positive sequence lengths", default=(5, 10, 20, 50, 100))
    # of training sequences drawn so that every sum is equally likely
    train_balanced_fraction: StrictFloat = allowed("a fraction in [0, 1]", ge=0, le=1, default=0.0)
    # [shortest, longest]: training and validation sequences of mixed lengths, padded and masked; null: `length`
    train_lengths: tuple[Positive, Positive] | None = allowed(
        "null, or [shortest, longest], e.g. [1, 20]", default=None
    )

    @field_validator("train_lengths")
    @classmethod
    def shortest_first(cls, lengths):
        if lengths and lengths[0] > lengths[1]:
            raise invalid("null, or [shortest, longest] with 0 < shortest <= longest, e.g. [1, 20]", value=lengths)
        return lengths

    def test_sets(self) -> dict[str, int]:
        """Test set name -> sequence length: `test` at the training length, `test_<n>bits` for the sweep."""
        sets = {"test": self.length}
        sets.update({f"test_{n}bits": n for n in sorted(set(self.test_lengths) - {self.length})})
        return sets


@section
class MnistParams:
    """Where MNIST comes from and how it is verified."""

    sources: Annotated[
        tuple[StrictStr, ...],
        allowed("a list of at least one directory, file:// or https:// URL", min_length=1),
        AfterValidator(known_schemes),
    ] = CANONICAL_MNIST_MIRRORS
    allow_non_canonical: StrictBool = False
    # "t10k-split": only the official t10k-* files, split by position (stages/fetch_mnist.py)
    files: Literal["all", "t10k-split"] = "all"
    timeout_seconds: StrictFloat = allowed("a positive number of seconds", gt=0, default=60.0)


@section
class ModelParams:
    """One recurrent variant: its cell, size and stacking."""

    cell: Cell = "lstm"
    units: Positive = 128
    layers: Positive = 1
    bidirectional: StrictBool = False
    forget_bias: StrictFloat = 1.0
    # "keras": Keras 3's initialisers. "tf1": the original tutorials' TF 1.x graphs (their LSTM only):
    # BasicLSTMCell's one glorot-uniform draw over [inputs + units, 4 * units], and dense layers
    # drawn with tf.random_normal (weights and biases, standard deviation 1)
    init: Literal["keras", "tf1"] = "keras"

    @field_validator("init")
    @classmethod
    def tf1_for_lstm_only(cls, init, info: ValidationInfo):
        if init == "tf1" and info.data.get("cell", "lstm") != "lstm":  # no cell: its own error says why
            raise invalid("'keras' for this cell (the tutorials' 'tf1' initialisation is defined for cell: lstm only)")
        return init


@section
class TrainingParams:
    """How one task is trained."""

    epochs: Positive = 20
    # stacked recurrent layers for this task, over models.<variant>.layers
    layers: PositiveOrNull = allowed(
        "a positive integer, or null for each variant's models.<variant>.layers", default=None
    )
    # train for exactly this many batches instead, without early stopping
    steps: PositiveOrNull = allowed("a positive integer, or null to train by epochs", default=None)
    batch_size: Positive = 64
    optimizer: Literal["adam", "sgd"] = "adam"
    learning_rate: StrictFloat = allowed("a positive number", gt=0, default=0.001)
    # rescale each step's gradients to at most this global norm
    clip_norm: StrictFloat | None = allowed("a positive number, or null for no clipping", gt=0, default=None)
    patience: Positive = 5
    # decay the learning rate along a cosine to zero over all epochs
    cosine_decay: StrictBool = False
    # instead: halve the learning rate after this many epochs without progress
    reduce_lr_patience: PositiveOrNull = allowed(
        "a positive integer, or null for a constant learning rate", default=None
    )
    dropout: Fraction = 0.0  # after every recurrent layer
    augment_shift: Fraction = 0.0  # MNIST only: random shifts up to this fraction of the image, in training
    augment_rotation: Fraction = 0.0  # MNIST only: random rotations up to this fraction of a full turn
    # held out of the training set when the task has no validation split
    validation_fraction: StrictFloat = allowed("a fraction in (0, 1)", gt=0, lt=1, default=0.1)
    # use only the first N training examples (seed-parity recipes)
    train_size: PositiveOrNull = allowed("a positive integer, or null for the whole training set", default=None)

    @field_validator("reduce_lr_patience")
    @classmethod
    def one_schedule(cls, patience, info: ValidationInfo):
        if patience and info.data.get("cosine_decay"):
            raise invalid("null when cosine_decay is true (the schedule sets the learning rate)")
        return patience


@section
class TrainParams:
    """Training settings shared by every model, and one section per task."""

    seed: StrictInt = 0  # initial weights, shuffling, dropout and augmentation: what `make compare` varies
    split_seed: StrictInt = 0  # which training images MNIST holds out for validation: part of the data, kept fixed
    deterministic: StrictBool = True
    distribute: Literal["none", "mirrored"] = "none"  # mirrored: tf.distribute.MirroredStrategy (device.py)
    sum: TrainingParams = TrainingParams()
    mnist: TrainingParams = TrainingParams()

    @field_validator("sum")
    @classmethod
    def images_only_augmented(cls, training):
        for name in ("augment_shift", "augment_rotation"):
            if getattr(training, name):
                raise invalid("0.0: augmentation applies to images only", key=name, value=getattr(training, name))
        return training


@section
class ChampionParams:
    """How the best model of a task is chosen for the registry."""

    metric: StrictStr = "test.accuracy"  # a key of metrics/<task>-<variant>.json
    direction: Literal["max", "min"] = "max"


@section
class MlflowParams:
    """Where runs are recorded and how the champion of each task is picked."""

    tracking_uri: StrictStr | None = None  # None: sqlite:///<repository>/mlflow.db; MLFLOW_TRACKING_URI overrides both
    experiment_prefix: StrictStr = "rnncompare"  # experiments <prefix>-sum and <prefix>-mnist
    model_prefix: StrictStr = "rnncompare"  # registered models <prefix>-sum and <prefix>-mnist
    champion: dict[Task, ChampionParams] = dataclasses.field(default_factory=dict)

    def champion_of(self, task: str) -> ChampionParams:
        if task not in self.champion:
            raise PipelineError(
                f"params.yaml: no mlflow.champion.{task}; add e.g. `{task}: {{metric: test.accuracy, direction: max}}`."
            )
        return self.champion[task]


@section
class CheckParams:
    """The regression gate's reference (stages/check.py)."""

    baseline: StrictStr = "baselines/full.yaml"
    allow_new: StrictBool = False  # True: a model with no baseline passes (its row says so) instead of failing


@section
class CompareParams:
    """What `make compare` (stages/compare.py) holds the seed means to."""

    # "<task>-<variant>": {metric: the lowest acceptable mean over seeds}
    targets: dict[StrictStr, dict[StrictStr, StrictFloat]] = dataclasses.field(default_factory=dict)
    # with sum.train_lengths: the lowest acceptable mean rounded accuracy at every length trained on
    seen_lengths_accuracy: StrictFloat = 0.99


@section
class TutorialParams:
    """A complete recipe, model and training, for one task: one of the original tutorials'."""

    task: Task = "sum"
    model: ModelParams = ModelParams()
    training: TrainingParams = TrainingParams()
    # the modern model the report shows it beside (<task>-<variant>), or null
    compared_with: StrictStr | None = None


@section
class Params:
    """Everything in params.yaml, one section per stage."""

    sum: SumParams = SumParams()
    mnist: MnistParams = MnistParams()
    train: TrainParams = TrainParams()
    models: dict[StrictStr, ModelParams] = dataclasses.field(default_factory=dict)
    tutorials: dict[StrictStr, TutorialParams] = dataclasses.field(default_factory=dict)
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

    def tutorial(self, name: str) -> TutorialParams:
        """One of the tutorials' recipes, or an error listing those params.yaml defines."""
        if name not in self.tutorials:
            raise PipelineError(
                f"params.yaml: no recipe '{name}' under tutorials; defined recipes: {', '.join(self.tutorials)}."
            )
        return self.tutorials[name]


PARAMS = TypeAdapter(Params)


class ParamsLoader(yaml.SafeLoader):
    """YAML as params files are read. Also takes `3e-3` and `1e-05` for floats (YAML 1.2 does, and
    DVC writes small floats so, e.g. after `dvc exp run --set-param ...=0.00001`), which YAML 1.1
    would read as strings."""


ParamsLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def read_yaml(text: str):
    """A params file's (or a profile's) YAML, with ParamsLoader."""
    return yaml.load(text, Loader=ParamsLoader)  # noqa: S506  a SafeLoader


def load_params(path: Path = Path("params.yaml")) -> Params:
    """Read and validate params.yaml; an error lists every invalid key."""
    try:
        document = read_yaml(Path(path).read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path} not found; run from the repository root, where params.yaml lives.") from None
    except yaml.YAMLError as error:
        raise PipelineError(f"{path} is not valid YAML: {error}") from None
    return validate_document(document, Path(path))


def validate_document(document, path: Path) -> Params:
    """Validate params as YAML read them from `path`; an error lists every invalid key."""
    try:
        return PARAMS.validate_python({} if document is None else document)
    except ValidationError as error:
        problems = [schema.describe(problem, PARAMS) for problem in error.errors()]
        if os.environ.get("DVC_EXP_NAME") and not in_experiment_copy():
            problems.append(
                f"`dvc exp run --set-param` writes into {path} and leaves its values there when the experiment "
                "fails: correct them there (git diff shows them), then run it again."
            )
        raise PipelineError("\n".join(f"{path}: {problem}" for problem in problems)) from None


def in_experiment_copy() -> bool:
    """Whether this process runs in one of DVC's temporary experiment copies (--temp, the queue)."""
    return any(folder.name == ".dvc" for folder in Path.cwd().resolve().parents)
