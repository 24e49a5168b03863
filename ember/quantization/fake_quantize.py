"""``ember.quantization.fake_quantize``: ``ember.ao.quantization.fake_quantize`` under its older name."""
from ember.ao.quantization.fake_quantize import *  # noqa: F401,F403
