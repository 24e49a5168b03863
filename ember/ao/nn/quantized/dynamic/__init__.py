"""``ember.ao.nn.quantized.dynamic`` (``torch.ao.nn.quantized.dynamic``): modules with quantized weights whose
inputs are quantized on the fly at each call."""
from .modules import GRU, LSTM, GRUCell, Linear, LSTMCell, RNNCell

__all__ = ["Linear", "LSTM", "GRU", "LSTMCell", "GRUCell", "RNNCell"]
