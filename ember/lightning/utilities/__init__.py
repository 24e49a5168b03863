"""Lightning's general utilities: rank-zero helpers, AttributeDict, grad_norm, measure_flops, the model summary."""
from . import rank_zero
from .exceptions import MisconfigurationException
from .grads import grad_norm
from .parsing import AttributeDict
from .rank_zero import rank_zero_deprecation, rank_zero_info, rank_zero_only, rank_zero_warn
from .throughput import measure_flops
from .warnings import disable_possible_user_warnings

__all__ = ["AttributeDict", "MisconfigurationException", "disable_possible_user_warnings", "grad_norm",
           "measure_flops", "move_data_to_device", "rank_zero", "rank_zero_deprecation", "rank_zero_info",
           "rank_zero_only", "rank_zero_warn"]


def move_data_to_device(batch, device):
    """``batch`` with each tensor in it (through lists, tuples, named tuples and dicts) moved to ``device``."""
    import ember
    if isinstance(batch, ember.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return type(batch)({key: move_data_to_device(value, device) for key, value in batch.items()})
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(move_data_to_device(value, device) for value in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_data_to_device(value, device) for value in batch)
    return batch
