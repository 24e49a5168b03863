"""``ember.nn.qat`` (``torch.nn.qat``): the older name of ``ember.ao.nn.qat``."""
from ember.ao.nn.qat import *  # noqa: F401,F403
from ember.ao.nn.qat import __all__, modules  # noqa: F401
