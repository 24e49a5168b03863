"""``ember.quantization.quantize``: ``ember.ao.quantization.quantize`` under its older name."""
from ember.ao.quantization.quantize import *  # noqa: F401,F403
