"""``torch.utils.data._utils``: the DataLoader's helper modules under PyTorch's path (libraries such as MONAI import
``_utils.collate.collate_tensor_fn`` and set ``_utils.worker._worker_info``); each is ember's own module, not a copy."""
import sys

from .. import _fetch as fetch, collate, pin_memory, worker
from ..worker import ExceptionWrapper

__all__ = ["collate", "fetch", "pin_memory", "worker", "ExceptionWrapper", "MP_STATUS_CHECK_INTERVAL", "IS_WINDOWS",
           "HAS_NUMPY"]

MP_STATUS_CHECK_INTERVAL = 5.0   # PyTorch's value, for libraries that read it (ember's workers poll every 0.5 s)
IS_WINDOWS = sys.platform == "win32"
HAS_NUMPY = True

for _name, _module in (("collate", collate), ("fetch", fetch), ("pin_memory", pin_memory), ("worker", worker)):
    sys.modules.setdefault(f"{__name__}.{_name}", _module)   # so `import ...data._utils.collate` finds the module
