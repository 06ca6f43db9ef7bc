"""params.yaml parsed and validated once, into small frozen dataclasses that stages pass down.

params.yaml is the only place a default lives: every section and every key must be there (a
variant may leave out `forget_bias` and `init`, which not every cell has). pydantic checks every
key: a missing or unknown key, a wrong type or an out-of-range value is a PipelineError that names
the key, the value and what is allowed (a field's description); so is a name that points nowhere
(a metric, a model, a variant). The same classes give params.schema.json (rnncompare/config/schema.py),
with which editors check the file.
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
    model_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from rnncompare.config import metrics, schema
from rnncompare.core.errors import PipelineError

# The cells a variant may name: Keras' own (rnncompare/models/build.py builds them), then one per
# module of rnncompare/models/cells, read from the folder so that validating params imports no Keras.
KERAS_CELLS = ("simple", "lstm", "gru")
CELLS_FOLDER = Path(__file__).resolve().parents[1] / "models" / "cells"
TASKS = ("sum", "mnist")
LARGEST_SEED = 2**32 - 1  # Keras and NumPy take seeds in 0 .. 2**32 - 1
section = dataclass(frozen=True, config=ConfigDict(extra="forbid"))


def cell_names() -> tuple[str, ...]:
    """Every cell params.yaml may name: Keras' own, then one per module of rnncompare/models/cells."""
    modules = pkgutil.iter_modules([str(CELLS_FOLDER)])
    return KERAS_CELLS + tuple(sorted(module.name for module in modules if not module.name.startswith("_")))


def allowed(description: str, **limits) -> Any:
    """A field's limits and what an error says is allowed (also the schema's description)."""
    return Field(description=description, **limits)


Positive = Annotated[StrictInt, allowed("a positive integer", gt=0)]
PositiveOrNull = Annotated[StrictInt, Field(gt=0)] | None
Seed = Annotated[
    StrictInt, allowed(f"a seed from 0 to {LARGEST_SEED}, which the random generators take", ge=0, le=LARGEST_SEED)
]
Number = Annotated[StrictFloat, allowed("a finite number", allow_inf_nan=False)]
Fraction = Annotated[StrictFloat, allowed("a fraction in [0, 1)", ge=0, lt=1, allow_inf_nan=False)]
Name = Annotated[StrictStr, allowed("a non-empty string", min_length=1)]
Task = Literal[TASKS]
Cell = Literal[cell_names()]


def invalid(expected: str, key: str | tuple | None = None, value: Any = None) -> PydanticCustomError:
    """A cross-field check's error; `key` names a field below the one validated (a tuple: a path)."""
    return PydanticCustomError("params", "{expected}", {"expected": expected, "key": key, "value": value})


def known_schemes(sources: tuple[str, ...]) -> tuple[str, ...]:
    for source in sources:
        if not source.strip():
            raise invalid("a local directory, a file:// URL or an http(s):// URL, not an empty string", value=source)
        if "://" in source and source.split("://", 1)[0] not in ("file", "http", "https"):
            raise invalid("a local directory, a file:// URL or an http(s):// URL", value=source)
    return sources


@section
class SumParams:
    """The sum-of-bits dataset."""

    seed: Seed
    length: Positive
    train_size: Positive
    validation_size: Positive
    test_size: Positive
    # one test set per length: how far a model counts
    test_lengths: Annotated[tuple[Positive, ...], allowed("a list of positive sequence lengths")]
    # [shortest, longest]: training and validation sequences of mixed lengths, padded and masked; null: `length`
    train_lengths: Annotated[tuple[Positive, Positive] | None, allowed("null, or [shortest, longest], e.g. [1, 20]")]
    # of training sequences drawn so that every sum is equally likely
    train_balanced_fraction: Annotated[StrictFloat, allowed("a fraction in [0, 1]", ge=0, le=1, allow_inf_nan=False)]

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
    ]
    allow_non_canonical: StrictBool
    # "t10k-split": only the official t10k-* files, split by position (rnncompare/data/mnist.py)
    files: Literal["all", "t10k-split"]
    timeout_seconds: Annotated[StrictFloat, allowed("a positive number of seconds", gt=0, allow_inf_nan=False)]


