"""``ember.nn.quantized.dynamic`` (``torch.nn.quantized.dynamic``): ``ember.ao.nn.quantized.dynamic``."""
from ember.ao.nn.quantized.dynamic import *  # noqa: F401,F403
