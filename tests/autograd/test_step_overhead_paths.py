"""The training step's fast paths against PyTorch: gradients kept as arrays between array_backward nodes (fan-out,
hooks, Tensor-backward neighbours), the fused reduced cross entropy, and SGD's kept scratch array."""
import copy
import pickle

import numpy
import pytest
import torch

import ember
from tests.oracle import as_numpy


def _pair(shape, seed, dtype="float32"):
    value = numpy.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.tensor(value, requires_grad=True), torch.tensor(value, requires_grad=True)


class _Twice(ember.autograd.Function):
    """A user Function (Tensor backward) between array_backward nodes."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def _fan_out(lib, x, w, twice):
    h = (x @ w).relu()
    a = twice(h) if twice else h * 2   # h reaches the loss by three routes, its gradients meet at h's node
    b = h.sum(1, keepdim=True) * h
    c = h.exp().mean(0)               # broadcast back over the rows on the way
    return (a.sum() + b.sum() + c.sum()) / 3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("user_function", [False, True])
def test_gradients_meeting_at_a_node_match_torch(dtype, user_function):
    (ex, tx), (ew, tw) = _pair((5, 4), 0, dtype), _pair((4, 3), 1, dtype)
    _fan_out(ember, ex, ew, _Twice.apply if user_function else None).backward()
    _fan_out(torch, tx, tw, None).backward()
    for e, t in ((ex, tx), (ew, tw)):
        assert e.grad.dtype == getattr(ember, dtype) and tuple(e.grad.shape) == tuple(t.grad.shape)
        numpy.testing.assert_allclose(as_numpy(e.grad), as_numpy(t.grad), rtol=1e-5 if dtype == "float32" else 1e-12)


def test_hooks_and_retain_grad_on_a_node_fed_by_arrays_see_tensors():
    (ex, tx), (ew, tw) = _pair((5, 4), 0), _pair((4, 3), 1)
    seen = []
    results = []
    for lib, x, w in ((ember, ex, ew), (torch, tx, tw)):
        h = x @ w
        h.retain_grad()
        h.register_hook(lambda g, lib=lib: seen.append(type(g)) or g * 3)
        y = h.relu() * h
        (y.sum() + (h * 2).sum()).backward()
        results.append((h.grad, x.grad, w.grad))
    assert seen == [ember.Tensor, torch.Tensor]
    for e, t in zip(*results):
        numpy.testing.assert_allclose(as_numpy(e), as_numpy(t), rtol=1e-5)


def test_zero_dim_gradients_meeting_stay_zero_dim_arrays():
    (ex, tx) = _pair((), 0)
    for lib, x in ((ember, ex), (torch, tx)):
        s = x * 3
        (s * s + s.exp() + s).backward()
    assert ex.grad.shape == () and ex.grad.dtype == ember.float32
    numpy.testing.assert_allclose(as_numpy(ex.grad), as_numpy(tx.grad), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_backward_twice_with_retain_graph(reduction):
    (ex, tx) = _pair((7, 5), 3)
    target = numpy.array([0, 4, 2, 2, 1, 3, 0])
    for lib, x in ((ember, ex), (torch, tx)):
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(target), reduction=reduction)
        loss = loss.sum() if reduction == "none" else loss
        loss.backward(retain_graph=True)
        loss.backward()
    assert type(ember.nn.functional.cross_entropy(ex, ember.tensor(target)).grad_fn).__name__ == "NllLossBackward0"
    numpy.testing.assert_allclose(as_numpy(ex.grad), as_numpy(tx.grad), rtol=1e-5, atol=1e-7)


def test_sgd_scratch_is_shared_by_sizes_and_dtypes_and_stays_out_of_the_state():
    shapes = [((30, 20), "float32"), ((7,), "float32"), ((600,), "float32"), ((5, 3), "float64"), ((), "float64")]
    values = [numpy.random.default_rng(i).standard_normal(s).astype(d) for i, (s, d) in enumerate(shapes)]
    e_params = [ember.nn.Parameter(ember.tensor(v)) for v in values]
    t_params = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    e_opt = ember.optim.SGD(e_params, lr=0.1, momentum=0.9, weight_decay=0.01)
    t_opt = torch.optim.SGD(t_params, lr=0.1, momentum=0.9, weight_decay=0.01)
    for step in range(4):
        for i, (e, t) in enumerate(zip(e_params, t_params)):
            g = numpy.random.default_rng(100 * step + i).standard_normal(values[i].shape).astype(values[i].dtype)
            e.grad, t.grad = ember.tensor(g), torch.tensor(g)
        e_opt.step()
        t_opt.step()
    for e, t in zip(e_params, t_params):
        numpy.testing.assert_allclose(as_numpy(e), as_numpy(t), rtol=1e-6, atol=1e-7)
    assert all(set(s) == {"momentum_buffer"} for s in e_opt.state_dict()["state"].values())
    clone = pickle.loads(pickle.dumps(e_opt))
    assert "_scratch_buffers" not in clone.__dict__ and copy.deepcopy(e_opt).state_dict()["state"].keys() == \
        e_opt.state_dict()["state"].keys()


def test_sgd_scratch_views_follow_a_grown_buffer():
    # each shape's scratch view is kept; a later, larger parameter grows the buffer and the kept views must go
    small, large = (numpy.random.default_rng(i).standard_normal(s).astype("float32") for i, s in ((1, (3, 4)), (2, 50)))
    e_params, t_params = [ember.nn.Parameter(ember.tensor(small))], [torch.nn.Parameter(torch.tensor(small))]
    e_opt, t_opt = ember.optim.SGD(e_params, lr=0.1, momentum=0.9), torch.optim.SGD(t_params, lr=0.1, momentum=0.9)
    for step in range(4):
        if step == 2:
            e_params.append(ember.nn.Parameter(ember.tensor(large)))
            t_params.append(torch.nn.Parameter(torch.tensor(large)))
            e_opt.add_param_group({"params": [e_params[-1]]})
            t_opt.add_param_group({"params": [t_params[-1]]})
        for i, (e, t) in enumerate(zip(e_params, t_params)):
            g = numpy.random.default_rng(10 * step + i).standard_normal(e.shape).astype("float32")
            e.grad, t.grad = ember.tensor(g), torch.tensor(g)
        e_opt.step()
        t_opt.step()
        for e, t in zip(e_params, t_params):
            numpy.testing.assert_allclose(as_numpy(e), as_numpy(t), rtol=1e-6, atol=1e-7)


def _fused(x, y, z):
    """x * y + z rounded once, as ATen's fused multiply-adds (float32: the exact product summed in float64)."""
    if x.dtype == numpy.float64:
        from ember.ops._samplers import fma64
        return fma64(x, y, z)
    return (x.astype(numpy.float64) * numpy.float64(numpy.float32(y) if numpy.ndim(y) == 0 else y) +
            z.astype(numpy.float64)).astype(numpy.float32)


