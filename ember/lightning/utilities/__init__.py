"""Lightning's general utilities: rank-zero helpers, AttributeDict, grad_norm, the model summary."""
from . import rank_zero
from .exceptions import MisconfigurationException
from .grads import grad_norm
from .parsing import AttributeDict
from .rank_zero import rank_zero_deprecation, rank_zero_info, rank_zero_only, rank_zero_warn
from .warnings import disable_possible_user_warnings

__all__ = ["AttributeDict", "MisconfigurationException", "disable_possible_user_warnings", "grad_norm", "rank_zero",
           "rank_zero_deprecation", "rank_zero_info", "rank_zero_only", "rank_zero_warn"]
