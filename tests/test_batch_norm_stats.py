"""SyncBatchNorm's building blocks (``torch.batch_norm_stats`` and kin), which PyTorch runs on CUDA only: three
ranks' inputs of different sizes, reduced with them, give what ``F.batch_norm`` (and its autograd) gives on the whole
batch in PyTorch; ``batch_norm_update_stats`` is also compared with PyTorch's CPU kernel."""
import numpy
import pytest
import torch

import ember

RNG = numpy.random.default_rng(0)
PARTS = [RNG.standard_normal((n, 3, 4, 2)) * 2 + 1 for n in (2, 3, 1)]
WEIGHT, BIAS = RNG.standard_normal(3), RNG.standard_normal(3)
GRADS = [RNG.standard_normal(p.shape) for p in PARTS]
EPS, MOMENTUM = 1e-5, 0.1


def _reference():
    """PyTorch's batch norm of the whole batch: output, running stats, and the gradients of sum(output * grads)."""
    x = torch.tensor(numpy.concatenate(PARTS), requires_grad=True)
    w, b = torch.tensor(WEIGHT, requires_grad=True), torch.tensor(BIAS, requires_grad=True)
    running_mean, running_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    out = torch.nn.functional.batch_norm(x, running_mean, running_var, w, b, True, MOMENTUM, EPS)
    (out * torch.tensor(numpy.concatenate(GRADS))).sum().backward()
    return out.detach().numpy(), running_mean.numpy(), running_var.numpy(), x.grad.numpy(), w.grad.numpy(), \
        b.grad.numpy()


@pytest.mark.parametrize("with_counts", [True, False])
def test_ranks_reduced_give_batch_norm_of_the_whole_batch(with_counts):
    parts = PARTS if with_counts else [p[:2] for p in PARTS[:2]] * 1
    xs = [ember.tensor(p) for p in parts]
    w, b = ember.tensor(WEIGHT), ember.tensor(BIAS)
    stats = [ember.batch_norm_stats(x, EPS) for x in xs]
    means, invstds = ember.stack([s[0] for s in stats]), ember.stack([s[1] for s in stats])
    running_mean, running_var = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    counts = ember.tensor([float(x.numel() // 3) for x in xs], dtype=ember.float64)
    if with_counts:
        mean, invstd = ember.batch_norm_gather_stats_with_counts(xs[0], means, invstds, running_mean, running_var,
                                                                  MOMENTUM, EPS, counts)
    else:
        mean, invstd = ember.batch_norm_gather_stats(xs[0], means, invstds, running_mean, running_var, MOMENTUM,
                                                     EPS, int(counts[0]))
    outs = [ember.batch_norm_elemt(x, w, b, mean, invstd, EPS) for x in xs]
    whole = torch.tensor(numpy.concatenate(parts))
    t_running_mean, t_running_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    t_out = torch.nn.functional.batch_norm(whole, t_running_mean, t_running_var, torch.tensor(WEIGHT),
                                           torch.tensor(BIAS), True, MOMENTUM, EPS)
    numpy.testing.assert_allclose(numpy.concatenate([o.numpy() for o in outs]), t_out.numpy(), rtol=1e-10, atol=1e-12)
    numpy.testing.assert_allclose(running_mean.numpy(), t_running_mean.numpy(), rtol=1e-12)
    numpy.testing.assert_allclose(running_var.numpy(), t_running_var.numpy(), rtol=1e-12)
    t_var, t_mean = torch.var_mean(whole, (0, 2, 3), correction=0)
    numpy.testing.assert_allclose(mean.numpy(), t_mean.numpy(), rtol=1e-12)
    numpy.testing.assert_allclose(invstd.numpy(), (t_var + EPS).rsqrt().numpy(), rtol=1e-10)


def test_backward_halves_give_batch_norms_gradients():
    out, _, _, x_grad, w_grad, b_grad = _reference()
    xs, gs = [ember.tensor(p) for p in PARTS], [ember.tensor(g) for g in GRADS]
    w = ember.tensor(WEIGHT)
    whole = ember.cat(xs)
    mean, invstd = ember.batch_norm_stats(whole, EPS)   # the gathered statistics
    counts = ember.tensor([x.numel() // 3 for x in xs], dtype=ember.int32)
    reduced = [ember.batch_norm_backward_reduce(g, x, mean, invstd, w, True, True, True) for g, x in zip(gs, xs)]
    sum_dy = sum(r[0] for r in reduced)   # the all_reduce across ranks
    sum_dy_xmu = sum(r[1] for r in reduced)
    numpy.testing.assert_allclose(sum(r[2] for r in reduced).numpy(), w_grad, rtol=1e-10)
    numpy.testing.assert_allclose(sum(r[3] for r in reduced).numpy(), b_grad, rtol=1e-10)
    grads = [ember.batch_norm_backward_elemt(g, x, mean, invstd, w, sum_dy, sum_dy_xmu, counts)
             for g, x in zip(gs, xs)]
    numpy.testing.assert_allclose(numpy.concatenate([g.numpy() for g in grads]), x_grad, rtol=1e-9, atol=1e-12)
    only_weight = ember.batch_norm_backward_reduce(gs[0], xs[0], mean, invstd, w, False, True, False)
    assert only_weight[0] is None and only_weight[1] is None and only_weight[3] is None


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("running", [True, False])
def test_update_stats_as_torch(dtype, running):
    x = RNG.standard_normal((4, 3, 5))

    def run(lib):
        kind = getattr(lib, dtype)
        rm, rv = (lib.zeros(3, dtype=kind), lib.ones(3, dtype=kind)) if running else (None, None)
        mean, var = lib.batch_norm_update_stats(lib.tensor(x, dtype=kind), rm, rv, MOMENTUM)
        return [t.double().numpy() for t in (mean, var) + ((rm, rv) if running else ())] + [str(mean.dtype)[-7:]]

    e, t = run(ember), run(torch)
    assert e[-1] == t[-1]
    for a, b in zip(e[:-1], t[:-1]):
        numpy.testing.assert_allclose(a, b, rtol=1e-3 if dtype == "float16" else 1e-6)


def test_elemt_writes_out_and_stats_accumulate_half_in_float32():
    x = ember.tensor(PARTS[0], dtype=ember.float16)
    mean, invstd = ember.batch_norm_stats(x, EPS)
    assert mean.dtype is invstd.dtype is ember.float32
    out = ember.empty(0, dtype=ember.float16)
    result = ember.batch_norm_elemt(x, None, None, mean, invstd, EPS, out=out)
    assert result is out and out.dtype is ember.float16 and tuple(out.shape) == x.shape
    expected = (PARTS[0] - PARTS[0].mean((0, 2, 3), keepdims=True)) / PARTS[0].std((0, 2, 3), keepdims=True)
    numpy.testing.assert_allclose(out.double().numpy(), expected, atol=1e-2)
