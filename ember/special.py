"""``ember.special``: PyTorch's special functions (error and gamma families, Bessel functions, the normal CDF and its
inverse, entropy terms, softmax), composed from ember's ops or evaluated by the primitives in ``ops/special.py``."""
import math

from ._dtype import get_default_dtype as _get_default_dtype
from ._tensor import Tensor
from .ops import activation as _activation
from .ops import pointwise as _pointwise
from .ops import reduction as _reduction
from .ops import special as _special
from .ops._kernel_dtypes import refuse_complex as _refuse_complex
from .ops._util import promote_pair as _promote_pair
from .ops._util import write_out as _write_out
from .ops.bessel import float_only as _float_only
from .ops.bessel import (
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
)
from .ops.creation import as_tensor_arg as _as_tensor_arg
from .ops.orthogonal_polynomials import (
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
)

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma", "entr", "erf",
           "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln",
           "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l",
           "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri",
           "polygamma", "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]

erf = _pointwise.erf
erfc = _pointwise.erfc
erfinv = _pointwise.erfinv
exp2 = _pointwise.exp2
expm1 = _pointwise.expm1
log1p = _pointwise.log1p
xlogy = _pointwise.xlogy
digamma = psi = _special.digamma
gammaln = _special.lgamma
i0 = _special.i0
i0e = _special.special_i0e
i1 = _special.special_i1
i1e = _special.special_i1e
erfcx = _special.erfcx
log_ndtr = _special.log_ndtr
ndtri = _special.ndtri
sinc = _special.sinc
zeta = _special.zeta
gammainc = _special.igamma
gammaincc = _special.igammac


def _float(input):
    return input if input.dtype.is_floating_point else input.to(_get_default_dtype())


def expit(input, *, out=None):
    """The logistic sigmoid 1 / (1 + exp(-input))."""
    return _write_out(out, _pointwise.sigmoid(input), "expit")


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps]."""
    return _pointwise.logit(input, eps, out=out)


def polygamma(n, input, *, out=None):
    """The n-th derivative of the digamma function."""
    return _special.polygamma(n, input, out=out)


def multigammaln(input, p, *, out=None):
    """The multivariate log-gamma function of dimension ``p``."""
    return _special.mvlgamma(input, p, out=out)


def ndtr(input, *, out=None):
    """The standard normal cumulative distribution function."""
    _refuse_complex("erf_vml_cpu", input)
    return _write_out(out, 0.5 * _pointwise.erfc(_float(input) * -math.sqrt(0.5)), "ndtr")


def entr(input, *, out=None):
    """Elementwise entropy term: -x log(x) for x > 0, 0 at 0 and -inf for x < 0."""
    _refuse_complex("entr_cpu", input)
    input = _float(input)
    safe = _pointwise.where(input > 0, input, 1.0)
    edges = _pointwise.where(input == 0, input.new_zeros(()), input.new_full((), -math.inf))   # in input's dtype
    result = _pointwise.where(input > 0, -safe * safe.log(), edges)
    return _write_out(out, _pointwise.where(input.isnan(), input, result), "entr")


def xlog1py(input, other, *, out=None):
    """input * log1p(other), taken as 0 where input == 0 (unless other is NaN); either may be a number."""
    if not isinstance(input, Tensor):
        input = _as_tensor_arg(input, like=other)
    if not isinstance(other, Tensor):
        other = _as_tensor_arg(other, like=input)
    input, other = _promote_pair(input, other)
    _refuse_complex("xlog1py_cpu", input)
    input, other = _float(input), _float(other)
    safe = _pointwise.where(input == 0, 0.0, other)
    result = _pointwise.where((input == 0) & ~other.isnan(), 0.0, input * safe.log1p())
    return _write_out(out, result, "xlog1py")


def spherical_bessel_j0(input, *, out=None):
    """The spherical Bessel function of the first kind, order 0: sin(x) / x (no gradient, as in PyTorch)."""
    x = input.detach().to(_float_only(input.dtype, "spherical_bessel_j0"))
    safe = _pointwise.where(x == 0, 1.0, x)
    result = _pointwise.where(x == 0, 1.0, _pointwise.where(x.isinf(), 0.0, safe.sin() / safe))
    return _write_out(out, result, "spherical_bessel_j0")


def round(input, *, decimals=0, out=None):
    """Rounds half to even, to ``decimals`` decimal places."""
    return _pointwise.round(input, decimals=decimals, out=out)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input))) along ``dim``, computed stably."""
    return _reduction.logsumexp(input, dim, keepdim, out=out)


def softmax(input, dim, *, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    return _activation.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """log(softmax(x)) along ``dim``."""
    return _activation.log_softmax(input, dim, dtype=dtype)

from .ops import numpy_keywords as _numpy_keywords  # noqa: E402
_numpy_keywords.install(globals())   # axis=, keepdims=, x=... as PyTorch's parsed functions
