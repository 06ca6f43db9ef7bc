"""Every variant builds with the documented shapes, learns, and survives a .keras round trip."""

import dataclasses

import keras
import numpy as np
import pytest

from rnncompare.config.params import load_params
from rnncompare.data.sumbits import PAD
from rnncompare.models.build import build_model
from rnncompare.models.cells.lnlstm import LayerNormLSTMCell
from rnncompare.training.fit import compile_model
from tests.conftest import TINY_TRAINING, VARIANTS, default_params, default_params_text, edited_params

RNG = np.random.default_rng(0)
INPUTS = {
    "sum": RNG.integers(0, 2, size=(8, 6, 1)).astype("float32"),
    "mnist": RNG.random((8, 28, 28), dtype=np.float32),
}
TARGETS = {"sum": INPUTS["sum"].sum(axis=1), "mnist": RNG.integers(0, 10, size=8).astype("int32")}
OUTPUT_SHAPES = {"sum": (8, 1), "mnist": (8, 10)}


@pytest.mark.parametrize("task", ["sum", "mnist"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_outputs_the_task_shape(task, variant):
    model = build_model(task, VARIANTS[variant])
    assert tuple(model(INPUTS[task]).shape) == OUTPUT_SHAPES[task]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_sum_model_accepts_longer_sequences_than_it_was_built_for(variant):
    model = build_model("sum", VARIANTS[variant])
    assert tuple(model(np.ones((2, 50, 1), "float32")).shape) == (2, 1)


def test_bidirectional_concatenates_both_directions():
    model = build_model("mnist", VARIANTS["bilstm"])
    assert model.get_layer("bidirectional_0").output.shape == (None, 2 * VARIANTS["bilstm"].units)


def test_stacked_layers_and_dropout_come_from_params():
    params = dataclasses.replace(VARIANTS["gru"], layers=3)
    model = build_model("mnist", params, dropout=0.25)
    assert [layer.name for layer in model.layers if layer.name.startswith("gru_")] == ["gru_0", "gru_1", "gru_2"]
    assert model.get_layer("dropout_2").rate == 0.25


@pytest.mark.parametrize("task", ["sum", "mnist"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_one_training_step_changes_every_recurrent_weight(task, variant):
    model = build_model(task, VARIANTS[variant])
    compile_model(model, task, TINY_TRAINING)
    before = [weight.numpy().copy() for weight in model.trainable_weights]
    model.train_on_batch(INPUTS[task], TARGETS[task])
    after = [weight.numpy() for weight in model.trainable_weights]
    unchanged = [
        w.path for w, old, new in zip(model.trainable_weights, before, after, strict=True) if np.array_equal(old, new)
    ]
    assert unchanged == []


@pytest.mark.parametrize("task", ["sum", "mnist"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_keras_file_round_trip_in_safe_mode_predicts_the_same(task, variant, tmp_path):
    model = build_model(task, VARIANTS[variant])
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        reloaded.predict(INPUTS[task], verbose=0), model.predict(INPUTS[task], verbose=0), rtol=1e-6, atol=1e-6
    )


def test_lstm_forget_bias_sets_the_forget_gate_bias_only():
    model = build_model("mnist", dataclasses.replace(VARIANTS["lstm"], units=4, forget_bias=0.8))
    bias = model.get_layer("lstm_0").cell.bias.numpy()  # gates in Keras order: input, forget, cell, output
    np.testing.assert_array_equal(bias, np.array([0.0] * 4 + [0.8] * 4 + [0.0] * 8, dtype="float32"))


def test_the_seeds_tf1_initialisation_draws_one_glorot_lstm_kernel_and_unit_normal_dense_layers(tmp_path):
    params = dataclasses.replace(VARIANTS["lstm"], units=64, init="tf1")
    model = build_model("mnist", params)
    cell = model.get_layer("lstm_0").cell
    kernels = np.concatenate([cell.kernel.numpy(), cell.recurrent_kernel.numpy()])  # [28 + 64, 4 * 64]
    limit = np.sqrt(6 / (28 + 64 + 4 * 64))
    assert np.abs(kernels).max() <= limit
    np.testing.assert_allclose(kernels.std(), limit / np.sqrt(3), rtol=0.05)  # uniform on [-limit, limit]
    head = model.get_layer("digit")
    np.testing.assert_allclose(head.kernel.numpy().std(), 1.0, rtol=0.1)
    assert np.all(head.bias.numpy() != 0)
    keras_head = build_model("mnist", dataclasses.replace(params, init="keras")).get_layer("digit")
    assert keras_head.kernel.numpy().std() < 0.2  # glorot: sqrt(2 / (64 + 10))
    model.save(tmp_path / "tf1.keras")
    reloaded = keras.saving.load_model(tmp_path / "tf1.keras", safe_mode=True)
    np.testing.assert_allclose(reloaded(INPUTS["mnist"]), model(INPUTS["mnist"]), rtol=1e-5, atol=1e-6)


def _layer_norm(values, gain, shift, epsilon=0.1):
    return (values - values.mean(-1, keepdims=True)) / np.sqrt(values.var(-1, keepdims=True) + epsilon) * gain + shift


def test_layer_norm_cell_matches_a_numpy_reference_of_tf1_layer_norm_basic_lstm_cell():
    units, input_dim, batch = 5, 3, 4
    cell = LayerNormLSTMCell(units, forget_bias=0.7)
    cell.build((batch, input_dim))
    rng = np.random.default_rng(1)
    for weight in cell.weights:  # random gains and shifts too, so the reference checks their placement
        weight.assign(rng.normal(size=weight.shape).astype("float32"))
    inputs = rng.normal(size=(batch, input_dim)).astype("float32")
    hidden, state = (rng.normal(size=(batch, units)).astype("float32") for _ in range(2))

    output, (new_hidden, new_state) = cell(inputs, [hidden, state])

    kernel, recurrent, gate_gain, gate_shift, state_gain, state_shift = (w.numpy() for w in cell.weights)
    gates = (inputs @ kernel + hidden @ recurrent).reshape(batch, 4, units)
    i, j, f, o = (_layer_norm(gates[:, k], gate_gain[k], gate_shift[k]) for k in range(4))
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    expected_state = _layer_norm(state * sigmoid(f + 0.7) + sigmoid(i) * np.tanh(j), state_gain, state_shift)
    expected_hidden = np.tanh(expected_state) * sigmoid(o)
    np.testing.assert_allclose(np.asarray(new_state), expected_state, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(new_hidden), expected_hidden, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(output), expected_hidden, rtol=1e-4, atol=1e-5)


def test_unknown_cell_in_params_is_refused_with_the_choices(tmp_path):
    from rnncompare.config.params import load_params
    from rnncompare.core.errors import PipelineError

    path = tmp_path / "params.yaml"
    path.write_text("models:\n  x:\n    cell: transformer\n")
    with pytest.raises(PipelineError, match=r"models\.x\.cell = 'transformer' is invalid; expected one of 'simple'"):
        load_params(path)


def test_a_variant_may_leave_out_only_forget_bias_and_init(tmp_path):
    from rnncompare.core.errors import PipelineError

    params = tmp_path / "params.yaml"
    text = default_params_text()
    params.write_text(text.replace("  gru:\n    cell: gru\n    units: 128\n", "  gru:\n    cell: gru\n"))
    with pytest.raises(PipelineError, match=r"'models\.gru\.units' is missing"):
        load_params(params)
    gru = load_params(default_params(tmp_path)).models["gru"]
    assert gru.forget_bias is None and gru.init == "keras"


def test_augmentation_moves_every_training_image_and_redraws_each_epoch():
    from rnncompare.training.augmentation import AugmentedBatches, image_augmenter

    images, labels = INPUTS["mnist"][:8], np.arange(8)
    batches = AugmentedBatches((images, labels), 3, image_augmenter(0.1, 0.05, seed=0), seed=0)
    assert len(batches) == 3 and [len(batches[i][1]) for i in range(3)] == [3, 3, 2]
    first_epoch = np.concatenate([batches[i][0] for i in range(3)])
    shuffled = np.concatenate([batches[i][1] for i in range(3)])
    assert sorted(shuffled) == list(range(8)) and first_epoch.shape == images.shape
    assert not np.allclose(first_epoch, images[shuffled])
    batches.on_epoch_end()
    second_epoch = np.concatenate([batches[i][0] for i in range(3)])
    assert not np.allclose(
        second_epoch[np.argsort(np.concatenate([batches[i][1] for i in range(3)]))], first_epoch[np.argsort(shuffled)]
    )


def test_no_augmentation_params_means_no_augmenter_and_a_model_free_of_image_layers():
    from rnncompare.training.augmentation import image_augmenter

    assert image_augmenter(0.0, 0.0, seed=0) is None
    model = build_model("mnist", VARIANTS["gru"])
    assert not [layer for layer in model.layers if "random" in layer.name]


def test_augmenting_the_sum_task_is_refused(tmp_path):
    from rnncompare.config.params import load_params
    from rnncompare.core.errors import PipelineError

    path = tmp_path / "params.yaml"
    edited_params(path, {"train.sum.augment_shift": 0.1})
    with pytest.raises(PipelineError, match=r"train\.sum\.augment_shift = 0.1 is invalid; expected 0.0"):
        load_params(path)


@pytest.mark.parametrize("variant", ["lstm", "gru", "bilstm"])
def test_lstm_and_gru_keep_the_settings_that_let_keras_use_cudnn_on_a_gpu(variant):
    model = build_model("mnist", VARIANTS[variant], dropout=0.2, cudnn=True)
    recurrent = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN | keras.layers.Bidirectional)]
    for layer in recurrent:
        layer = getattr(layer, "forward_layer", layer)
        cell = layer.cell
        assert cell.activation is keras.activations.tanh and cell.recurrent_activation is keras.activations.sigmoid
        assert cell.recurrent_dropout == 0 and cell.use_bias and not layer.unroll
        assert getattr(cell, "reset_after", True) and layer.use_cudnn == "auto"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_built_for_a_cpu_can_be_xla_compiled(variant):
    from keras.src.trainers.trainer import model_supports_jit

    assert model_supports_jit(build_model("mnist", VARIANTS[variant], dropout=0.2))


@pytest.mark.parametrize("variant", ["rnn", "lstm", "gru", "lnlstm", "bilstm"])
def test_a_masked_sum_model_ignores_the_padding_after_a_sequence(variant):
    """Trained on mixed lengths, a sequence padded with PAD must give what it gives unpadded,
    in both directions of a bidirectional layer and through our own cells."""
    params = dataclasses.replace(VARIANTS[variant], layers=2)
    model = build_model("sum", params, padding=PAD)
    bits = np.random.default_rng(0).integers(0, 2, size=(3, 5, 1)).astype(np.float32)
    padded = np.concatenate([bits, np.full((3, 7, 1), PAD, np.float32)], axis=1)
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(bits, verbose=0), rtol=1e-5, atol=1e-6)
    unmasked = build_model("sum", params)
    assert "padding" not in [layer.name for layer in unmasked.layers]
