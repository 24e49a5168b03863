"""func.linearize and func.replace_all_batch_norm_modules_ against PyTorch's."""
import numpy
import pytest
import torch

import ember

rng = numpy.random.default_rng(0)


def _f(lib, x, pair):
    return (x.sin() * pair[0]).sum(0), {"y": pair[1].exp() * x[0]}


@pytest.mark.filterwarnings("ignore")   # PyTorch's linearize traces through its FX machinery, which warns
def test_linearize_matches_torch():
    x, a, b = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal(2)
    u, v, w = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal(2)
    results = []
    for lib in (ember, torch):
        output, jvp_fn = lib.func.linearize(lambda x, pair: _f(lib, x, pair), lib.tensor(x), (lib.tensor(a),
                                                                                             lib.tensor(b)))
        first = jvp_fn(lib.tensor(u), (lib.tensor(v), lib.tensor(w)))
        second = jvp_fn(lib.tensor(u * 2), (lib.tensor(v), lib.tensor(w * 0)))   # reused at new tangents
        results.append([output[0].numpy(), output[1]["y"].numpy(), first[0].numpy(), first[1]["y"].numpy(),
                        second[0].numpy(), second[1]["y"].numpy()])
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore")
def test_linearize_checks_the_tangents():
    for lib in (ember, torch):
        _, jvp_fn = lib.func.linearize(lambda x: x * 2, lib.ones(3))
        with pytest.raises(RuntimeError, match="tangent:0 with shape"):
            jvp_fn(lib.ones(4))
        with pytest.raises(RuntimeError, match="tangent:0 with dtype"):
            jvp_fn(lib.ones(3, dtype=lib.float64))
        with pytest.raises(RuntimeError, match="(?s)Expected the tangents .* to have the same argspec as the primals"):
            jvp_fn(lib.ones(3), lib.ones(3))


def test_replace_all_batch_norm_modules():
    states = []
    for lib in (ember, torch):
        model = lib.nn.Sequential(lib.nn.Conv2d(1, 2, 1), lib.nn.BatchNorm2d(2), lib.nn.BatchNorm1d(3,
                                  track_running_stats=False), lib.nn.Sequential(lib.nn.BatchNorm2d(2)))
        assert lib.func.replace_all_batch_norm_modules_(model) is model
        states.append([(type(m).__name__, m.track_running_stats, m.running_mean is None, m.running_var is None,
                        getattr(m, "num_batches_tracked", None) is None) for m in model.modules()
                       if "BatchNorm" in type(m).__name__])
        assert sorted(model.state_dict()) == sorted(k for k in model.state_dict())
    assert states[0] == states[1]
    x = rng.standard_normal((4, 2, 3, 3)).astype(numpy.float32)
    for lib in (ember, torch):
        norm = lib.func.replace_all_batch_norm_modules_(lib.nn.BatchNorm2d(2)).eval()
        out = norm(lib.tensor(x))   # batch statistics even in eval mode now
        numpy.testing.assert_allclose(out.detach().numpy().mean((0, 2, 3)), 0, atol=1e-5)


def _outcome(call):
    """('ok', values) or (exception type, message) of ``call()``, any warnings it gave included."""
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except Exception as error:   # the comparison is of the error itself
            return type(error).__name__, str(error), [str(w.message) for w in caught]
    values = [t.detach().numpy() for t in (result if isinstance(result, (tuple, list)) else [result])]
    return "ok", values, [str(w.message) for w in caught]


def _same(ours, theirs):
    assert ours[0] == theirs[0] and ours[2] == theirs[2], (ours, theirs)
    if ours[0] == "ok":
        for got, want in zip(ours[1], theirs[1]):
            numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    else:
        assert ours[1] == theirs[1]


X = rng.standard_normal((4, 3)).astype(numpy.float32)
BATCHES = rng.standard_normal((5, 4, 3)).astype(numpy.float32)
COEFFICIENTS = rng.standard_normal((4, 3)).astype(numpy.float32)   # (a loss whose gradient is not all zeros)
WEIGHTS = rng.standard_normal((5, 3)).astype(numpy.float32)


def _norm(lib, **options):
    lib.manual_seed(0)
    return lib.nn.BatchNorm1d(3, **options)


@pytest.mark.parametrize("transform", ["grad", "jacrev", "jvp", "vjp", "grad_functional_call"])
def test_batch_norm_in_a_grad_transform_raises_torchs_error_and_keeps_its_statistics(transform):
    def run(lib):
        bn, x, func = _norm(lib), lib.tensor(X), lib.func
        calls = {"grad": lambda: func.grad(lambda x: bn(x).sum())(x),
                 "jacrev": lambda: func.jacrev(bn)(x),
                 "jvp": lambda: func.jvp(bn, (x,), (x,))[1],
                 "vjp": lambda: func.vjp(bn, x)[0],
                 "grad_functional_call": lambda: func.grad(lambda p: func.functional_call(bn, p, (x,)).sum())(
                     dict(bn.named_parameters()))["weight"]}
        return _outcome(calls[transform]), _outcome(lambda: (bn.running_mean, bn.num_batches_tracked))
    ours, theirs = run(ember), run(torch)
    _same(ours[0], theirs[0])
    _same(ours[1], theirs[1])


def test_batch_norm_without_running_statistics_in_grad_transforms_as_torch():
    def run(lib):
        x, func = lib.tensor(X), lib.func
        untracked = _norm(lib, track_running_stats=False)
        evaluated = _norm(lib).eval()
        replaced = func.replace_all_batch_norm_modules_(lib.nn.Sequential(_norm(lib)))
        coefficients = lib.tensor(COEFFICIENTS)
        return [_outcome(lambda: func.grad(lambda x: (module(x) * coefficients).sum())(x))
                for module in (untracked, evaluated, replaced)]
    for ours, theirs in zip(run(ember), run(torch)):
        _same(ours, theirs)


