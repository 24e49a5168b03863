"""``ember.quantization.quantization_mappings``: the ``ember.ao.quantization`` module under its older name."""
from ember.ao.quantization.quantization_mappings import *  # noqa: F401,F403
