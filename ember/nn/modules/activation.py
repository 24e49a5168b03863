"""Activation layers: each wraps the function of the same name in ``nn.functional``."""
import sys
import warnings

from ... import ops
from .. import functional as F
from ..parameter import Parameter
from .module import Module

_torch = sys.modules[__package__.partition(".")[0]]   # the top namespace (still loading: read at call time)


def _simple(name, namespace, function, doc):
    """A parameterless activation module whose forward calls ``namespace.function``, looked up on each call as
    PyTorch's modules do, so ``__torch_function__``'s wrappers (installed later) see it."""
    def forward(self, input):
        return getattr(namespace, function)(input)
    return type(name, (Module,), {"forward": forward, "__doc__": doc, "__module__": __name__})


Sigmoid = _simple("Sigmoid", _torch, "sigmoid", "Applies 1 / (1 + exp(-x)) elementwise.")
Tanh = _simple("Tanh", _torch, "tanh", "Applies the hyperbolic tangent elementwise.")
Softsign = _simple("Softsign", F, "softsign", "Applies x / (1 + |x|) elementwise.")
Tanhshrink = _simple("Tanhshrink", F, "tanhshrink", "Applies x - tanh(x) elementwise.")
LogSigmoid = _simple("LogSigmoid", F, "logsigmoid", "Applies log(sigmoid(x)) elementwise.")


class _Inplace(Module):
    """Base of activations with an ``inplace`` flag."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """Applies max(x, 0) elementwise."""

    def forward(self, input):
        return F.relu(input, self.inplace)


class SiLU(_Inplace):
    """Applies x * sigmoid(x) elementwise."""

    def forward(self, input):
        return F.silu(input, self.inplace)


class Mish(_Inplace):
    """Applies x * tanh(softplus(x)) elementwise."""

    def forward(self, input):
        return F.mish(input, self.inplace)


class Hardsigmoid(_Inplace):
    """Applies relu6(x + 3) / 6 elementwise (printed without its ``inplace`` flag, as PyTorch's)."""

    def forward(self, input):
        return F.hardsigmoid(input, self.inplace)

    def extra_repr(self):
        return ""


class Hardswish(_Inplace):
    """Applies x * relu6(x + 3) / 6 elementwise (printed without its ``inplace`` flag, as PyTorch's)."""

    def forward(self, input):
        return F.hardswish(input, self.inplace)

    def extra_repr(self):
        return ""


class SELU(_Inplace):
    """Applies the self-normalising ELU elementwise."""

    def forward(self, input):
        return F.selu(input, self.inplace)


class LeakyReLU(Module):
    """Applies x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class _Alpha(Module):
    """ELU's and CELU's shared state (siblings, as in PyTorch: a CELU is not an ELU)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class ELU(_Alpha):
    """Applies x if x > 0 else alpha * (exp(x) - 1)."""

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)


class CELU(_Alpha):
    """Applies max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)


class GELU(Module):
    """Applies x * Phi(x), exactly or with the tanh approximation."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate='{self.approximate}'"


class Hardtanh(Module):
    """Clamps to [min_val, max_val]."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`", FutureWarning,
                          stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`", FutureWarning,
                          stacklevel=2)
            max_val = max_value
        assert max_val > min_val, f"max_val ({max_val}) must be greater than min_val ({min_val})"
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """Applies min(max(x, 0), 6) elementwise (a Hardtanh on [0, 6], as PyTorch's)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """Applies log(1 + exp(beta * x)) / beta, linear above ``threshold``."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Threshold(Module):
    """Replaces values at or below ``threshold`` with ``value``."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class _Shrink(Module):
    """Softshrink's and Hardshrink's shared state (siblings, as in PyTorch)."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def extra_repr(self):
        return str(self.lambd)


class Softshrink(_Shrink):
    """Shrinks values toward zero by ``lambd``."""

    def forward(self, input):
        return F.softshrink(input, self.lambd)


class Hardshrink(_Shrink):
    """Zeroes values with |x| <= lambd."""

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class PReLU(Module):
    """Leaky ReLU with a learned slope (one shared, or one per channel)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(ops.creation.full((num_parameters,), float(init), device=device, dtype=dtype))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Leaky ReLU with a random slope in [lower, upper] while training."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class _DimActivation(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_DimActivation):
    """Applies softmax along ``dim``."""

    def forward(self, input):
        return F.softmax(input, self.dim)


class Softmax2d(Module):
    """Softmax over the channels of each location of a (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead")
        return F.softmax(input, -3)


class LogSoftmax(_DimActivation):
    """Applies log_softmax along ``dim``."""

    def forward(self, input):
        return F.log_softmax(input, self.dim)


class Softmin(_DimActivation):
    """Applies softmin along ``dim``."""

    def forward(self, input):
        return F.softmin(input, self.dim)


class GLU(Module):
    """Gated linear unit: first half times sigmoid of the second half along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
