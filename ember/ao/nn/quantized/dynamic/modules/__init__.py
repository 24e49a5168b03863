"""Dynamically quantized modules (``torch.ao.nn.quantized.dynamic.modules``)."""
from .linear import Linear
from .rnn import GRU, LSTM
from .rnn_cells import GRUCell, LSTMCell, RNNCell

__all__ = ["Linear", "LSTM", "GRU", "LSTMCell", "GRUCell", "RNNCell"]
