"""The layer-normalised LSTM cell of TF 1.x `LayerNormBasicLSTMCell`, in pure Keras 3.

Keras has no such cell (TF Addons, which had one, is end-of-life). Per step, with x the input
[batch, input_dim] and (h, c) the state [batch, units]:

    i, j, f, o = LN_gate(x @ W + h @ U)          # one matrix, no bias: LN's shift is the bias
    c' = LN_state(c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j))
    h' = tanh(c') * sigmoid(o)

where each gate and the new cell state are normalised over their `units` features separately.
"""

from keras import layers, ops

from rnncompare.models.registry import register_cell


@register_cell
class LayerNormLSTMCell(layers.Layer):
    """One step of a layer-normalised LSTM; wrap it in `keras.layers.RNN`."""

    def __init__(self, units: int, forget_bias: float = 1.0, epsilon: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.forget_bias = forget_bias
        # A variance floor, not a rounding guard. An all-zero input from the zero state (a 0 bit, a
        # blank MNIST row) gives constant rows, where normalising multiplies gradients by
        # 1/sqrt(epsilon) at every step. Largest initial gradient, 2 stacked layers on sums:
        # 9e15 at Keras' 1e-3 (training turns NaN in epoch 1), 6e8 at 1e-2, 9e2 at 0.1.
        self.epsilon = epsilon
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(shape=(input_dim, 4 * self.units), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 4 * self.units), initializer="orthogonal", name="recurrent_kernel"
        )
        self.gate_gain = self.add_weight(shape=(4, self.units), initializer="ones", name="gate_gain")
        self.gate_shift = self.add_weight(shape=(4, self.units), initializer="zeros", name="gate_shift")
        self.state_gain = self.add_weight(shape=(self.units,), initializer="ones", name="state_gain")
        self.state_shift = self.add_weight(shape=(self.units,), initializer="zeros", name="state_shift")

    def _normalise(self, values, gain, shift):
        mean = ops.mean(values, axis=-1, keepdims=True)
        variance = ops.var(values, axis=-1, keepdims=True)
        return (values - mean) * ops.rsqrt(variance + self.epsilon) * gain + shift

    def call(self, inputs, states, training=False):
        hidden, cell = states  # [batch, units] each
        gates = ops.matmul(inputs, self.kernel) + ops.matmul(hidden, self.recurrent_kernel)
        gates = self._normalise(ops.reshape(gates, (-1, 4, self.units)), self.gate_gain, self.gate_shift)
        input_gate, candidate, forget_gate, output_gate = (gates[:, index] for index in range(4))
        new_cell = cell * ops.sigmoid(forget_gate + self.forget_bias) + ops.sigmoid(input_gate) * ops.tanh(candidate)
        new_cell = self._normalise(new_cell, self.state_gain, self.state_shift)
        new_hidden = ops.tanh(new_cell) * ops.sigmoid(output_gate)
        return new_hidden, [new_hidden, new_cell]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "forget_bias": self.forget_bias, "epsilon": self.epsilon}
