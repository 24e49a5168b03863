"""nn.utils (clipping, vector conversion, parametrizations, weight/spectral norm) and DataParallel against torch."""
import warnings
from collections import OrderedDict

import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, sample

F32 = numpy.float32


def copy_weights(torch_module, ember_module):
    assert list(torch_module.state_dict()) == list(ember_module.state_dict())
    ember_module.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()})


def parameters_with_grads(lib, arrays):
    params = [lib.nn.Parameter(lib.zeros(a.shape)) for a in arrays]
    for p, a in zip(params, arrays):
        p.grad = lib.tensor(a)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.5, 0])
def test_clip_grad_norm_matches_torch(norm_type):
    grads = [sample((3, 4), seed=1), sample((5,), seed=2), sample((2, 2, 2), seed=3) / 10]
    for max_norm in (1.0, 1e3):
        t_params, e_params = parameters_with_grads(torch, grads), parameters_with_grads(ember, grads)
        assert_same(ember.nn.utils.clip_grad_norm_(e_params, max_norm, norm_type),
                    torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type))
        for e, t in zip(e_params, t_params):
            assert_same(e.grad, t.grad)


def test_clip_grad_value_total_norm_and_errors():
    grads = [sample((3, 4), seed=1), sample((5,), seed=2)]
    t_params, e_params = parameters_with_grads(torch, grads), parameters_with_grads(ember, grads)
    torch.nn.utils.clip_grad_value_(t_params, 0.5)
    ember.nn.utils.clip_grad_value_(e_params, 0.5)
    for e, t in zip(e_params, t_params):
        assert_same(e.grad, t.grad)
    assert_same(ember.nn.utils.get_total_norm([ember.tensor(g) for g in grads], 3.0),
                torch.nn.utils.get_total_norm([torch.tensor(g) for g in grads], 3.0))
    assert_same(ember.nn.utils.clip_grad_norm_(ember.nn.Parameter(ember.zeros(2)), 1.0), torch.tensor(0.0))
    bad = parameters_with_grads(ember, [numpy.array([1.0, numpy.inf], F32)])
    with pytest.raises(RuntimeError, match="non-finite"):
        ember.nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        ember.nn.utils.clip_grad_norm(e_params, 1.0)


def test_parameters_to_vector_and_back():
    e_model, t_model = ember.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    copy_weights(t_model, e_model)
    vector = ember.nn.utils.parameters_to_vector(e_model.parameters())
    assert_same(vector, torch.nn.utils.parameters_to_vector(t_model.parameters()))
    ember.nn.utils.vector_to_parameters(ember.arange(8.0), e_model.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(8.0), t_model.parameters())
    assert_same(e_model.weight, t_model.weight)
    assert_same(e_model.bias, t_model.bias)
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        ember.nn.utils.vector_to_parameters([1.0], e_model.parameters())


