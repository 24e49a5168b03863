"""``ember.quantization.qconfig``: ``ember.ao.quantization.qconfig`` under its older name."""
from ember.ao.quantization.qconfig import *  # noqa: F401,F403
