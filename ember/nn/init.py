"""Parameter initialisation (``nn.init``): in-place fills with PyTorch's formulas for fan-in, fan-out and gain.

As PyTorch's, only ``_DISPATCHED`` hand themselves to ``__torch_function__``; the others run the public functions
and Tensor methods PyTorch's run, which a mode or a subclass sees."""
import math
import warnings

import ember
from .._warnings import warn as _warn   # stacklevel past the __torch_function__ dispatch wrappers
from ..autograd.grad_mode import no_grad

__all__ = ["calculate_gain", "constant", "constant_", "dirac", "dirac_", "eye", "eye_", "kaiming_normal",
           "kaiming_normal_", "kaiming_uniform", "kaiming_uniform_", "normal", "normal_", "ones_", "orthogonal",
           "orthogonal_", "sparse", "sparse_", "trunc_normal_", "uniform", "uniform_", "xavier_normal",
           "xavier_normal_", "xavier_uniform", "xavier_uniform_", "zeros_"]

_DISPATCHED = ("uniform_", "normal_", "constant_", "kaiming_uniform_")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity ('relu', 'tanh', 'leaky_relu', 'selu', ...)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of {['fan_in', 'fan_out']}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fills with values drawn from U(a, b)."""
    return _no_grad_uniform_(tensor, a, b, generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fills with values drawn from N(mean, std^2)."""
    return _no_grad_normal_(tensor, mean, std, generator)


def _no_grad_uniform_(tensor, a, b, generator):
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def _no_grad_normal_(tensor, mean, std, generator):
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def _no_grad_fill_(tensor, val):
    if tensor.is_meta:   # nothing to fill (a fill of a meta tensor would still compute one at full size)
        return tensor
    with no_grad():
        return tensor.fill_(val)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fills with N(mean, std^2) values truncated to [a, b], by PyTorch's rejection sampling (so seeded draws
    match PyTorch's): redrawn normals when [a, b] holds over 30% of the mass, else uniform proposals on [a, b]."""
    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "   # on this line, as PyTorch's
                      "The distribution of values may be incorrect.")
    if tensor.is_meta:   # no values, no numbers drawn
        return tensor
    with no_grad():
        if norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3:
            low, high = (tensor.new_tensor(v, device="cpu").item() for v in (a, b))
            result = tensor.normal_(mean, std, generator=generator)
            while True:
                mask = (result < low) | (result > high)
                if not mask.any():
                    break
                result = ember.where(mask, ember.empty_like(result).normal_(mean, std, generator=generator),
                                     result)
            if result is not tensor:
                tensor.copy_(result)
            return tensor
        log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2

        def rejected(candidates, accept):
            log_pdf = candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
            return accept.uniform_(generator=generator).log_().gt(log_pdf)
        candidates, accept = ember.empty_like(tensor), ember.empty_like(tensor)
        tensor.uniform_(a, b, generator=generator)
        pending = rejected(candidates.copy_(tensor), accept)
        result = tensor
        while pending.any():
            candidates.uniform_(a, b, generator=generator)
            result = ember.where(pending, candidates, result)
            pending = ember.where(pending, rejected(candidates, accept), pending)
        if result is not tensor:
            tensor.copy_(result)
        return tensor


def constant_(tensor, val):
    """Fills with ``val``."""
    return _no_grad_fill_(tensor, val)


def ones_(tensor):
    """Fills with ones."""
    return _no_grad_fill_(tensor, 1.0)


def zeros_(tensor):
    """Fills with zeros."""
    if tensor.is_meta:
        return tensor
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fills a 2-D tensor with the identity matrix."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if tensor.is_meta:
        return tensor
    with no_grad():
        ember.eye(*tensor.shape, out=tensor, requires_grad=tensor.requires_grad)
    return tensor


def dirac_(tensor, groups=1):
    """Fills a 3-, 4- or 5-D convolution weight so the convolution is the identity (per group)."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if tensor.shape[0] % groups:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = tensor.shape[0] // groups
    smallest = min(out_per_group, tensor.shape[1])
    if tensor.is_meta:
        return tensor
    with no_grad():
        tensor.zero_()
        centre = tuple(s // 2 for s in tensor.shape[2:])
        for g in range(groups):
            for d in range(smallest):
                tensor[(g * out_per_group + d, d) + centre] = 1
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(fan_in + fan_out)))   # PyTorch's rounding order
    return _no_grad_uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return _no_grad_normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan)."""
    if 0 in tensor.shape:
        _warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * (calculate_gain(nonlinearity, a) / math.sqrt(fan))   # PyTorch's rounding order
    return _no_grad_uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    if 0 in tensor.shape:
        _warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return _no_grad_normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fills with a (semi-)orthogonal matrix: Q of the QR decomposition of a Gaussian matrix, its columns' signs
    set by R's diagonal (the steps of PyTorch's, in the tensor's dtype)."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0 or tensor.is_meta:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flat = tensor.new_empty((rows, cols)).normal_(0, 1, generator=generator)
    if rows < cols:
        flat.t_()
    q, r = ember.linalg.qr(flat)
    q *= ember.diag(r, 0).sign()
    if rows < cols:
        q.t_()
    with no_grad():
        tensor.view_as(q).copy_(q)
        tensor.mul_(gain)
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fills a 2-D tensor as a sparse matrix: each column has ``sparsity`` of its entries zero, the rest N(0, std)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if tensor.is_meta:
        return tensor
    rows, cols = tensor.shape
    zeros = int(math.ceil(sparsity * rows))
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        for c in range(cols):
            # PyTorch draws these permutations from the default generator, whatever ``generator`` is.
            tensor[ember.randperm(rows)[:zeros], c] = 0
    return tensor


def _deprecated(function):
    """``function`` (``uniform_``) under its old name (``uniform``), warning as PyTorch does."""
    name = function.__name__[:-1]

    def alias(*args, **kwargs):
        _warn(f"`nn.init.{name}` is now deprecated in favor of `nn.init.{function.__name__}`.", FutureWarning,
              stacklevel=2)
        return function(*args, **kwargs)
    alias.__name__ = alias.__qualname__ = name
    alias.__doc__ = f"Deprecated alias of ``{function.__name__}``."
    return alias


uniform, normal, constant = _deprecated(uniform_), _deprecated(normal_), _deprecated(constant_)
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal, eye, dirac, sparse = _deprecated(orthogonal_), _deprecated(eye_), _deprecated(dirac_), _deprecated(sparse_)
