"""``ember.nn``: modules, parameters, initialisation and the functional layer API."""
from . import functional, init  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from . import attention, parallel, utils  # noqa: F401,E402
from .parallel import DataParallel, SyncBatchNorm  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
from .parameter import UninitializedBuffer, UninitializedParameter  # noqa: F401
