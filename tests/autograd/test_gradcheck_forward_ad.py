"""gradcheck's forward-mode checks (check_forward_ad, check_batched_forward_grad, gradgradcheck's
check_fwd_over_rev) beside torch's: the same verdicts on correct and on wrong forward derivatives, and the same
argument assertions."""
import warnings

import numpy
import pytest
import torch

import ember

with warnings.catch_warnings():   # torch's make_dual imports these on first use, with a DeprecationWarning
    warnings.simplefilter("ignore")
    import torch._decomp.decompositions_for_jvp  # noqa: F401


def inputs(lib, *shapes, complex_=False):
    rng = numpy.random.default_rng(3)
    arrays = [rng.standard_normal(s) + (1j * rng.standard_normal(s) if complex_ else 0) for s in shapes]
    return tuple(lib.tensor(a, requires_grad=True) for a in arrays)


FUNCTIONS = [
    ("pointwise", lambda lib, x, y: (x.sin() * y).tanh(), [(2, 3), (2, 3)]),
    ("reductions", lambda lib, x: (x.logsumexp(1), x.var(0), x.amax(1)), [(3, 4)]),
    ("matmul", lambda lib, x, y: x @ y, [(2, 3), (3, 4)]),
    ("views", lambda lib, x: x.t()[1:].reshape(-1).expand(2, 3), [(3, 2)]),
    ("in_place", lambda lib, x: x.clone().mul_(2).sin_()[0], [(2, 3)]),
    ("layers", lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1).relu().mean((2, 3)),
     [(1, 2, 4, 4), (3, 2, 3, 3)]),
    ("loss", lambda lib, x, y: lib.nn.functional.smooth_l1_loss(x, y), [(4, 3), (4, 3)]),
]


@pytest.mark.parametrize("name, call, shapes", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
@pytest.mark.parametrize("fast_mode", [False, True], ids=["slow", "fast"])
def test_forward_ad_passes_for_ops(name, call, shapes, fast_mode):
    for lib in (torch, ember):
        assert lib.autograd.gradcheck(lambda *xs: call(lib, *xs), inputs(lib, *shapes), check_forward_ad=True,
                                      check_batched_forward_grad=True, fast_mode=fast_mode)
        assert lib.autograd.gradcheck(lambda *xs: call(lib, *xs), inputs(lib, *shapes), check_forward_ad=True,
                                      check_backward_ad=False, check_undefined_grad=False, fast_mode=fast_mode)


def test_forward_ad_with_complex_inputs():
    call = lambda lib, z: (z * z.conj() + z.abs()).real * 2  # noqa: E731
    for lib in (torch, ember):
        assert lib.autograd.gradcheck(lambda z: call(lib, z), inputs(lib, (2, 2), complex_=True),
                                      check_forward_ad=True)


def wrong_jvp(lib):
    """Sine with a forward derivative off by a factor 2 (and a right backward)."""
    class Sine(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * x.cos()

        @staticmethod
        def jvp(ctx, tangent):
            x, = ctx.saved_tensors
            return 2 * tangent * x.cos()
    return Sine


@pytest.mark.parametrize("fast_mode", [False, True], ids=["slow", "fast"])
def test_wrong_forward_derivative_is_caught(fast_mode):
    for lib in (torch, ember):
        function = wrong_jvp(lib)
        assert lib.autograd.gradcheck(function.apply, inputs(lib, (3,)), fast_mode=fast_mode)
        with pytest.raises(RuntimeError, match="Jacobian computed with forward mode mismatch for output 0 with "
                                               "respect to input 0"):
            lib.autograd.gradcheck(function.apply, inputs(lib, (3,)), check_forward_ad=True, fast_mode=fast_mode)
        assert not lib.autograd.gradcheck(function.apply, inputs(lib, (3,)), check_forward_ad=True,
                                          raise_exception=False, fast_mode=fast_mode)


def test_gradgradcheck_forward_over_reverse():
    call = lambda lib, x, y: (x.exp() * y).sum(1).tanh()  # noqa: E731
    for lib in (torch, ember):
        assert lib.autograd.gradgradcheck(lambda x, y: call(lib, x, y), inputs(lib, (2, 3), (2, 3)),
                                          check_fwd_over_rev=True)
        assert lib.autograd.gradgradcheck(lambda x, y: call(lib, x, y), inputs(lib, (2, 3), (2, 3)),
                                          check_fwd_over_rev=True, check_rev_over_rev=False,
                                          check_undefined_grad=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"check_forward_ad": False, "check_backward_ad": False},
     "Expected at least one of check_forward_ad or check_backward_ad to be True"),
    ({"check_batched_grad": True, "check_backward_ad": False, "check_forward_ad": True},
     "Setting check_batched_grad=True requires check_backward_ad to be True"),
    ({"check_batched_forward_grad": True},
     "Setting check_batched_forward_grad=True requires check_forward_ad to be True"),
])
def test_argument_assertions_like_torch(kwargs, message):
    for lib in (torch, ember):
        with pytest.raises(AssertionError, match=message):
            lib.autograd.gradcheck(lambda x: x * 2, inputs(lib, (2,)), **kwargs)


SECOND_ORDER = [
    ("softmax", lambda lib, x: lib.nn.functional.log_softmax(x, 1) * lib.nn.functional.softmax(x, 0), [(2, 3)]),
    ("conv", lambda lib, x, w: lib.nn.functional.conv2d(x, w).tanh(), [(1, 2, 4, 4), (2, 2, 3, 3)]),
    ("norms", lambda lib, x: lib.nn.functional.layer_norm(x, (3,)) + lib.nn.functional.batch_norm(
        x, None, None, training=True), [(4, 3)]),
    ("losses", lambda lib, x, y: lib.nn.functional.mse_loss(x, y) + lib.nn.functional.cross_entropy(
        x, lib.tensor([0, 2, 1, 1])), [(4, 3), (4, 3)]),
    ("max_pool", lambda lib, x: lib.nn.functional.max_pool2d(x, 2).exp(), [(1, 1, 4, 4)]),
    ("reductions", lambda lib, x: (x.logsumexp(1), x.std(1), x.norm(), x.cumprod(0)), [(2, 3)]),
    ("inverse", lambda lib, x: lib.linalg.inv(x + 3 * lib.eye(3, dtype=lib.float64)), [(3, 3)]),
]


@pytest.mark.parametrize("name, call, shapes", SECOND_ORDER, ids=[f[0] for f in SECOND_ORDER])
def test_gradgradcheck_forward_over_reverse_for_ops(name, call, shapes):
    for lib in (torch, ember):
        assert lib.autograd.gradgradcheck(lambda *xs: call(lib, *xs), inputs(lib, *shapes), check_fwd_over_rev=True,
                                          check_rev_over_rev=False, check_undefined_grad=False)
