"""``ember.quantization.stubs``: ``ember.ao.quantization.stubs`` under its older name."""
from ember.ao.quantization.stubs import *  # noqa: F401,F403
