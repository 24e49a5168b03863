"""jit.script: control flow compiled from source, against eager ember and torch.jit.script on the same weights;
ember's vision models; decorators; errors naming file, line and construct."""
import io
import warnings
from typing import Dict, Optional

import numpy
import pytest
import torch

import ember
import ember.jit as jit
import ember.nn as nn
from tests.oracle import sample


def block(nn, F):
    """A module with a loop over a ModuleList, a data-dependent branch, a range loop and a helper method."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
            self.norm = nn.LayerNorm(3)
            self.scale = 2.0

        def helper(self, x):
            return x * self.scale

        def forward(self, x, n: int):
            for layer in self.layers:
                x = F.relu(layer(x))
            if bool(x.sum() > 1.0):
                x = self.helper(x)
            else:
                x = x - 1.0
            for i in range(n):
                x = x + float(i)
            return self.norm(x[:, :3]).view(x.shape[0], -1)
    return Block()


def _torch_script(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch 2.13 deprecates torch.jit.script
        return torch.jit.script(module)


@pytest.mark.parametrize("shift", [-5.0, 5.0])
def test_module_with_control_flow_matches_eager_and_torch_script(shift):
    model = block(nn, ember.nn.functional).eval()
    reference = block(torch.nn, torch.nn.functional).eval()
    reference.load_state_dict({k: torch.from_numpy(numpy.array(v.detach().numpy()))
                               for k, v in model.state_dict().items()})
    scripted = jit.script(model)
    graph = str(scripted.graph)
    assert "prim::If" in graph and "prim::Loop" in graph
    x = numpy.random.randn(3, 4).astype(numpy.float32) + numpy.float32(shift)
    got = scripted(ember.from_numpy(x), 2).detach().numpy()
    numpy.testing.assert_allclose(got, model(ember.from_numpy(x), 2).detach().numpy(), rtol=0, atol=0)
    expected = _torch_script(reference)(torch.from_numpy(x), 2).detach().numpy()
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def clipped_sum(x, limit: float):
    total = x.sum()
    steps = 0
    while bool(total > limit):
        total = total / 2.0
        steps += 1
    return total + steps


@pytest.mark.parametrize("limit", [1.0, 100.0])
def test_function_with_a_while_loop(limit):
    scripted = jit.script(clipped_sum)
    x = numpy.full(4, 3.0, numpy.float32)
    got = scripted(ember.from_numpy(x), limit)
    numpy.testing.assert_allclose(got.numpy(), clipped_sum(ember.from_numpy(x), limit).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.jit.script(clipped_sum)(torch.from_numpy(x), limit)
    numpy.testing.assert_allclose(got.numpy(), expected.numpy())


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_vision_models_script_save_and_load(name):
    from ember.vision import models
    model = getattr(models, name)(num_classes=5).eval()
    scripted = jit.script(model)
    buffer = io.BytesIO()
    jit.save(scripted, buffer)
    buffer.seek(0)
    loaded = jit.load(buffer)
    x = ember.randn(2, 3, 32, 32)
    with ember.no_grad():
        expected = model(x).numpy()
        numpy.testing.assert_allclose(scripted(x).numpy(), expected, rtol=1e-6, atol=1e-6)
        numpy.testing.assert_allclose(loaded(x).numpy(), expected, rtol=1e-6, atol=1e-6)


def residual(nn):
    """MONAI's ResidualUnit shape inside a Sequential: a user module (not a layer the eval chains know) beside
    Conv2d -> BatchNorm2d -> ReLU."""
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x):
            return x + self.conv(x)
    return nn.Sequential(Residual(), nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU()).eval()


def test_sequential_scripted_under_no_grad_compiles_its_plain_loop():
    # MONAI's convert_to_torchscript scripts under no_grad, where eager Sequential takes its evaluation chains
    model, reference = residual(nn), residual(torch.nn)
    reference.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    x = numpy.random.default_rng(0).standard_normal((2, 2, 6, 6)).astype(numpy.float32)
    with ember.no_grad():
        scripted = jit.script(model)
        got = scripted(ember.from_numpy(x)).numpy()
        numpy.testing.assert_allclose(got, model(ember.from_numpy(x)).numpy(), rtol=1e-6, atol=1e-6)
    with torch.no_grad():
        numpy.testing.assert_allclose(got, _torch_script(reference)(torch.from_numpy(x)).numpy(), rtol=1e-5,
                                      atol=1e-5)


class WithExtras(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 3)

    def forward(self, x):
        return self.linear(x)

    @jit.export
    def twice(self, x):
        return self.linear(x) * 2

    @jit.ignore
    def debug(self, x):
        print(x)
        return x


def test_export_compiles_extra_methods():
    model = WithExtras()
    scripted = jit.script(model)
    x = ember.randn(2, 3)
    numpy.testing.assert_allclose(scripted.twice(x).detach().numpy(), model.twice(x).detach().numpy())


def test_calling_an_ignored_method_fails_to_compile():
    class Caller(WithExtras):
        def forward(self, x):
            return self.debug(x)
    with pytest.raises(RuntimeError, match="marked @jit.ignore"):
        jit.script(Caller())


def early_return(x):
    if bool(x.sum() > 0):
        return x * 2
    y = -x
    return y + 1


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_early_return_in_a_data_dependent_branch(sign):
    scripted = jit.script(early_return)
    x = ember.full((3,), sign)
    numpy.testing.assert_allclose(scripted(x).numpy(), early_return(x).numpy())


def uses_del(x):
    y = x + 1
    del y
    return x


def uses_try(x):
    try:
        y = x + 1
    except ValueError:
        y = x
    return y


def calls_print(x):
    print(x)
    return x


@pytest.mark.parametrize("function, construct", [(uses_del, "the statement Delete"),
                                                 (uses_try, "the statement Try"),
                                                 (calls_print, "a call of 'print'")])
def test_unsupported_constructs_name_file_and_line(function, construct):
    with pytest.raises(RuntimeError, match=rf"{construct}.*test_script\.py:\d+"):
        jit.script(function)


def test_transformer_encoder_scripts_saves_and_loads():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    buffer = io.BytesIO()
    jit.save(jit.script(model), buffer)
    buffer.seek(0)
    loaded = jit.load(buffer)
    for batch, length in ((2, 5), (3, 7)):
        x = ember.randn(batch, length, 8)
        with ember.no_grad():
            numpy.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)


def masked(nn):
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 4)

        def forward(self, x, mask: Optional[torch.Tensor] = None, scale: Optional[torch.Tensor] = None):
            y = self.linear(x)
            if mask is not None:
                y = y * mask
            return y if scale is None else y * scale
    return Masked()


def test_optional_arguments_are_inputs_tested_at_run_time():
    model = masked(nn)
    reference = masked(torch.nn)
    reference.load_state_dict({k: torch.from_numpy(numpy.array(v.detach().numpy()))
                               for k, v in model.state_dict().items()})
    scripted, expected_script = jit.script(model), _torch_script(reference)
    buffer = io.BytesIO()
    jit.save(scripted, buffer)
    buffer.seek(0)
    loaded = jit.load(buffer)
    x, mask, scale = (numpy.random.randn(*s).astype(numpy.float32) for s in ((2, 4), (2, 4), (1, 4)))
    for args in ((x,), (x, mask), (x, None, scale), (x, mask, scale)):
        expected = expected_script(*[None if a is None else torch.from_numpy(a) for a in args]).detach().numpy()
        for module in (scripted, loaded):
            got = module(*[None if a is None else ember.from_numpy(a) for a in args]).detach().numpy()
            numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def identity_test(nn):
    class Identity(nn.Module):
        def forward(self, x, y):
            if x is y:
                return x + 1
            if x is not y:
                return x - 1
            return x
    return Identity()


def test_is_compares_identity_as_torchscript():
    scripted, expected = jit.script(identity_test(nn)), _torch_script(identity_test(torch.nn))
    buffer = io.BytesIO()
    jit.save(scripted, buffer)
    buffer.seek(0)
    loaded = jit.load(buffer)
    a, b = numpy.ones(3, numpy.float32), numpy.ones(3, numpy.float32)   # equal values, distinct tensors
    for function in (scripted, loaded):
        same, other = ember.from_numpy(a), ember.from_numpy(b)
        for args, torch_args in (((same, same), (torch.from_numpy(a),) * 2),
                                 ((same, other), (torch.from_numpy(a), torch.from_numpy(b)))):
            numpy.testing.assert_array_equal(function(*args).numpy(), expected(*torch_args).numpy())


def dict_of_tensors(x, y):
    features: Dict[str, torch.Tensor] = {"sum": x + y}
    features["product"] = x * y
    if bool(x.sum() > 0):
        features["sum"] = features["sum"] * 2
    total = x * 0
    for name, value in features.items():
        total = total + value
    return {"total": total, "product": features["product"]}


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_dicts_of_tensors(sign):
    x, y = numpy.full(3, sign, numpy.float32), numpy.arange(3, dtype=numpy.float32)
    got = jit.script(dict_of_tensors)(ember.from_numpy(x), ember.from_numpy(y))
    expected = _torch_script(dict_of_tensors)(torch.from_numpy(x), torch.from_numpy(y))
    assert set(got) == set(expected) == {"total", "product"}
    for key in got:
        numpy.testing.assert_allclose(got[key].numpy(), expected[key].numpy())


def test_scripted_traced_and_loaded_modules_classes_and_reprs_as_torch():
    """script and load give RecursiveScriptModules (shown under that name), trace a TopLevelTracedModule whose
    submodules are TracedModules (shown under their original names), as torch.jit's."""
    seen = []
    for lib in (ember, torch):
        net = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # torch 2.13 deprecates torch.jit
            scripted = lib.jit.script(net)
            traced = lib.jit.trace(net, lib.ones(1, 4))
            buffer = io.BytesIO()
            lib.jit.save(scripted, buffer)
            buffer.seek(0)
            loaded = lib.jit.load(buffer)
            frozen = lib.jit.freeze(lib.jit.script(net).eval())
        seen.append([(type(m).__name__, [c.__name__ for c in type(m).__mro__][1:-2], repr(m))
                     for m in (scripted, traced, traced._modules["0"], loaded, frozen)]
                    + [isinstance(traced, lib.jit.TracedModule), isinstance(loaded, lib.jit.RecursiveScriptModule)])
    assert seen[0] == seen[1]


