"""``torch.distributed.distributed_c10d``, the module PyTorch defines its collectives in: ember.distributed's names,
and the ``_pickler``/``_unpickler`` classes the object collectives pickle each object with (libraries replace them:
avalanche-lib installs an unpickler that maps devices)."""
import pickle

from . import *  # noqa: F403
from . import __all__  # noqa: F401
from .process_group import _rank_not_in_group  # noqa: F401

_pickler = pickle.Pickler
_unpickler = pickle.Unpickler
