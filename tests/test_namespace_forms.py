"""Top-level names PyTorch programs and old checkpoints use, beside PyTorch: the legacy storage classes
(``torch.FloatStorage``, ``Tensor.storage_type``), ``torch.fork``/``torch.wait``, weight normalization's
``norm_except_dim``, ``embedding_renorm_``, the in-place feature dropouts, ``as_strided_``/``resize_as_``/
``conj_physical_`` on the namespace and ``is_distributed``."""
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import check

LEGACY = ["BoolStorage", "ByteStorage", "CharStorage", "ShortStorage", "IntStorage", "LongStorage", "HalfStorage",
          "BFloat16Storage", "FloatStorage", "DoubleStorage", "ComplexFloatStorage", "ComplexDoubleStorage"]


@pytest.fixture(autouse=True)
def _quiet_typed_storage_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "TypedStorage is deprecated")
        yield


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_storage_classes_as_torch(name):
    def run(lib):
        kind = getattr(lib, name)
        dtype = str(kind.dtype).rpartition(".")[2]
        made = kind(3)
        values = kind([1, 0, 1]).tolist()
        mine = lib.ones(2, dtype=getattr(lib, dtype)).storage()
        other = lib.ones(2, dtype=lib.int8 if dtype != "int8" else lib.uint8).storage()
        return (dtype, made.size(), str(made.dtype), values, isinstance(made, kind), isinstance(mine, kind),
                isinstance(other, kind), lib.ones(1, dtype=getattr(lib, dtype)).storage_type().__name__,
                kind.__name__, kind.__module__)

    e, t = run(ember), run(torch)
    assert e[:2] + e[3:-1] == t[:2] + t[3:-1] and e[2].replace("ember", "torch") == t[2]
    assert ember.Storage is ember.FloatStorage and torch.Storage is torch.FloatStorage


def test_legacy_storage_wraps_bytes_and_refuses_what_torch_refuses():
    for lib in (ember, torch):
        wrapped = lib.FloatStorage(wrap_storage=lib.tensor([1.0, 2.0]).untyped_storage())
        assert wrapped.tolist() == [1.0, 2.0] and isinstance(wrapped, lib.FloatStorage)
    for args, kwargs in (((1.5,), {}), ((1, 2), {}), ((), {"dtype": "x"}), ((), {"device": "cpu"}),
                         ((3,), {"wrap_storage": None}), ((), {"wrap_storage": 3})):
        if args == (3,):   # wrap_storage=None is no wrap: nothing to refuse
            continue
        with pytest.raises(Exception) as expected:
            getattr(torch, "LongStorage")(*args, **kwargs)
        with pytest.raises(type(expected.value)) as got:
            ember.LongStorage(*args, **kwargs)
        assert str(got.value).replace("ember", "torch") == str(expected.value).replace("torch.storage.", "torch.")


def test_fork_and_wait_as_torch():
    for lib in (ember, torch):
        future = lib.fork(lambda a, b=1: a + b, lib.tensor([1.0]), b=5)
        assert future.done() and lib.wait(future).tolist() == [6.0]
        with pytest.raises(ValueError, match="raised at once"):
            lib.fork(lambda: (_ for _ in ()).throw(ValueError("raised at once")))
        for bad in (lambda: lib.fork(3), lambda: lib.wait(3)):
            with pytest.raises(TypeError):
                bad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # torch.fork is no deprecated torch.jit.fork
        ember.wait(ember.fork(len, [1]))


@pytest.mark.parametrize("pow_, dim", [(2, 0), (2, 1), (3, 2), (1, -1)])
def test_norm_except_dim_as_torch(pow_, dim):
    x = numpy.random.default_rng(0).standard_normal((2, 3, 4))
    check(lambda lib, v: lib.norm_except_dim(v, pow_, dim), x)
    check(lambda lib, v: lib.norm_except_dim(v[0, 0], pow_, 0 if dim == -1 else -1), x)


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (0.5, 1.0), (10.0, 2.0)])
def test_embedding_renorm_as_torch(max_norm, norm_type):
    weight = numpy.random.default_rng(1).standard_normal((5, 3)).astype(numpy.float32)

    def run(lib):
        w = lib.tensor(weight)
        result = lib.embedding_renorm_(w, lib.tensor([[0, 3], [3, 4]]), max_norm, norm_type)
        return result is w, w.numpy()

    (e_same, e), (t_same, t) = run(ember), run(torch)
    assert e_same and t_same
    numpy.testing.assert_allclose(e, t, rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda lib: lib.embedding_renorm_(lib.ones(3, 2), lib.tensor([0.0]), 1.0, 2.0),
    lambda lib: lib.embedding_renorm_(lib.ones(3), lib.tensor([0]), 1.0, 2.0),
    lambda lib: lib.feature_dropout_(lib.ones(3), 0.5, True),
    lambda lib: lib.feature_alpha_dropout_(lib.ones(3), 0.5, True),
    lambda lib: lib.feature_dropout_(lib.ones(2, 3), 1.5, True),
    lambda lib: lib.is_distributed(3),
    lambda lib: lib.norm_except_dim(lib.ones(2, 3), 2.5, 1),
])
def test_errors_as_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as got:
        call(ember)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("name", ["feature_dropout_", "feature_alpha_dropout_", "feature_dropout",
                                  "feature_alpha_dropout"])
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 5), (2, 3, 2, 2)])
def test_feature_dropouts_draw_one_value_per_feature(name, shape):
    """Each (dim 0, dim 1) slice is kept or dropped whole (2-D input: each element on its own), in place for the
    ``_`` forms; not training leaves the input as it is."""
    ember.manual_seed(0)
    x = ember.ones(shape)
    result = getattr(ember, name)(x, 0.5, True)
    assert (result is x) == name.endswith("_")
    values = result.reshape(shape[0], shape[1], -1)
    assert bool((values == values[..., :1]).all())
    assert len(set(values[..., 0].flatten().tolist())) == 2   # some features kept, some dropped
    y = ember.ones(shape)
    assert getattr(ember, name)(y, 0.5, False) is y and bool((y == 1).all())