def test_in_place_writes_into_captured_tensors_raise_in_grad_transforms():
    def run(lib):
        buf, x, func = lib.zeros(3), lib.ones(3), lib.func
        writes = [lambda: buf.add_(1), lambda: buf.mul_(2), lambda: buf.copy_(lib.ones(3)),
                  lambda: buf[0].fill_(1), lambda: buf.zero_()]
        outcomes = [_outcome(lambda: func.grad(lambda x: (write(), x.sum())[1])(x)) for write in writes]

        def outer(x):   # a tensor of the outer transform is captured by the inner one
            t = x * 2
            return func.grad(lambda z: (t.add_(1), (z * t).sum())[1])(x).sum()
        outcomes.append(_outcome(lambda: func.grad(outer)(x)))
        # inputs, tensors made inside, and tensors ops update as their kernels do (batch norm's statistics) are fine
        outcomes.append(_outcome(lambda: func.grad(lambda x, y: (y.add_(1), (x * y).sum())[1])(x, lib.ones(3))))
        outcomes.append(_outcome(lambda: func.grad(lambda x: (x.clone().mul_(3) + lib.zeros(3).add_(1)).sum())(x)))
        mean, var, inputs = lib.zeros(3), lib.ones(3), lib.tensor(X)
        outcomes.append(_outcome(lambda: func.grad(lambda x: (lib.nn.functional.batch_norm(
            x, mean, var, training=True) ** 2).sum())(inputs)))
        outcomes.append(_outcome(lambda: mean))
        return outcomes
    for ours, theirs in zip(run(ember), run(torch)):
        _same(ours, theirs)


def test_batch_norm_under_vmap_as_torch():
    def run(lib):
        x, func, coefficients = lib.tensor(BATCHES), lib.func, lib.tensor(COEFFICIENTS)
        tracked = _norm(lib)
        outcomes = [_outcome(lambda: func.vmap(tracked)(x)),
                    _outcome(lambda: (tracked.running_mean, tracked.num_batches_tracked))]
        for module in (_norm(lib, track_running_stats=False), _norm(lib).eval(),
                       func.replace_all_batch_norm_modules_(_norm(lib)), _norm(lib, affine=False)):
            outcomes.append(_outcome(lambda: func.vmap(module)(x)))
            outcomes.append(_outcome(lambda: func.vmap(func.grad(lambda x: (module(x) * coefficients).sum()))(x)))
        weights = lib.tensor(WEIGHTS)
        untracked = _norm(lib, track_running_stats=False)
        outcomes.append(_outcome(lambda: func.vmap(lambda w, x: func.functional_call(
            untracked, {"weight": w}, (x,)))(weights, x)))
        outcomes.append(_outcome(lambda: func.vmap(lambda w: lib.nn.functional.batch_norm(
            x[0], tracked.running_mean, tracked.running_var, w, training=False))(weights)))
        return outcomes
    for ours, theirs in zip(run(ember), run(torch)):
        _same(ours, theirs)


IMAGES = rng.standard_normal((5, 2, 4, 3, 3)).astype(numpy.float32)
MAP_COEFFICIENTS = rng.standard_normal((2, 4, 3, 3)).astype(numpy.float32)


@pytest.mark.parametrize("build", [
    lambda lib: lib.nn.InstanceNorm2d(4, track_running_stats=True),
    lambda lib: lib.nn.InstanceNorm2d(4, affine=True),
    lambda lib: lib.nn.GroupNorm(2, 4),
    lambda lib: lib.nn.GroupNorm(1, 4, affine=False),
    lambda lib: lib.nn.BatchNorm2d(4).eval(),
])
def test_the_norms_under_vmap_as_torch(build):
    """Instance norm with running statistics refuses vmap with batch norm's error (PyTorch's instance norm is its
    batch norm); the per-channel affine of group and batch norm batches without the per-example fallback."""
    def run(lib):
        lib.manual_seed(0)
        module, x, c = build(lib), lib.tensor(IMAGES), lib.tensor(MAP_COEFFICIENTS)
        return [_outcome(lambda: lib.func.vmap(module)(x)),
                _outcome(lambda: lib.func.vmap(lib.func.grad(lambda x: (module(x) * c).sum()))(x))]
    for ours, theirs in zip(run(ember), run(torch)):
        _same(ours, theirs)


def test_batch_norm_ensemble_with_stacked_buffers_under_vmap_as_torch():
    """stack_module_state's running statistics, one per model: each model normalizes and updates its own, with the
    input shared or batched, in training and in eval."""
    def run(lib):
        import copy
        lib.manual_seed(0)
        models = [lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU()) for _ in range(3)]
        params, buffers = lib.func.stack_module_state(models)
        base = copy.deepcopy(models[0])
        x, xs = lib.tensor(X[:, :3].copy()), lib.tensor(BATCHES[:3, :, :3].copy())
        call = lambda p, b, x: lib.func.functional_call(base, (p, b), (x,))   # noqa: E731
        outcomes = [_outcome(lambda: lib.func.vmap(call, in_dims=(0, 0, None))(params, buffers, x)),
                    _outcome(lambda: lib.func.vmap(call)(params, buffers, xs)),
                    _outcome(lambda: (buffers["1.running_mean"], buffers["1.running_var"],
                                      buffers["1.num_batches_tracked"]))]
        base.eval()
        outcomes.append(_outcome(lambda: lib.func.vmap(call)(params, buffers, xs)))
        return outcomes
    for ours, theirs in zip(run(ember), run(torch)):
        _same(ours, theirs)
