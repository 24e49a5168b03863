"""``ember.quantization.fuse_modules``: ``ember.ao.quantization.fuse_modules`` under its older name."""
from ember.ao.quantization.fuse_modules import *  # noqa: F401,F403
