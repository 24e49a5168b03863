"""PyTorch's module path of ``ChannelShuffle`` (``torch.nn.modules.channelshuffle``), which checkpoints name."""
from .pixelshuffle import ChannelShuffle  # noqa: F401

ChannelShuffle.__module__ = __name__   # as PyTorch's class says, so pickles name this file
