"""Random numbers: dtype/shape/range, statistics on many samples, seeds and generator state, and errors.

Exact agreement with PyTorch's streams is tested in test_random_streams.py; here: moments, shapes and errors."""
import copy
import pickle

import numpy
import pytest
import torch

import ember
from tests import oracle

N = 100_000


def _np(t):
    return oracle.as_numpy(t)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64, ember.float16, ember.bfloat16])
def test_rand_range_and_moments(dtype):
    x = ember.rand(N, dtype=dtype)
    assert x.dtype is dtype and x.shape == (N,)
    v = _np(x)
    assert v.min() >= 0 and v.max() < 1
    assert abs(v.mean() - 0.5) < 0.01 and abs(v.std() - 12 ** -0.5) < 0.01


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64, ember.complex64])
def test_randn_moments(dtype):
    x = ember.randn(100, 1000, dtype=dtype)
    assert x.dtype is dtype and x.shape == (100, 1000)
    v = _np(x)
    assert abs(v.mean()) < 0.01 and abs(numpy.sqrt((numpy.abs(v) ** 2).mean()) - 1) < 0.01


def test_sizes_and_kwargs():
    assert ember.rand(2, 3).shape == (2, 3) and ember.rand((2, 3)).shape == (2, 3)
    assert ember.rand([]).shape == () and ember.randn(0).shape == (0,)
    assert ember.rand(2, requires_grad=True).requires_grad
    assert ember.get_default_dtype() is ember.rand(1).dtype
    out = ember.empty(3)
    assert ember.randn(3, out=out) is out


def test_randint():
    x = ember.randint(3, 10, (N,))
    assert x.dtype is ember.int64 and int(x.min()) == 3 and int(x.max()) == 9
    assert abs(_np(x).mean() - 6) < 0.05
    y = ember.randint(5, (2, 3), dtype=ember.float32)
    assert y.dtype is ember.float32 and y.shape == (2, 3)
    z = ember.randint_like(ember.zeros(4, dtype=ember.int32), 2)
    assert z.dtype is ember.int32 and set(_np(z).tolist()) <= {0, 1}
    assert ember.randint(high=4, size=(2,)).shape == (2,)


def test_randperm():
    p = ember.randperm(1000)
    assert p.dtype is ember.int64
    numpy.testing.assert_array_equal(numpy.sort(_np(p)), numpy.arange(1000))
    assert ember.randperm(0).shape == (0,)
    assert ember.randperm(5, dtype=ember.float64).dtype is ember.float64


def test_like_functions():
    base = ember.zeros(3, 4, dtype=ember.float64)
    for fn in (ember.rand_like, ember.randn_like):
        x = fn(base)
        assert x.shape == (3, 4) and x.dtype is ember.float64
    assert ember.rand_like(base, dtype=ember.float32).dtype is ember.float32


def test_normal_overloads():
    mean, std = ember.full((N,), 2.0), ember.full((N,), 3.0)
    for x in (ember.normal(mean, std), ember.normal(2.0, std), ember.normal(mean, 3.0), ember.normal(2.0, 3.0, (N,))):
        assert x.shape == (N,) and x.dtype is ember.float32
        assert abs(_np(x).mean() - 2) < 0.05 and abs(_np(x).std() - 3) < 0.05
    assert ember.normal(ember.zeros(2, 1), ember.ones(3)).shape == (2, 3)
    assert ember.normal(0.0, ember.ones(2, dtype=ember.float64)).dtype is ember.float64
    assert ember.normal(0.0, 1.0, (2,), dtype=ember.float64).dtype is ember.float64


def test_normal_gives_mean_and_std_zero_gradients_as_torch():
    grads = []
    for lib in (torch, ember):
        mean = lib.zeros(5, requires_grad=True)
        std = lib.ones(5, requires_grad=True)
        x = lib.normal(mean, std)
        assert x.grad_fn is not None
        x.sum().backward()
        grads.append((_np(mean.grad), _np(std.grad)))
    for got, want in zip(grads[1], grads[0]):
        numpy.testing.assert_array_equal(got, want)


def test_bernoulli():
    p = ember.full((N,), 0.3, dtype=ember.float64)
    x = ember.bernoulli(p)
    assert x.dtype is ember.float64 and set(numpy.unique(_np(x)).tolist()) <= {0.0, 1.0}
    assert abs(_np(x).mean() - 0.3) < 0.01
    assert abs(_np(ember.bernoulli(ember.zeros(N), 0.8)).mean() - 0.8) < 0.01
    assert abs(_np(p.bernoulli()).mean() - 0.3) < 0.01
    assert float(ember.bernoulli(ember.ones(10)).sum()) == 10


