"""Elementwise ops: arithmetic with broadcasting, unary math, rounding, bitwise and logical ops, and the in-place
helpers fill_/zero_/copy_. Each primitive's forward, backward and public function sit side by side in the module of
its kind; this package gathers the public names."""
from ..._tensor import Tensor
from . import arithmetic, bitwise, filling, rounding, transcendental
from .arithmetic import *  # noqa: F403
from .filling import *  # noqa: F403
from .bitwise import *  # noqa: F403
from .rounding import *  # noqa: F403
from .transcendental import *  # noqa: F403

__all__ = arithmetic.__all__ + filling.__all__ + transcendental.__all__ + rounding.__all__ + bitwise.__all__

# --- aliases PyTorch also offers: Tensor methods for its function aliases, in-place functions on the namespace ----
for _alias, _function in (("subtract", arithmetic.sub), ("multiply", arithmetic.mul), ("divide", arithmetic.div),
                          ("true_divide", arithmetic.div), ("negative", arithmetic.neg)):
    setattr(Tensor, _alias, _function)

_INPLACE_FUNCTIONS = ("abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
                      "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
                      "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_",
                      "fill_", "fix_", "floor_", "frac_", "log10_", "log1p_", "log2_", "log_", "logit_",
                      "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_",
                      "sigmoid_", "sin_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_")
for _name in _INPLACE_FUNCTIONS:   # torch.exp_(x) is x.exp_()
    globals()[_name] = getattr(Tensor, _name)
__all__ += list(_INPLACE_FUNCTIONS)