def cg_step(lib):
    """Two scripted functions, the second calling the first, writing through ``out=`` and in place (the shape of
    linear_operator's conjugate-gradient updates, scripted when it is imported)."""
    @lib.jit.script
    def update(result, alpha, direction, residual, mul_storage, inner):
        result = lib.addcmul(result, alpha, direction, out=result)
        lib.mul(residual, residual, out=mul_storage)
        lib.sum(mul_storage, -2, keepdim=True, out=inner)
        direction.mul_(inner).add_(residual)

    @lib.jit.script
    def step(result, alpha, direction, residual, mul_storage, inner, mvms):
        lib.addcmul(residual, -alpha, mvms, out=residual)
        update(result, alpha, direction, residual, mul_storage, inner)
    return step


def test_scripted_function_calls_a_scripted_function():
    values = [sample((3, 2), numpy.float32, seed=seed) for seed in range(7)]
    values[1], values[5] = values[1][:1], values[5][:1]
    seen = []
    for lib in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # torch 2.13 deprecates torch.jit
            step = cg_step(lib)
        tensors = [lib.tensor(v) for v in values]
        step(*tensors)
        seen.append([t.numpy() for t in tensors])
    for got, expected in zip(*seen):
        numpy.testing.assert_allclose(got, expected, rtol=1e-6)


def test_tensor_flags_read_at_run_time_as_torch_script():
    """x.is_nested, x.is_cuda and x.requires_grad compile to run-time reads, as in torch.jit.script."""
    def flags(lib):
        def fn(x):
            if x.is_nested or x.is_cuda:
                return x * 2.0
            if x.requires_grad:
                return x + 1.0
            return x - 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # torch.jit.script's deprecation notice
            return lib.jit.script(fn)

    data = sample((3,))
    for requires_grad in (False, True):
        mine = flags(ember)(ember.tensor(data, requires_grad=requires_grad))
        theirs = flags(torch)(torch.tensor(data, requires_grad=requires_grad))
        numpy.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy())