@section
class ModelParams:
    """One recurrent variant: its cell, size and stacking."""

    cell: Cell
    units: Positive
    layers: Positive
    bidirectional: StrictBool
    # the forget gate's initial bias (LSTM; our lnlstm adds it at every step); null or left out: the cell's own
    forget_bias: Annotated[StrictFloat | None, allowed("a finite number, or null", allow_inf_nan=False)] = None
    # "keras" (or left out): Keras 3's initialisers. "tf1": the original tutorials' TF 1.x graphs (their
    # LSTM only): BasicLSTMCell's one glorot-uniform draw over [inputs + units, 4 * units], and dense
    # layers drawn with tf.random_normal (weights and biases, standard deviation 1)
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

    epochs: Positive
    # stacked recurrent layers for this task, over models.<variant>.layers
    layers: Annotated[PositiveOrNull, allowed("a positive integer, or null for each variant's models.<variant>.layers")]
    # train for exactly this many batches instead, without early stopping
    steps: Annotated[PositiveOrNull, allowed("a positive integer, or null to train by epochs")]
    batch_size: Positive
    optimizer: Literal["adam", "sgd"]
    learning_rate: Annotated[StrictFloat, allowed("a positive number", gt=0, allow_inf_nan=False)]
    # rescale each step's gradients to at most this global norm
    clip_norm: Annotated[
        StrictFloat | None, allowed("a positive number, or null for no clipping", gt=0, allow_inf_nan=False)
    ]
    patience: Positive
    # decay the learning rate along a cosine to zero over all epochs
    cosine_decay: StrictBool
    # instead: halve the learning rate after this many epochs without progress
    reduce_lr_patience: Annotated[PositiveOrNull, allowed("a positive integer, or null for a constant learning rate")]
    dropout: Fraction  # after every recurrent layer
    augment_shift: Fraction  # MNIST only: random shifts up to this fraction of the image, in training
    augment_rotation: Fraction  # MNIST only: random rotations up to this fraction of a full turn
    # held out of the training set when the task has no validation split
    validation_fraction: Annotated[StrictFloat, allowed("a fraction in (0, 1)", gt=0, lt=1, allow_inf_nan=False)]
    # use only the first N training examples (the tutorials' recipes)
    train_size: Annotated[PositiveOrNull, allowed("a positive integer, or null for the whole training set")]

    @field_validator("reduce_lr_patience")
    @classmethod
    def one_schedule(cls, patience, info: ValidationInfo):
        if patience and info.data.get("cosine_decay"):
            raise invalid("null when cosine_decay is true (the schedule sets the learning rate)")
        return patience


@section
class TrainParams:
    """Training settings shared by every model, and one section per task."""

    seed: Seed  # initial weights, shuffling, dropout and augmentation: what `make compare` varies
    split_seed: Seed  # which training images MNIST holds out for validation: part of the data, kept fixed
    deterministic: StrictBool
    distribute: Literal["none", "mirrored"]  # mirrored: tf.distribute.MirroredStrategy (training/device.py)
    sum: TrainingParams
    mnist: TrainingParams

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

    metric: Name  # a key of metrics/<task>-<variant>.json
    direction: Literal["max", "min"]


@section
class MlflowParams:
    """Where runs are recorded and how the champion of each task is picked."""

    # null: sqlite:///<repository>/mlflow.db; MLFLOW_TRACKING_URI overrides both
    tracking_uri: Annotated[StrictStr | None, allowed("null, or a tracking URI", min_length=1)]
    experiment_prefix: Name  # experiments <prefix>-sum and <prefix>-mnist
    model_prefix: Name  # registered models <prefix>-sum and <prefix>-mnist
    champion: dict[Task, ChampionParams]

    def champion_of(self, task: str) -> ChampionParams:
        return self.champion[task]