@pytest.mark.parametrize("dim", [0, 1, None])
def test_parametrized_weight_norm_matches_torch(dim):
    t_model = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 5), dim=dim)
    e_model = ember.nn.utils.parametrizations.weight_norm(ember.nn.Linear(3, 5), dim=dim)
    copy_weights(t_model, e_model)
    assert type(e_model).__name__ == "ParametrizedLinear"
    assert ember.nn.utils.parametrize.is_parametrized(e_model, "weight")
    x = sample((4, 3))
    t_out, e_out = t_model(torch.tensor(x)), e_model(ember.tensor(x))
    assert_same(e_out, t_out)
    t_out.sum().backward()
    e_out.sum().backward()
    for name in ("original0", "original1"):
        assert_same(getattr(e_model.parametrizations.weight, name).grad,
                    getattr(t_model.parametrizations.weight, name).grad)
    e_model.weight = ember.ones(5, 3)
    t_model.weight = torch.ones(5, 3)
    assert_same(e_model.weight, t_model.weight)
    ember.nn.utils.parametrize.remove_parametrizations(e_model, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(t_model, "weight")
    copy_weights(t_model, e_model)
    assert type(e_model) is ember.nn.Linear


def test_register_parametrization_chain_cache_and_errors():
    class Symmetric(ember.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(0, 1)

    class Double(ember.nn.Module):
        def forward(self, x):
            return x * 2

        def right_inverse(self, x):
            return x / 2

    class Flat(ember.nn.Module):
        def forward(self, x):
            return x.reshape(-1)

    layer = ember.nn.Linear(3, 3)
    parametrize = ember.nn.utils.parametrize
    parametrize.register_parametrization(layer, "weight", Symmetric())
    parametrize.register_parametrization(layer, "weight", Double())
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    weight = layer.weight.detach().numpy()
    numpy.testing.assert_allclose(weight, weight.T)
    with parametrize.cached():
        assert layer.weight is layer.weight
    assert parametrize.type_before_parametrizations(layer) is ember.nn.Linear
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        layer.weight = ember.ones(3, 3)
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(ember.nn.Linear(3, 2), "weight", Flat())
    with pytest.raises(ValueError, match="does not have a parameter"):
        parametrize.register_parametrization(layer, "missing", Double())
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    assert not parametrize.is_parametrized(layer) and isinstance(layer.weight, ember.nn.Parameter)


def test_legacy_weight_norm_matches_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        t_model = torch.nn.utils.weight_norm(torch.nn.Conv2d(2, 3, 3), dim=1)
        e_model = ember.nn.utils.weight_norm(ember.nn.Conv2d(2, 3, 3), dim=1)
    assert list(e_model.state_dict()) == ["bias", "weight_g", "weight_v"]
    copy_weights(t_model, e_model)
    x = sample((1, 2, 5, 5))
    assert_same(e_model(ember.tensor(x)), t_model(torch.tensor(x)), 1e-5, 1e-5)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ember.nn.utils.weight_norm(e_model, dim=1)
    ember.nn.utils.remove_weight_norm(e_model)
    torch.nn.utils.remove_weight_norm(t_model)
    copy_weights(t_model, e_model)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        ember.nn.utils.remove_weight_norm(e_model)


@pytest.mark.parametrize("name,args,shape", [("Linear", (3, 5), (2, 3)), ("ConvTranspose2d", (3, 4, 2), (1, 3, 4, 4))])
def test_spectral_norms_match_torch(name, args, shape):
    x = sample(shape)
    t_model = torch.nn.utils.parametrizations.spectral_norm(getattr(torch.nn, name)(*args))
    e_model = ember.nn.utils.parametrizations.spectral_norm(getattr(ember.nn, name)(*args))
    copy_weights(t_model, e_model)   # copies u and v too, so the power iterations agree
    assert list(e_model.state_dict())[-2:] == ["parametrizations.weight.0._u", "parametrizations.weight.0._v"]
    for training in (True, True, False):
        t_model.train(training), e_model.train(training)
        assert_same(e_model(ember.tensor(x)), t_model(torch.tensor(x)), 1e-4, 1e-5)
        assert_same(e_model.parametrizations.weight[0]._u, t_model.parametrizations.weight[0]._u, 1e-4, 1e-5)
    t_model = torch.nn.utils.spectral_norm(getattr(torch.nn, name)(*args))
    e_model = ember.nn.utils.spectral_norm(getattr(ember.nn, name)(*args))
    assert list(e_model.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    copy_weights(t_model, e_model)
    for training in (True, True, False):
        t_model.train(training), e_model.train(training)
        assert_same(e_model(ember.tensor(x)), t_model(torch.tensor(x)), 1e-4, 1e-5)
        assert_same(e_model.weight_v, t_model.weight_v, 1e-4, 1e-5)
    ember.nn.utils.remove_spectral_norm(e_model)
    torch.nn.utils.remove_spectral_norm(t_model)
    copy_weights(t_model, e_model)


@pytest.mark.skipif(torch.cuda.is_available(), reason="torch's DataParallel moves the module to the GPU there")
def test_data_parallel_wraps_module():
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    wrapped = ember.nn.DataParallel(model)
    assert wrapped.module is model and ember.nn.parallel.DataParallel is ember.nn.DataParallel
    t_wrapped = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)))
    assert list(wrapped.state_dict()) == list(t_wrapped.state_dict())
    copy_weights(t_wrapped, wrapped)
    x = sample((5, 3))
    assert_same(wrapped(ember.tensor(x)), t_wrapped(torch.tensor(x)), 1e-5, 1e-5)
    if not ember.cuda.is_available():
        assert wrapped.device_ids == []


