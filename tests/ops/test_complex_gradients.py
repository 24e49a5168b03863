"""Complex inputs beside PyTorch: gradients of holomorphic functions are grad * conj(f'(z)) (PyTorch's convention),
and the real-only special functions refuse complex inputs with PyTorch's error instead of dropping the imaginary
part."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check_same_error

Z = numpy.array([0.3 + 0.4j, -0.7 + 0.2j, 0.1 - 0.5j, 1.5 + 0.25j], numpy.complex128)

HOLOMORPHIC = {
    **{name: (lambda name: lambda t: getattr(t, name)())(name)
       for name in ["exp", "sin", "cos", "tan", "log", "sqrt", "tanh", "sigmoid", "rsqrt", "sinh", "cosh",
                    "reciprocal", "square", "log1p", "expm1", "asin", "acos", "atan", "asinh", "acosh", "atanh",
                    "log2", "log10", "exp2", "sinc"]},
    "pow 2": lambda t: t ** 2, "pow 3": lambda t: t ** 3, "pow 0.5": lambda t: t ** 0.5,
    "pow tensor": lambda t: t ** (t * 0.5), "number ** t": lambda t: 2.0 ** t, "t * t": lambda t: t * t,
    "t / (t + 2)": lambda t: t / (t + 2), "1 / t": lambda t: 1 / t,
}


def _gradient(library, function, dtype):
    x = library.tensor(Z.astype(dtype), requires_grad=True)
    y = function(x)
    (y.real * 1.3 + y.imag * 0.7).sum().backward()
    return numpy.asarray(x.grad.resolve_conj().detach().numpy() if library is torch else x.grad.numpy())


@pytest.mark.parametrize("dtype", [numpy.complex128, numpy.complex64])
@pytest.mark.parametrize("name", HOLOMORPHIC)
def test_holomorphic_gradients_as_pytorch(name, dtype):
    tolerance = 1e-10 if dtype is numpy.complex128 else 1e-4
    numpy.testing.assert_allclose(_gradient(ember, HOLOMORPHIC[name], dtype),
                                  _gradient(torch, HOLOMORPHIC[name], dtype), rtol=tolerance, atol=tolerance)


def test_real_gradients_unchanged():
    for name in ("exp", "sigmoid", "acosh", "sqrt"):
        x = numpy.array([1.5, 2.0, 3.25])
        grads = []
        for library in (ember, torch):
            t = library.tensor(x, requires_grad=True)
            getattr(t, name)().sum().backward()
            grads.append(t.grad.tolist())
        assert grads[0] == grads[1], name


REAL_ONLY = {"lgamma": lambda lib, x: lib.lgamma(x), "digamma": lambda lib, x: lib.digamma(x),
             "i0": lambda lib, x: lib.i0(x), "erf": lambda lib, x: lib.erf(x), "erfc": lambda lib, x: lib.erfc(x),
             "erfinv": lambda lib, x: lib.erfinv(x), "mvlgamma": lambda lib, x: lib.mvlgamma(x, 1),
             "polygamma 1": lambda lib, x: lib.polygamma(1, x), "polygamma 3": lambda lib, x: lib.polygamma(3, x),
             "logit": lambda lib, x: lib.logit(x), "xlogy": lambda lib, x: lib.xlogy(x, x),
             "igamma": lambda lib, x: lib.igamma(x, x), "igammac": lambda lib, x: lib.igammac(x, x),
             **{f"special.{name}": (lambda name: lambda lib, x: getattr(lib.special, name)(x))(name)
                for name in ["ndtri", "i0e", "i1", "i1e", "erfcx", "log_ndtr", "entr", "ndtr", "gammaln", "psi"]},
             "special.zeta": lambda lib, x: lib.special.zeta(x, x),
             "special.xlog1py": lambda lib, x: lib.special.xlog1py(x, x)}


@pytest.mark.parametrize("name", REAL_ONLY)
def test_real_only_functions_refuse_complex_as_pytorch(name):
    check_same_error(REAL_ONLY[name], Z)


def test_sinc_of_complex_values():
    numpy.testing.assert_allclose(ember.sinc(ember.tensor(Z)).numpy(), torch.sinc(torch.tensor(Z)).numpy(),
                                  rtol=1e-12)
