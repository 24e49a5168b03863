"""ember.functorch (what ``import functorch`` gives under ``ember run``) against PyTorch's functorch: the deprecated
transforms with their FutureWarning, make_functional(_with_buffers) and combine_state_for_ensemble."""
import warnings

import numpy
import pytest
import torch

import ember
import ember.functorch

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import functorch

LIBS = ((torch, functorch), (ember, ember.functorch))


def _model(lib, buffers=False):
    lib.manual_seed(0)
    layers = [lib.nn.Linear(4, 3), lib.nn.Tanh()] + ([lib.nn.BatchNorm1d(3)] if buffers else [])
    return lib.nn.Sequential(*layers).eval()


def test_transforms_warn_as_functorch_and_compute_as_torch_func():
    """Each transform gives functorch's FutureWarning, pointing at the caller (PyTorch's forward-mode transforms
    also warn about torch.jit.script inside, which is left out)."""
    results = []
    for lib, ft in LIBS:
        x, t = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64), lib.tensor([1.0, 0.5, -0.25], dtype=lib.float64)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = [ft.grad(lambda v: v.sin().sum())(x), ft.jvp(lambda v: v.exp(), (x,), (t,))[1],
                      ft.vmap(lambda v: v * 2)(x), ft.jacrev(lambda v: v ** 2)(x),
                      ft.hessian(lambda v: v.pow(3).sum())(x),
                      ft.vjp(lambda v: v.cos(), x)[1](t)[0], ft.grad_and_value(lambda v: (v * v).sum())(x)[1],
                      ft.jacfwd(lambda v: v.tanh())(x)]
        results.append(([v.numpy() for v in values],
                        [(str(w.message), w.filename) for w in caught if w.category is FutureWarning]))
    for got, want in zip(results[1][0], results[0][0]):
        numpy.testing.assert_allclose(got, want, rtol=1e-12)
    assert results[1][1] == results[0][1]


@pytest.mark.parametrize("buffers", [False, True])
def test_make_functional_calls_a_copy_with_the_given_state(buffers):
    results = []
    for lib, ft in LIBS:
        model, x = _model(lib, buffers), lib.linspace(-1, 1, 8).reshape(2, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if buffers:
                func, params, state = ft.make_functional_with_buffers(model)
                doubled = func([p * 2 for p in params], state, x)
            else:
                func, params = ft.make_functional(model, disable_autograd_tracking=True)
                doubled = func([p * 2 for p in params], x)
        results.append((repr(func), [p.requires_grad for p in params], doubled.detach().numpy(),
                        [tuple(p.shape) for p in params], model(x).detach().numpy()))
    assert results[1][:2] == results[0][:2] and results[1][3] == results[0][3]
    numpy.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-6)
    numpy.testing.assert_allclose(results[1][4], results[0][4], rtol=1e-6)


def test_combine_state_for_ensemble_and_errors():
    results = []
    for lib, ft in LIBS:
        models = [_model(lib, True) for _ in range(3)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            func, params, buffers = ft.combine_state_for_ensemble(models)
            out = ft.vmap(func, (0, 0, None))(params, buffers, lib.ones(2, 4))
            errors = []
            for call in (lambda: ft.combine_state_for_ensemble([]),
                         lambda: ft.combine_state_for_ensemble([models[0], models[1].train()]),
                         lambda: ft.make_functional(models[0])):
                with pytest.raises(RuntimeError) as error:
                    call()
                errors.append(str(error.value))
        results.append(([tuple(p.shape) for p in params], [p.requires_grad for p in params], out.numpy(), errors))
    assert results[1][:2] == results[0][:2] and results[1][3] == results[0][3]
    numpy.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-6)


def test_ember_run_maps_functorch_here():
    assert ember._alias.ember_name("functorch") == "ember.functorch"
    assert ember._alias.ember_name("functorch.experimental") == "ember.functorch.experimental"


def test_experimental_names_as_functorchs():
    """functorch.experimental: replace_all_batch_norm_modules_ (functorch's batch-norm tutorials import it from
    there), chunk_vmap and the transforms, without deprecation warnings."""
    import functorch.experimental
    import ember.functorch.experimental
    x = numpy.random.default_rng(0).standard_normal((6, 5, 3)).astype(numpy.float32)

    def run(lib, experimental):
        lib.manual_seed(0)
        net = experimental.replace_all_batch_norm_modules_(lib.nn.Sequential(lib.nn.Linear(3, 4),
                                                                             lib.nn.BatchNorm1d(4)))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = experimental.chunk_vmap(net, chunks=4)(lib.tensor(x))
            scaled = experimental.chunk_vmap(lambda a, b: a * b, in_dims=(0, None), chunks=3)(lib.arange(5.0),
                                                                                             lib.tensor(2.0))
            hess = experimental.hessian(lambda t: (t ** 3).sum())(lib.ones(2))
        return [net[1].track_running_stats, out.detach().numpy(), scaled.numpy(), hess.numpy()]
    ours = run(ember, ember.functorch.experimental)
    theirs = run(torch, functorch.experimental)
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:4], theirs[1:4]):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
