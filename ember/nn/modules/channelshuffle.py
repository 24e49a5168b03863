"""PyTorch's module path of ``ChannelShuffle`` (``torch.nn.modules.channelshuffle``), which checkpoints name."""
from .pixelshuffle import ChannelShuffle  # noqa: F401
