"""Every variant is built here: a task's input and head around a stack of recurrent layers.

| task  | input                        | body                                          | head               |
|-------|------------------------------|-----------------------------------------------|--------------------|
| sum   | bits [batch, time, 1]        | Dense(units) projection, then the RNN         | Dense(1): the sum  |
|       | (mixed lengths: Masking)     | (padded steps skipped)                        |                    |
| mnist | rows [batch, 28, 28] in 0..1 | the RNN                                       | Dense(10, softmax) |

The RNN is `layers` recurrent layers of `units` (each bidirectional if asked, concatenating both
directions to [batch, time, 2 * units]), every one but the last returning the whole sequence, each
followed by dropout when the task's training params ask for it. MNIST augmentation happens in the
input pipeline (rnncompare/training/augmentation.py), not in the model.

`cudnn` picks how LSTM and GRU run. On a GPU (True) they keep the settings under which Keras uses
the cuDNN kernel; Keras then marks the model not XLA-compilable. On a CPU (False) the same layers
compute the same function through XLA, which is faster there.
"""

import dataclasses
import inspect
import math

import keras
from keras import layers

from rnncompare.config.params import KERAS_CELLS, ModelParams, Task
from rnncompare.models import registry

MNIST_ROWS = MNIST_COLUMNS = 28
NUM_CLASSES = 10


def _simple(params: ModelParams, cudnn: bool, input_features: int, **options) -> layers.Layer:
    return layers.SimpleRNN(params.units, **options)


def _lstm(params: ModelParams, cudnn: bool, input_features: int, **options) -> layers.Layer:
    if params.init == "tf1":
        # TF 1.x BasicLSTMCell: one kernel [inputs + units, 4 * units], glorot-uniform as a whole
        limit = math.sqrt(6 / (input_features + params.units + 4 * params.units))
        options["kernel_initializer"] = keras.initializers.RandomUniform(-limit, limit)
        options["recurrent_initializer"] = keras.initializers.RandomUniform(-limit, limit)
    # Default activations, no recurrent dropout, no unroll: the settings that keep cuDNN on a GPU.
    # With a forget_bias, the bias starts at zero and recurrent_stack sets the forget gate's once the
    # layer is built; without one, Keras' own unit forget bias (1.0).
    unit_forget_bias = params.forget_bias is None
    return layers.LSTM(params.units, unit_forget_bias=unit_forget_bias, use_cudnn="auto" if cudnn else False, **options)


def set_forget_bias(layer: layers.Layer, forget_bias: float) -> None:
    """Set a built LSTM's (or bidirectional LSTM's) forget-gate bias, Keras gate order i, f, c, o.

    Done on the weights rather than through a custom initializer, so that a saved model holds only
    Keras' own classes and loads anywhere."""
    directions = [layer.forward_layer, layer.backward_layer] if isinstance(layer, layers.Bidirectional) else [layer]
    for lstm in directions:
        bias = keras.ops.convert_to_numpy(lstm.cell.bias).copy()  # [4 * units]
        bias[lstm.cell.units : 2 * lstm.cell.units] = forget_bias
        lstm.cell.bias.assign(bias)


def _dense(units: int, params: ModelParams, **options) -> layers.Dense:
    if params.init == "tf1":  # the tutorials' tf.Variable(tf.random_normal(shape)), weights and biases
        options.update(
            kernel_initializer=keras.initializers.RandomNormal(stddev=1.0),
            bias_initializer=keras.initializers.RandomNormal(stddev=1.0),
        )
    return layers.Dense(units, **options)


def _gru(params: ModelParams, cudnn: bool, input_features: int, **options) -> layers.Layer:
    # reset_after=True by default: cuDNN-eligible
    return layers.GRU(params.units, use_cudnn="auto" if cudnn else False, **options)


def _registered(params: ModelParams, cudnn: bool, input_features: int, **options) -> layers.Layer:
    """One of our cells (rnncompare/models/cells), given `units` and whichever of the variant's other
    params its constructor takes (e.g. forget_bias), in a generic keras.layers.RNN loop."""
    cell = registry.cell_class(params.cell)
    accepted = inspect.signature(cell.__init__).parameters
    extra = {
        key: value
        for key, value in dataclasses.asdict(params).items()
        if key in accepted and key != "units" and value is not None  # null: the cell's own
    }
    return layers.RNN(cell(params.units, **extra), **options)


RECURRENT_LAYERS = dict(zip(KERAS_CELLS, (_simple, _lstm, _gru), strict=True))  # any other is registered


def recurrent_stack(inputs, params: ModelParams, dropout: float = 0.0, cudnn: bool = False):
    """[batch, time, features] -> [batch, units] (or [batch, 2 * units] when bidirectional)."""
    outputs = inputs
    for index in range(params.layers):
        last = index == params.layers - 1
        layer = RECURRENT_LAYERS.get(params.cell, _registered)(
            params, cudnn, outputs.shape[-1], return_sequences=not last, name=f"{params.cell}_{index}"
        )
        if params.bidirectional:
            layer = layers.Bidirectional(layer, merge_mode="concat", name=f"bidirectional_{index}")
        outputs = layer(outputs)
        if params.cell == "lstm" and params.forget_bias is not None:
            set_forget_bias(layer, params.forget_bias)
        if dropout:
            outputs = layers.Dropout(dropout, name=f"dropout_{index}")(outputs)
    return outputs


def build_model(
    task: Task,
    params: ModelParams,
    dropout: float = 0.0,
    name: str = "model",
    cudnn: bool = False,
    padding: float | None = None,
) -> keras.Model:
    """The uncompiled model of one variant for one task. `padding`: the input value after a shorter
    sequence's end, when sum sequences have mixed lengths; the recurrent layers skip those steps."""
    if task == "sum":
        inputs = keras.Input(shape=(None, 1), name="bits")  # any length: the length sweep
        bits = layers.Masking(mask_value=padding, name="padding")(inputs) if padding is not None else inputs
        features = _dense(params.units, params, name="projection")(bits)
        body = recurrent_stack(features, params, dropout, cudnn)
        outputs = _dense(1, params, name="sum")(body)  # [batch, 1]
    elif task == "mnist":
        inputs = keras.Input(shape=(MNIST_ROWS, MNIST_COLUMNS), name="rows")
        features = recurrent_stack(inputs, params, dropout, cudnn)
        outputs = _dense(NUM_CLASSES, params, activation="softmax", name="digit")(features)
    else:
        raise ValueError(f"unknown task {task!r}; expected 'sum' or 'mnist'")
    return keras.Model(inputs, outputs, name=name)