def _adam_reference(param, grads, lr, betas, eps, weight_decay, amsgrad):
    """Adam's update written as plain NumPy expressions in PyTorch's op order (the form before the scratch arrays):
    grad.add(param, alpha=wd) (one fused multiply-add), exp_avg.lerp_(grad, 1 - beta1),
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2) and param.addcdiv_(exp_avg, denom, -step_size), those
    unfused (off the fused kernel ember leaves the fusing out: PyTorch's MKL sqrt puts its bits out of reach)."""
    beta1, beta2 = betas
    exp_avg, exp_avg_sq, maximum = (numpy.zeros_like(param) for _ in range(3))
    for step, grad in enumerate(grads, 1):
        grad = _fused(param, weight_decay, grad)
        exp_avg += (grad - exp_avg) * (1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += grad * (1 - beta2) * grad
        second = numpy.maximum(maximum, exp_avg_sq, out=maximum) if amsgrad else exp_avg_sq
        denominator = numpy.sqrt(second) / ((1 - beta2 ** step) ** 0.5) + eps
        param += exp_avg * -(lr / (1 - beta1 ** step)) / denominator
    return param


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_with_scratch_arrays_is_bit_equal_to_the_plain_expressions_and_close_to_torch(amsgrad, dtype):
    rng = numpy.random.default_rng(5)
    start = rng.standard_normal((40, 30)).astype(dtype)
    grads = [rng.standard_normal((40, 30)).astype(dtype) for _ in range(5)]
    options = dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, amsgrad=amsgrad)
    e, t = ember.nn.Parameter(ember.tensor(start)), torch.nn.Parameter(torch.tensor(start))
    e_opt, t_opt = ember.optim.Adam([e], **options), torch.optim.Adam([t], **options)
    for g in grads:
        e.grad, t.grad = ember.tensor(g), torch.tensor(g)
        e_opt.step()
        t_opt.step()
    numpy.testing.assert_array_equal(as_numpy(e), _adam_reference(start.copy(), grads, **options))
    numpy.testing.assert_allclose(as_numpy(e), as_numpy(t), rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)
