"""The benchmark's reference: the same MNIST-row models written in plain PyTorch, trained the
plain way (a Python loop of zero_grad, forward, backward, step). Imported only when torch is.

On a GPU (when the project's side runs on one) the model lives there and each batch is copied
over as Keras copies its NumPy batches; cuDNN runs nn.LSTM, nn.GRU and nn.RNN, PyTorch's defaults."""

import torch
from torch import nn

ROWS = PIXELS = 28
CLASSES = 10


class LayerNormLSTM(nn.Module):
    """The layer-normalised LSTM of rnncompare/models/cells/lnlstm.py: each gate and the new cell state normalised."""

    def __init__(self, inputs: int, units: int, forget_bias: float = 1.0, epsilon: float = 0.1):
        super().__init__()
        self.units, self.forget_bias = units, forget_bias
        self.kernel = nn.Linear(inputs, 4 * units, bias=False)
        self.recurrent_kernel = nn.Linear(units, 4 * units, bias=False)
        self.gate_norm = nn.LayerNorm(units, eps=epsilon)
        self.state_norm = nn.LayerNorm(units, eps=epsilon)

    def forward(self, sequence):  # [batch, time, inputs] -> [batch, units]
        batch = sequence.shape[0]
        hidden = sequence.new_zeros(batch, self.units)
        cell = sequence.new_zeros(batch, self.units)
        for step in range(sequence.shape[1]):
            gates = self.kernel(sequence[:, step]) + self.recurrent_kernel(hidden)
            gates = self.gate_norm(gates.view(batch, 4, self.units))
            i, j, f, o = gates.unbind(1)
            cell = self.state_norm(cell * torch.sigmoid(f + self.forget_bias) + torch.sigmoid(i) * torch.tanh(j))
            hidden = torch.tanh(cell) * torch.sigmoid(o)
        return hidden


class Classifier(nn.Module):
    def __init__(self, cell: str, units: int, bidirectional: bool):
        super().__init__()
        if cell == "lnlstm":
            self.recurrent = LayerNormLSTM(PIXELS, units)
        else:
            kind = {"simple": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
            self.recurrent = kind(PIXELS, units, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(units * (2 if bidirectional else 1), CLASSES)
        self.cell, self.bidirectional = cell, bidirectional

    def forward(self, rows):
        if self.cell == "lnlstm":
            return self.head(self.recurrent(rows))
        _, state = self.recurrent(rows)
        final = state[0] if self.cell == "lstm" else state  # [directions, batch, units]
        features = torch.cat([final[-2], final[-1]], dim=1) if self.bidirectional else final[-1]
        return self.head(features)


def train_steps(
    cell: str,
    units: int,
    bidirectional: bool,
    images,
    labels,
    batch_size: int,
    learning_rate: float,
    on_gpu: bool = False,
):
    """A callable that trains one pass over (images, labels) in batches; built once, timed by the caller.
    With `on_gpu` (and a CUDA device) it trains there and returns only once the GPU has finished."""
    device = torch.device("cuda" if on_gpu and torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    model = Classifier(cell, units, bidirectional).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_function = nn.CrossEntropyLoss()
    images, labels = torch.from_numpy(images), torch.from_numpy(labels).long()

    def one_pass():
        for start in range(0, len(labels), batch_size):
            batch = slice(start, start + batch_size)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(images[batch].to(device)), labels[batch].to(device))
            loss.backward()
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()  # the kernels run asynchronously: time them, not their launch

    return one_pass
