"""Training end to end: outputs written, deterministic on CPU, a NaN loss is an error with no model."""

import dataclasses
import json

import numpy as np
import pytest

from rnncompare.core.errors import PipelineError
from rnncompare.evaluation.metrics import confusion_matrix, mnist_metrics, sum_metrics
from rnncompare.models.build import build_model
from rnncompare.training.train import TrainOutputs, recipe, train
from tests.conftest import TINY_SETTINGS, TINY_TRAINING, model_params, sum_params


def outputs_in(directory) -> TrainOutputs:
    return TrainOutputs(
        directory / "model.keras", directory / "model.json", directory / "history.csv", directory / "history.png"
    )


@pytest.mark.parametrize("task", ["sum", "mnist"])
def test_train_writes_model_history_and_summary(task, tiny_data, tiny_params, tmp_path):
    plan = recipe(tiny_params, task, "lstm", None)
    summary = train(f"{task}-lstm", plan, tiny_params.train, tiny_data / task, outputs_in(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "history.png", "model.json", "model.keras"]
    assert json.loads((tmp_path / "model.json").read_text()) == summary
    assert summary["device"] == "cpu" and summary["backend"] == "tensorflow" and summary["xla"]
    assert summary["epochs_run"] == 2 and summary["train_examples"] == (256 if task == "sum" else 512)
    header = (tmp_path / "history.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,") and "val_loss" in header


@pytest.mark.parametrize("layers", [1, 2])  # 1: XLA-compiled; 2: TF op determinism (which rules XLA out after it)
def test_same_params_on_cpu_give_identical_weights_and_metrics(layers, tiny_data, tiny_params, tmp_path):
    """With dropout and per-epoch augmentation: every random draw is seeded."""
    from rnncompare.evaluation.metrics import evaluate, load_model
    from rnncompare.training.inputs import load_tests

    noisy = dataclasses.replace(tiny_params.train.mnist, dropout=0.2, augment_shift=0.1, augment_rotation=0.05)
    runs = []
    for name in ("first", "second"):
        plan = recipe(tiny_params, "mnist", "gru", None)
        plan = dataclasses.replace(plan, training=noisy, model=dataclasses.replace(plan.model, layers=layers))
        summary = train("mnist-gru", plan, tiny_params.train, tiny_data / "mnist", outputs_in(tmp_path / name))
        assert summary["xla"] == (layers == 1)
        model = load_model(tmp_path / name / "model.keras")
        runs.append((model.get_weights(), evaluate(model, "mnist", load_tests("mnist", tiny_data / "mnist"))[0]))
    for first, second in zip(runs[0][0], runs[1][0], strict=True):
        np.testing.assert_array_equal(first, second)
    assert runs[0][1] == runs[1][1]


def test_nan_loss_stops_with_a_clear_error_and_writes_no_model(tiny_data, tiny_params, tmp_path):
    exploding = dataclasses.replace(tiny_params.train.sum, optimizer="sgd", learning_rate=1e12)
    params = dataclasses.replace(tiny_params, train=dataclasses.replace(tiny_params.train, sum=exploding))
    with pytest.raises(
        PipelineError,
        match=r"loss became NaN or infinite in epoch 1, so no model was saved.*"
        r"lower train\.sum\.learning_rate",
    ):
        train("sum-rnn", recipe(params, "sum", "rnn", None), params.train, tiny_data / "sum", outputs_in(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_unknown_variant_names_the_defined_ones(tiny_params):
    with pytest.raises(PipelineError, match="no variant 'transformer' under models; defined variants: rnn, lstm"):
        recipe(tiny_params, "sum", "transformer", None)


def test_sum_metrics_follow_their_definitions():
    metrics = sum_metrics(np.array([[2.0], [3.04], [4.6], [0.4]]), np.array([[2.0], [3.0], [5.0], [1.0]]))
    assert metrics["within_0.05"] == 0.5  # |error| < 0.05: the original tutorials' accuracy
    assert metrics["rounded_accuracy"] == 0.75
    assert metrics["mae"] == pytest.approx((0 + 0.04 + 0.4 + 0.6) / 4)


def test_mnist_metrics_report_accuracy_per_class_and_the_confusion_matrix():
    probabilities = np.eye(10)[[0, 1, 1, 2]] * 0.9 + 0.01
    metrics = mnist_metrics(probabilities, np.array([0, 1, 2, 2]))
    assert metrics["accuracy"] == 0.75
    assert metrics["per_class_accuracy"]["2"] == 0.5 and metrics["per_class_accuracy"]["3"] == 0.0
    assert np.array_equal(confusion_matrix(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2]))[2], [0, 1, 1] + [0] * 7)


def test_a_step_budget_trains_whole_epochs_without_early_stopping(tiny_data, tiny_params, tmp_path):
    budget = dataclasses.replace(tiny_params.train.sum, steps=70, batch_size=32, patience=1)
    plan = dataclasses.replace(recipe(tiny_params, "sum", "gru", None), training=budget)
    summary = train("steps", plan, tiny_params.train, tiny_data / "sum", outputs_in(tmp_path))
    assert summary["epochs_run"] == 9  # 256 sequences = 8 batches an epoch; 70 batches round up to 9 epochs


def test_a_cosine_schedule_ends_training_at_a_learning_rate_near_zero(tiny_data, tiny_params):
    from rnncompare.training.fit import fit
    from rnncompare.training.inputs import load_task

    cosine = dataclasses.replace(tiny_params.train.sum, cosine_decay=True, reduce_lr_patience=None, patience=10)
    plan = recipe(tiny_params, "sum", "gru", None)
    model = build_model("sum", plan.model, cosine.dropout)
    fit(model, load_task("sum", tiny_data / "sum", cosine, 0), "sum", cosine)
    start = cosine.learning_rate
    assert float(model.optimizer.learning_rate) < start * 1e-3  # 2 epochs of 8 batches: the schedule's end


def test_a_cosine_schedule_without_a_step_count_is_refused_not_flattened(tiny_params):
    from rnncompare.training.fit import make_optimizer

    cosine = dataclasses.replace(tiny_params.train.sum, cosine_decay=True, reduce_lr_patience=None)
    with pytest.raises(ValueError, match="total_steps"):
        make_optimizer(cosine)


def test_a_task_level_layers_value_overrides_every_variants_own(tiny_params):
    one_layer = dataclasses.replace(tiny_params.train.sum, layers=1)
    params = dataclasses.replace(tiny_params, train=dataclasses.replace(tiny_params.train, sum=one_layer))
    stacked = dataclasses.replace(params.models["lstm"], layers=3)
    params = dataclasses.replace(params, models={**params.models, "lstm": stacked})
    assert recipe(params, "sum", "lstm", None).model.layers == 1
    assert recipe(params, "mnist", "lstm", None).model.layers == 3


def test_every_committed_tutorial_recipe_names_a_known_task_and_cell(tmp_path):
    from rnncompare.config.params import load_params
    from tests.conftest import default_params

    tutorials = load_params(default_params(tmp_path)).tutorials
    assert set(tutorials) == {"sum_lstm", "mnist_lstm", "mnist_bilstm"}
    assert tutorials["sum_lstm"].model.forget_bias == 0.8 and tutorials["sum_lstm"].training.optimizer == "sgd"
    assert tutorials["mnist_bilstm"].model.bidirectional


def test_a_sum_model_trained_on_mixed_lengths_counts_at_every_length_it_saw(tmp_path):
    """sum.train_lengths: padded, masked batches; every length from 1 to 8 is then counted exactly."""
    from rnncompare.data.sums import generate
    from rnncompare.evaluation.metrics import evaluate, load_model
    from rnncompare.training.inputs import load_tests
    from rnncompare.training.train import Recipe

    mixed = sum_params(length=8, train_size=2000, validation_size=200, test_size=200, test_lengths=(1, 4, 8))
    generate(dataclasses.replace(mixed, train_lengths=(1, 8), train_balanced_fraction=0.5), tmp_path / "sum")
    plan = Recipe(
        task="sum",
        model=model_params("lstm", units=16, forget_bias=1.0),
        training=dataclasses.replace(TINY_TRAINING, epochs=20, batch_size=32, patience=20),
    )
    train("sum-lstm", plan, TINY_SETTINGS, tmp_path / "sum", outputs_in(tmp_path / "out"))
    model = load_model(tmp_path / "out" / "model.keras")
    assert model.get_layer("padding")  # the saved model masks, wherever it is loaded
    results, _ = evaluate(model, "sum", load_tests("sum", tmp_path / "sum"))
    assert {name: values["rounded_accuracy"] for name, values in results.items()} == {
        "test_1bits": 1.0,
        "test_4bits": 1.0,
        "test": 1.0,
    }