def test_multinomial():
    weights = ember.tensor([1.0, 2.0, 3.0, 0.0])
    draws = ember.multinomial(weights, N, replacement=True)
    assert draws.dtype is ember.int64 and draws.shape == (N,)
    counts = numpy.bincount(_np(draws), minlength=4) / N
    numpy.testing.assert_allclose(counts, [1 / 6, 2 / 6, 3 / 6, 0], atol=0.01)
    rows = ember.multinomial(ember.tensor([[1.0, 1, 1, 1, 1], [0, 0, 5, 0, 1]]), 2)
    assert rows.shape == (2, 2)
    assert len(set(_np(rows)[0].tolist())) == 2 and set(_np(rows)[1].tolist()) == {2, 4}
    for _ in range(20):
        picked = _np(ember.multinomial(ember.rand(50) + 0.01, 50))
        numpy.testing.assert_array_equal(numpy.sort(picked), numpy.arange(50))
    assert weights.multinomial(2).shape == (2,)


def test_poisson():
    x = ember.poisson(ember.full((N,), 4.0))
    assert x.dtype is ember.float32 and abs(_np(x).mean() - 4) < 0.05 and abs(_np(x).var() - 4) < 0.1


@pytest.mark.parametrize("method, args, mean, var", [
    ("normal_", (1.0, 2.0), 1.0, 4.0),
    ("uniform_", (-1.0, 3.0), 1.0, 16 / 12),
    ("exponential_", (2.0,), 0.5, 0.25),
    ("geometric_", (0.25,), 4.0, 0.75 / 0.0625),
    ("log_normal_", (0.0, 0.5), numpy.exp(0.125), (numpy.exp(0.25) - 1) * numpy.exp(0.25)),
    ("bernoulli_", (0.25,), 0.25, 0.1875),
])
def test_inplace_fills(method, args, mean, var):
    x = ember.zeros(N, dtype=ember.float64)
    version = x._version
    assert getattr(x, method)(*args) is x
    assert x._version > version
    v = _np(x)
    assert abs(v.mean() - mean) < 0.03 * max(1, mean) and abs(v.var() - var) < 0.05 * max(1, var)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("fill", ["uniform_", "normal_"])
def test_fills_draw_in_place_in_memory_order_as_torch(fill, dtype):
    for make in (lambda lib: lib.empty(4, 6, dtype=getattr(lib, dtype)),
                 lambda lib: lib.empty(6, 4, dtype=getattr(lib, dtype)).t()):
        torch.manual_seed(7)
        expected = getattr(make(torch), fill)(-1, 2).numpy()
        target = make(ember)
        address, version = target.data_ptr(), target._version
        ember.manual_seed(7)
        assert getattr(target, fill)(-1, 2) is target
        assert target.data_ptr() == address and target._version == version + 1
        numpy.testing.assert_array_equal(_np(target), expected)


def test_cauchy_and_random_():
    x = ember.zeros(N).cauchy_(1.0, 2.0)
    assert abs(numpy.median(_np(x)) - 1) < 0.05
    y = ember.zeros(N, dtype=ember.int64).random_(3, 7)
    assert int(y.min()) == 3 and int(y.max()) == 6
    assert int(ember.zeros(N, dtype=ember.int64).random_(4).max()) == 3
    z = ember.zeros(1000, dtype=ember.uint8).random_()
    assert 200 < int(z.max()) <= 255
    assert float(ember.zeros(N).random_().max()) <= 2 ** 24
    assert ember.zeros(4).uniform_(**{"from": 2, "to": 3}).min() >= 2
    assert set(_np(ember.zeros(100, dtype=ember.bool).random_()).tolist()) == {False, True}


def test_generator_reproducibility():
    g = ember.Generator()
    assert g.initial_seed() == 67280421310721 and g.device == ember.device("cpu")
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    a = ember.rand(5, generator=g)
    g.manual_seed(5)
    numpy.testing.assert_array_equal(_np(a), _np(ember.rand(5, generator=g)))
    state = g.get_state()
    assert state.dtype is ember.uint8
    b = ember.randn(5, generator=g)
    ember.rand(3, generator=g)
    assert g.set_state(state) is g
    numpy.testing.assert_array_equal(_np(b), _np(ember.randn(5, generator=g)))
    new_seed = g.seed()
    assert g.initial_seed() == new_seed


@pytest.mark.parametrize("sample", [
    lambda: ember.rand(4), lambda: ember.randn(4), lambda: ember.randint(0, 100, (4,)), lambda: ember.randperm(10),
    lambda: ember.normal(ember.zeros(4), 1.0), lambda: ember.bernoulli(ember.full((4,), 0.5)),
    lambda: ember.multinomial(ember.ones(10), 3), lambda: ember.poisson(ember.ones(4)),
    lambda: ember.zeros(4).uniform_(), lambda: ember.zeros(4).exponential_(),
])
def test_manual_seed_repeats(sample):
    assert isinstance(ember.manual_seed(123), ember.Generator)
    first = _np(sample())
    ember.manual_seed(123)
    numpy.testing.assert_array_equal(first, _np(sample()))
    assert ember.initial_seed() == 123