@section
class CheckParams:
    """The regression gate's reference (rnncompare/commands/check.py)."""

    baseline: Name
    allow_new: StrictBool  # True: a model with no baseline passes (its row says so) instead of failing


@section
class CompareParams:
    """What `make compare` (rnncompare/commands/compare.py) holds the means over seeds to."""

    # "<task>-<variant>": {metric: the mean over seeds each must reach (higher is better: at least it;
    # lower is better: at most it)}
    targets: dict[Name, dict[Name, Number]]
    # with sum.train_lengths: the lowest acceptable mean rounded accuracy at every length trained on
    seen_lengths_accuracy: Annotated[StrictFloat, allowed("a share in [0, 1]", ge=0, le=1, allow_inf_nan=False)]


@section
class TutorialParams:
    """A complete recipe, model and training, for one task: one of the original tutorials'."""

    task: Task
    model: ModelParams
    training: TrainingParams
    # the modern model the report shows it beside (<task>-<variant>), or null
    compared_with: Annotated[StrictStr | None, allowed("null, or a model of the pipeline, <task>-<variant>")]


@section
class Params:
    """Everything in params.yaml, one section per stage."""

    sum: SumParams
    mnist: MnistParams
    train: TrainParams
    models: Annotated[dict[Name, ModelParams], allowed("a mapping of variant names to sections", min_length=1)]
    tutorials: dict[Name, TutorialParams]
    mlflow: MlflowParams
    check: CheckParams
    compare: CompareParams

    @model_validator(mode="after")
    def names_point_somewhere(self):
        """The names params.yaml gives (a model, a metric) name what the pipeline makes."""
        models = [f"{task}-{variant}" for task in TASKS for variant in self.models]
        for task in TASKS:
            if task not in self.mlflow.champion:
                raise invalid(f"a section for every task ({', '.join(TASKS)})", key=("mlflow", "champion", task))
            champion = self.mlflow.champion[task].metric
            if champion not in self.metrics_of(task):
                known = ", ".join(list(self.metrics_of(task))[:12])
                raise invalid(
                    f"a metric of {task}'s models: {known}, ...",
                    key=("mlflow", "champion", task, "metric"),
                    value=champion,
                )
        for model, wanted in self.compare.targets.items():
            if model not in models:
                raise invalid(
                    f"a model of the pipeline, <task>-<variant>: {', '.join(models)} (a removed variant's "
                    "targets go with it: delete the entry)",
                    key=("compare", "targets"),
                    value=model,
                )
            known = {**self.metrics_of(model.split("-", 1)[0]), **metrics.VALIDATION_METRICS[model.split("-", 1)[0]]}
            for metric, target in wanted.items():
                if metric not in known:
                    names = ", ".join(list(known)[:12])
                    raise invalid(f"a metric of {model}: {names}, ...", key=("compare", "targets", model), value=metric)
                kind = known[metric]
                if not kind.low <= target <= kind.high:
                    raise invalid(
                        f"a value {metric} can take: {kind.describe()}",
                        key=("compare", "targets", model, metric),
                        value=target,
                    )
        for name, tutorial in self.tutorials.items():
            partner = tutorial.compared_with
            if partner is not None and partner not in [f"{tutorial.task}-{variant}" for variant in self.models]:
                raise invalid(
                    f"null, or a {tutorial.task} model of the pipeline (a removed variant: null)",
                    key=("tutorials", name, "compared_with"),
                    value=partner,
                )
        return self

    def metrics_of(self, task: str) -> dict[str, metrics.Metric]:
        """Every metric metrics/<task>-<variant>.json holds."""
        test_sets = list(self.sum.test_sets()) if task == "sum" else ["test"]
        return metrics.test_metrics(task, test_sets)

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
PARAMS_SECTIONS = tuple(field.name for field in dataclasses.fields(Params))


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
    if document is None or document == {}:
        raise PipelineError(
            f"{path} is empty: it holds every param of the pipeline, in the sections {', '.join(PARAMS_SECTIONS)}; "
            f"`git checkout {path.name}` restores the committed one."
        )
    try:
        return PARAMS.validate_python(document)
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
