"""Questions a program asks about the job and its backends: ``get_node_local_rank``, ``is_backend_available``,
``get_default_backend_for_device``, ``get_backend_config``, ``get_pg_count`` and ``supports_complex``."""
import os

from . import process_group
from ._mpi import ReduceOp
from .process_group import Backend, BackendConfig, _resolve

__all__ = ["get_backend_config", "get_default_backend_for_device", "get_node_local_rank", "get_pg_count",
           "is_backend_available", "supports_complex"]

_DEFAULT_BACKEND = {"cpu": "gloo", "cuda": "nccl", "xpu": "xccl", "mps": "gloo"}


def get_node_local_rank(fallback_rank=None):
    """This process's rank on its machine: ``LOCAL_RANK`` from the launcher, else ``fallback_rank``."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context and "
                       "want the code to run locally instead.")


def _available(name):
    name = str(name).lower()
    check = getattr(process_group, f"is_{name}_available", None)
    return check() if check is not None else name in Backend.backend_list


def is_backend_available(backend):
    """Whether ``backend`` (a name, or a ``"cpu:gloo,cuda:nccl"`` string) can be used here."""
    if ":" in backend.lower():
        return all(_available(name) for name in BackendConfig(backend).get_device_backend_map().values())
    return _available(backend)


def get_default_backend_for_device(device):
    """The backend torch picks for a device type: gloo for cpu, nccl for cuda."""
    from .. import device as Device
    if isinstance(device, Device):
        device_type = device.type
    else:   # torch's device types that ember's device does not know (mps, xpu) still have a default
        device_type = str(device).split(":")[0]
        if device_type not in _DEFAULT_BACKEND:
            device_type = Device(device).type
    backend = _DEFAULT_BACKEND.get(device_type)
    if backend is None:
        raise ValueError(f"Default backend not registered for device : {device}")
    return backend


def get_backend_config(group=None):
    """The group's backends per device type, as ``"cpu:gloo,cuda:gloo"``."""
    pg = _resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg.backend_config


def get_pg_count():
    """The number of process groups made since ``init_process_group`` (the default one included)."""
    return process_group._group_count


def supports_complex(reduceOp):
    """Whether ``reduceOp`` can reduce complex tensors (SUM, AVG and PREMUL_SUM can)."""
    return reduceOp not in (ReduceOp.MAX, ReduceOp.MIN, ReduceOp.PRODUCT, ReduceOp.BAND, ReduceOp.BOR,
                            ReduceOp.BXOR)