def test_inplace_namespace_forms_as_torch():
    def run(lib):
        a, b = lib.zeros(1), lib.arange(6.0).reshape(2, 3)
        c, s = lib.tensor([1 + 2j, -3j]), lib.arange(6.0)
        return (lib.resize_as_(a, b) is a, tuple(a.shape), lib.conj_physical_(c) is c, c.tolist(),
                c.conj_physical_().tolist(), lib.as_strided_(s, (2, 2), (1, 2)) is s, s.tolist(),
                lib.is_distributed(b))

    assert run(ember) == run(torch)


_RNG = numpy.random.default_rng(2)
IMAGE, GRID = _RNG.standard_normal((2, 3, 4, 5)), _RNG.uniform(-1.2, 1.2, (2, 3, 2, 2))
VOLUME, GRID3 = _RNG.standard_normal((1, 2, 3, 4, 2)), _RNG.uniform(-1.2, 1.2, (1, 2, 2, 3, 3))


@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sampler_as_torch(mode, padding, align):
    """ATen's entry points under ``F.grid_sample``, with its enums for mode and padding."""
    check(lambda lib, x, g: lib.grid_sampler(x, g, mode, padding, align), IMAGE, GRID, grad=mode != 1)
    check(lambda lib, x, g: lib.grid_sampler_2d(x, g, mode, padding, align), IMAGE, GRID, grad=mode != 1)
    if mode != 2:
        check(lambda lib, x, g: lib.grid_sampler_3d(x, g, mode, padding, align), VOLUME, GRID3, grad=mode == 0)


@pytest.mark.parametrize("size, align", [((2, 3, 4, 5), False), ((2, 1, 3, 3), True), ((2, 2, 2, 3, 4), False)])
def test_affine_grid_generator_as_torch(size, align):
    theta = _RNG.standard_normal((2, len(size) - 2, len(size) - 1))
    check(lambda lib, t: lib.affine_grid_generator(t, size, align), theta)


@pytest.mark.parametrize("call", [
    lambda lib: lib.grid_sampler_2d(lib.ones(1, 1, 2, 2, 2), lib.zeros(1, 2, 2, 2, 3), 0, 0, False),
    lambda lib: lib.grid_sampler_3d(lib.ones(1, 1, 3, 3), lib.zeros(1, 2, 2, 2), 0, 0, False),
    lambda lib: lib.grid_sampler_3d(lib.ones(1, 1, 2, 2, 2), lib.zeros(1, 2, 2, 2, 3), 2, 0, False),
    lambda lib: lib.grid_sampler(lib.ones(1, 1, 3, 3), lib.zeros(1, 2, 2, 2), 0.5, 0, False),
    lambda lib: lib.affine_grid_generator(lib.eye(2, 3)[None], [1, 1, 2, 3, 4], False),
    lambda lib: lib.affine_grid_generator(lib.eye(2, 3)[None], [2, 1, 2, 3], False),
])
def test_grid_errors_as_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as got:
        call(ember)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("call", [
    lambda lib: lib.sym_constrain_range(3, min=0, max=5), lambda lib: lib.sym_constrain_range(3.5),
    lambda lib: lib.sym_constrain_range_for_size(3), lambda lib: lib.sym_constrain_range_for_size(4, min=1, max=8),
    lambda lib: lib.sym_fresh_size(3), lambda lib: lib.sym_fresh_size(0.1),
    lambda lib: lib.sym_constrain_range(3, min=4), lambda lib: lib.sym_constrain_range(3, max=2),
    lambda lib: lib.sym_constrain_range(3.5, min=4), lambda lib: lib.sym_constrain_range_for_size(-1),
    lambda lib: lib.sym_constrain_range_for_size(3, max=2), lambda lib: lib.sym_constrain_range("a"),
])
def test_sym_constraints_on_plain_numbers_as_torch(call):
    """Eager sizes are checked against the range (export would record it); ``sym_fresh_size`` is the value."""
    def run(lib):
        try:
            result = call(lib)
        except Exception as error:   # the same exception and message
            return type(error), str(error)
        return type(result), result

    assert run(ember) == run(torch)
