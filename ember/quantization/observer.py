"""``ember.quantization.observer``: ``ember.ao.quantization.observer`` under its older name."""
from ember.ao.quantization.observer import *  # noqa: F401,F403