def test_global_state_and_fork_rng():
    import ember.random
    ember.manual_seed(0)
    state = ember.get_rng_state()
    a = _np(ember.rand(3))
    ember.set_rng_state(state)
    numpy.testing.assert_array_equal(a, _np(ember.rand(3)))
    ember.random.manual_seed(1)
    with ember.random.fork_rng():
        ember.rand(10)
    after_fork = _np(ember.rand(3))
    ember.random.manual_seed(1)
    numpy.testing.assert_array_equal(after_fork, _np(ember.rand(3)))
    assert ember.seed() == ember.initial_seed()
    assert ember.manual_seed(-1).initial_seed() == 2 ** 64 - 1


@pytest.mark.parametrize("fn", [
    lambda lib: lib.rand(2, dtype=lib.int64),
    lambda lib: lib.randn(2, dtype=lib.int32),
    lambda lib: lib.randint(5, 5, (2,)),
    lambda lib: lib.normal(lib.zeros(2), lib.tensor([-1.0, 1.0])),
    lambda lib: lib.normal(0.0, -1.0, (2,)),
    lambda lib: lib.bernoulli(lib.tensor([1.5])),
    lambda lib: lib.multinomial(lib.tensor([-1.0, 1.0]), 1),
    lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1),
    lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), 3),
    lambda lib: lib.multinomial(lib.zeros(2, 2, 2), 1),
    lambda lib: lib.zeros(2, dtype=lib.int64).uniform_(),
    lambda lib: lib.zeros(2, dtype=lib.int64).normal_(),
    lambda lib: lib.randperm(-1),
    lambda lib: lib.set_rng_state(lib.zeros(3, dtype=lib.uint8)),
    lambda lib: lib.set_rng_state(lib.zeros(3)),
    lambda lib: lib.zeros(2, requires_grad=True).normal_(),
])
def test_errors_match_torch(fn):
    oracle.check_error(fn)


@pytest.mark.parametrize("args, kwargs", [((0, 1, 2), {}), ((0, 1, 2.0), {}), (("mean", 1, (2,)), {}),
                                          (("mean",), {"size": (2,)})], ids=str)
def test_normal_size_outside_pytorchs_signatures_is_refused(args, kwargs):
    """normal takes a size (a tuple of ints) only with number mean and std: an int size (normal(0, 1, 2), a
    common slip for (2,)) or a size beside tensor means raises PyTorch's invalid-combination TypeError."""
    def call(t):
        return t.normal(*(t.zeros(2) if a == "mean" else a for a in args), **kwargs)
    oracle.check_same_error(call)


def test_normal_takes_0d_tensors_beside_a_size_as_numbers_as_torch():
    """0-d tensors that need no gradient are the floats of normal(float mean, float std, size) (torch-audiomentations'
    colored noise calls normal(tensor(0.), tensor(1.), (n,))); one that needs a gradient is refused."""
    calls = [lambda t: t.normal(t.tensor(0.5), t.tensor(2.0), (5,)), lambda t: t.normal(t.tensor(1), 3.0, [2, 3]),
             lambda t: t.normal(-1.0, t.tensor(0.25, dtype=t.float64), (4,), dtype=t.float64)]
    for call in calls:
        torch.manual_seed(3)
        theirs = call(torch)
        ember.manual_seed(3)
        ours = call(ember)
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype)[-7:] == str(theirs.dtype)[-7:]
        numpy.testing.assert_allclose(_np(ours), theirs.numpy(), rtol=1e-6)
    oracle.check_same_error(lambda t: t.normal(t.tensor(0.0, requires_grad=True), 1.0, (2,)))


@pytest.mark.parametrize("args, kwargs", [((0, 10, 3), {}), ((10, 3), {}), ((10,), {"size": 3})], ids=str)
def test_randint_int_size_is_refused_as_pytorch(args, kwargs):
    """randint's size is a tuple of ints: randint(0, 10, 3) raises PyTorch's TypeError (and draws nothing)."""
    oracle.check_same_error(lambda t: t.randint(*args, **kwargs))
    ember.manual_seed(0)
    state = ember.get_rng_state()
    with pytest.raises(TypeError):
        ember.randint(*args, **kwargs)
    assert ember.equal(ember.get_rng_state(), state)


def test_generators_pickle_and_copy_as_torchs():
    # torch pickles a generator as torch._C.Generator(device) with (seed, offset, state) set on it
    theirs, ours = torch.Generator().manual_seed(11), ember.Generator().manual_seed(11)
    torch.randn(7, generator=theirs), ember.randn(7, generator=ours)
    assert ember.Generator.__module__ == torch.Generator.__module__.replace("torch", "ember")
    for copy_of in (lambda g: pickle.loads(pickle.dumps(g)), copy.deepcopy):
        got, expected = copy_of(ours), copy_of(theirs)
        assert type(got) is ember.Generator and got.initial_seed() == expected.initial_seed() == 11
        assert ember.randn(4, generator=got).tolist() == torch.randn(4, generator=expected).tolist()
    seed, offset, state = theirs.__reduce__()[2]
    restored = ember.Generator()
    restored.__setstate__((seed, offset, ember.tensor(state.numpy())))
    assert ember.rand(3, generator=restored).tolist() == torch.rand(3, generator=theirs).tolist()
