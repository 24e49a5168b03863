"""``ember.quantization.fuser_method_mappings``: the ``ember.ao.quantization`` module under its older name."""
from ember.ao.quantization.fuser_method_mappings import *  # noqa: F401,F403