def test_legacy_spectral_norm_checkpoints_convert_like_torch():
    # a tall weight: W^T W is invertible, so the v that old checkpoints imply is unique
    t_model = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 5))
    t_model(torch.ones(2, 3))   # a training forward, so u = normalize(W_orig v) holds as old checkpoints assume
    state = t_model.state_dict()
    e_model = ember.nn.utils.spectral_norm(ember.nn.Linear(3, 5))
    assert e_model.state_dict()._metadata == state._metadata   # {"": {"version": 1, "spectral_norm": {...}}}
    old = OrderedDict((k, v) for k, v in state.items() if k != "weight_v")
    old["weight"] = t_model.weight.detach()   # checkpoints before version 1 saved the normalised weight, not v
    results = {}
    for lib, model in ((torch, torch.nn.utils.spectral_norm(torch.nn.Linear(3, 5))), (ember, e_model)):
        converted = OrderedDict((k, lib.tensor(v.numpy())) for k, v in old.items())
        converted._metadata = {"": {"version": 1}}
        assert repr(model.load_state_dict(converted)) == "<All keys matched successfully>"
        model.eval()
        results[lib] = (model.weight_v, model(lib.ones(2, 3)))
    assert_same(results[ember][0], results[torch][0], 1e-4, 1e-5)
    assert_same(results[ember][1], results[torch][1], 1e-4, 1e-5)
    ember.nn.utils.remove_spectral_norm(e_model)
    assert not e_model._state_dict_hooks and not e_model._load_state_dict_pre_hooks
    missing = [lib.nn.utils.spectral_norm(lib.nn.Linear(3, 5)).load_state_dict(
        {"weight_orig": lib.ones(5, 3)}, strict=False).missing_keys for lib in (torch, ember)]
    assert missing[0] == missing[1]   # the hook reports what an old checkpoint lacks


def test_legacy_weight_norm_checkpoints_load_into_parametrized_weight_norm():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        legacy = torch.nn.utils.weight_norm(torch.nn.Linear(3, 2))
    x = sample((4, 3))
    outputs = {}
    for lib in (torch, ember):
        model = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 2))
        model.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in legacy.state_dict().items()})
        outputs[lib] = model(lib.tensor(x))
    numpy.testing.assert_allclose(outputs[torch].detach().numpy(), legacy(torch.tensor(x)).detach().numpy())
    assert_same(outputs[ember], outputs[torch], 1e-5, 1e-6)


ORTHOGONAL_CASES = [(shape, orthogonal_map, trivial) for shape in ((4, 4), (3, 5), (5, 3))
                    for orthogonal_map in ("matrix_exp", "cayley", "householder", None) for trivial in (True, False)
                    if trivial or orthogonal_map == "householder" or (orthogonal_map is None and shape != (4, 4))]


@pytest.mark.parametrize("shape,orthogonal_map,use_trivialization", ORTHOGONAL_CASES)
def test_orthogonal_matches_torch(shape, orthogonal_map, use_trivialization):
    models = {lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(shape[1], shape[0]), orthogonal_map=
                                                             orthogonal_map, use_trivialization=use_trivialization)
              for lib in (torch, ember)}
    copy_weights(models[torch], models[ember])   # state_dict keys: original (and base) as torch's
    originals = {lib: model.parametrizations.weight.original for lib, model in models.items()}
    step = sample(shape, seed=3) / 4   # move the original away from its initial value, the same on both sides
    numpy.fill_diagonal(step, 0.0)   # householder keeps the signs of its reflections on the diagonal
    with torch.no_grad():
        originals[torch].add_(torch.tensor(step))
    with ember.no_grad():
        originals[ember].add_(ember.tensor(step))
    weight = models[ember].weight
    gram = weight @ weight.mT if shape[0] <= shape[1] else weight.mT @ weight
    assert_same(gram, torch.eye(min(shape)), 1e-5, 1e-5)
    x = sample((2, shape[1]), seed=4)
    outputs = {lib: model(lib.tensor(x)) for lib, model in models.items()}
    assert_same(outputs[ember], outputs[torch], 1e-4, 1e-5)
    for lib in outputs:
        (outputs[lib] ** 2).sum().backward()
    assert_same(originals[ember].grad, originals[torch].grad, 1e-3, 1e-4)


def test_orthogonal_assignment_and_errors_match_torch():
    q = numpy.linalg.qr(sample((4, 4), numpy.float64, seed=5))[0]
    for lib in (torch, ember):
        model = lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(4, 4, dtype=lib.float64))
        model.weight = lib.tensor(q)   # right_inverse keeps an orthogonal value exactly
        numpy.testing.assert_allclose(model.weight.detach().numpy(), q, atol=1e-12)
        with pytest.raises(ValueError, match="Expected a matrix or batch of matrices of shape"):
            model.weight = lib.ones(3, 4, dtype=lib.float64)
    for lib in (torch, ember):
        model = lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="cayley",
                                                         use_trivialization=False)
        with pytest.raises(NotImplementedError, match="when use_trivialization=False"):
            model.weight = lib.eye(3)
        with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
            lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="qr")
        with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
            lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), "bias")
        with pytest.raises(ValueError, match="householder parametrization does not support complex"):
            lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 2, dtype=lib.complex64),
                                                   orthogonal_map="householder")
