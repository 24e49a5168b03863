"""ember's random streams against PyTorch's CPU generator: after the same seed, every sampler returns exactly
PyTorch's values (not within a tolerance) and leaves the generator in exactly PyTorch's state."""
import numpy
import pytest
import torch

import ember
from tests import oracle

SEEDS = (0, 1, 2024)
SIZES = (1, 2, 15, 16, 17, 33, 100, 1000, 10000)
FLOATS = ("float32", "float64")


def _both(make, seed=0):
    """``make(lib)`` run after ``lib.manual_seed(seed)`` in both libraries: the two results as arrays."""
    torch.manual_seed(seed)
    expected = make(torch)
    ember.manual_seed(seed)
    got = make(ember)
    return oracle.as_numpy(got), expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected


def _assert_same_stream(make, seeds=SEEDS, sizes=SIZES):
    for seed in seeds:
        for n in sizes:
            got, expected = _both(lambda lib, n=n: make(lib, n), seed)
            assert got.dtype == expected.dtype and got.shape == expected.shape, (seed, n)
            numpy.testing.assert_array_equal(got, expected, err_msg=f"seed {seed}, size {n}")
            numpy.testing.assert_array_equal(oracle.as_numpy(ember.get_rng_state()), torch.get_rng_state().numpy(),
                                             err_msg=f"generator state after seed {seed}, size {n}")


def _float(lib, name):
    return getattr(lib, name)


@pytest.mark.parametrize("dtype", FLOATS + ("float16", "bfloat16"))
def test_rand_and_uniform_(dtype):
    def make(lib, n):
        d = _float(lib, dtype)
        return lib.cat([lib.rand(n, dtype=d), lib.empty(n, dtype=d).uniform_(-0.37, 1.9)]).float()
    _assert_same_stream(make)


@pytest.mark.parametrize("dtype", FLOATS + ("float16", "bfloat16"))
def test_randn_and_normal_(dtype):
    """Sizes below 16 take PyTorch's serial Box-Muller (with its cached second value), 16 and more its blocked
    fill (float32: the AVX2 kernel's Cephes log/sincos); 17 and 33 recompute a partial last block."""
    def make(lib, n):
        d = _float(lib, dtype)
        return lib.cat([lib.randn(n, dtype=d), lib.empty(n, dtype=d).normal_(0.3, 2.1), lib.randn(3, dtype=d)]).float()
    _assert_same_stream(make)


@pytest.mark.parametrize("dtype", FLOATS)
def test_normal_of_non_contiguous_tensors_fills_in_memory_order(dtype):
    _assert_same_stream(lambda lib, n: lib.empty(5, n, dtype=_float(lib, dtype)).t().normal_(), sizes=(1, 7, 40))


def test_fills_of_transposed_tensors_follow_memory_order():
    probabilities = numpy.random.default_rng(0).random((5, 7)).astype(numpy.float32)
    _assert_same_stream(lambda lib, n: lib.cat([lib.empty(7, 5).t().bernoulli_(lib.tensor(probabilities)),
                                                lib.empty(7, 5).t().uniform_(), lib.empty(7, 5).t().exponential_(),
                                                lib.empty(7, 5).t().random_(0, 9)]), sizes=(1,))


@pytest.mark.parametrize("low, high", [(0, 10), (-5, 3), (0, 2 ** 28 - 1), (0, 2 ** 28), (-2 ** 40, 2 ** 40),
                                       (3, 2 ** 62)])
def test_randint(low, high):
    """Ranges of 2**28 and more draw 64-bit outputs, smaller ones 32-bit outputs."""
    _assert_same_stream(lambda lib, n: lib.randint(low, high, (n,)), sizes=(1, 17, 1000))


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("low, high", [(0, 2 ** 28), (0, 2 ** 31), (-2 ** 31, 2 ** 31), (0, 2 ** 32 - 1), (0, 2 ** 32),
                                       (0, 2 ** 32 + 1), (5, 2 ** 33), (-2 ** 40 - 7, 2 ** 40), (-2 ** 60, 3)])
def test_randint_of_floats_over_wide_ranges(dtype, low, high):
    """Float dtypes first move ``from``/``to`` to integers the dtype holds (PyTorch's update_from/update_to), then
    draw as integers do; ends beyond the dtype's exact integers warn as PyTorch does."""
    def make(lib, n):
        d = getattr(lib, dtype)
        return lib.cat([lib.randint(low, high, (n,), dtype=d), lib.empty(n, dtype=d).random_(low, high)]).double()
    exact = {"float32": 2 ** 24, "float64": 2 ** 53, "bfloat16": 2 ** 8}[dtype]
    if max(-low, high - 1) > exact:
        with pytest.warns(UserWarning, match=r"out of bounds \[-\(2\^"):
            _assert_same_stream(make, sizes=(1, 17, 1000))
    else:
        _assert_same_stream(make, sizes=(1, 17, 1000))


@pytest.mark.parametrize("dtype, low, high, message", [
    ("int32", 0, 2 ** 32, "to - 1 is out of bounds for int"), ("int8", -129, 0, "from is out of bounds for signed char"),
    ("uint8", 0, 257, "to - 1 is out of bounds for unsigned char"), ("bool", 0, 3, "to - 1 is out of bounds for bool"),
    ("float16", 0, 2 ** 17, "to - 1 is out of bounds for c10::Half"), ("int64", 5, 5, "from=5 >= to=5")])
def test_randint_bounds_are_checked_as_torch(dtype, low, high, message):
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match=message):
            lib.randint(low, high, (3,), dtype=getattr(lib, dtype))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool", "float32", "float64"])
def test_random_(dtype):
    def make(lib, n):
        d = getattr(lib, dtype)
        parts = [lib.empty(n, dtype=d).random_(), lib.randint(0, 2, (n,), dtype=d)]
        if dtype not in ("bool", "uint8"):
            parts.append(lib.empty(n, dtype=d).random_(-3, 100))
        return lib.cat(parts)
    _assert_same_stream(make, sizes=(1, 17, 1000))


def test_random_from_without_to_and_full_range():
    _assert_same_stream(lambda lib, n: lib.cat([lib.empty(n, dtype=lib.int64).random_(-10, None),
                                                lib.empty(n, dtype=lib.int64).random_(-2 ** 63, None)]),
                        sizes=(1, 100))


def test_randperm():
    _assert_same_stream(lambda lib, n: lib.randperm(n), sizes=(0, 1, 2, 3, 10, 100, 1000, 10000, 60000))
    _assert_same_stream(lambda lib, n: lib.randperm(n, dtype=lib.float64), sizes=(5,))


@pytest.mark.parametrize("dtype", FLOATS)
def test_bernoulli(dtype):
    def make(lib, n):
        d = _float(lib, dtype)
        p = lib.arange(n, dtype=d) / n
        return lib.cat([lib.bernoulli(p), lib.empty(n, dtype=d).bernoulli_(0.3), lib.bernoulli(p, 0.7),
                        lib.empty(n, dtype=d).bernoulli_(p)])
    _assert_same_stream(make)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("fill, args", [("exponential_", (2.5,)), ("geometric_", (0.2,)), ("cauchy_", (0.1, 2.0)),
                                        ("log_normal_", (0.1, 0.5))])
def test_distribution_fills(fill, args, dtype):
    _assert_same_stream(lambda lib, n: getattr(lib.empty(n, dtype=_float(lib, dtype)), fill)(*args),
                        sizes=(1, 16, 17, 1000))


@pytest.mark.parametrize("dtype", FLOATS)
def test_normal_tensor_forms(dtype):
    def make(lib, n):
        d = _float(lib, dtype)
        mean = lib.arange(n, dtype=d) / n - 0.5
        std = lib.arange(n, dtype=d) / n + 0.1
        return lib.cat([lib.normal(mean, std), lib.normal(mean, 0.7), lib.normal(0.4, std),
                        lib.normal(0.5, 2.0, (n,), dtype=d)])
    _assert_same_stream(make, sizes=(1, 15, 16, 17, 1000))


@pytest.mark.parametrize("dtype", FLOATS)
def test_like_functions_and_complex(dtype):
    def make(lib, n):
        base = lib.zeros(n, dtype=_float(lib, dtype))
        return lib.cat([lib.rand_like(base), lib.randn_like(base), lib.randint_like(base, 3, 9),
                        lib.view_as_real(lib.randn(n, dtype=lib.complex64)).reshape(-1).to(base.dtype),
                        lib.view_as_real(lib.rand(n, dtype=lib.complex128)).reshape(-1).to(base.dtype)])
    _assert_same_stream(make, sizes=(1, 8, 17, 100))


@pytest.mark.parametrize("dtype", FLOATS)
def test_multinomial(dtype):
    def make(lib, n):
        weights = lib.rand(3, n + 5, dtype=_float(lib, dtype))
        return lib.cat([lib.multinomial(weights, min(n, 5)), lib.multinomial(weights, n, True),
                        lib.multinomial(weights, 1), lib.multinomial(weights[0], 2)[None].expand(3, 2)], 1)
    _assert_same_stream(make, sizes=(1, 5, 100))


def test_poisson():
    _assert_same_stream(lambda lib, n: lib.poisson(lib.arange(n, dtype=lib.float64) * (40.0 / n)), sizes=(1, 10, 500))


@pytest.mark.parametrize("dtype", FLOATS)
def test_binomial(dtype):
    # inversion below 10 expected successes of the rarer outcome, BTRS above, p > 0.5 by symmetry, edge counts and
    # probabilities; float32 inputs round their own arithmetic to float32
    def make(lib, n):
        index = lib.arange(n, dtype=lib.float64)
        counts = lib.cat([(index * 37) % 900, lib.tensor([0.0, 5.0, 10.0, 1e6, 3.0, 40.0], dtype=lib.float64)])
        probs = lib.cat([(index * 0.61803) % 1, lib.tensor([0.5, 0.0, 1.0, 0.3, 1e-9, 0.75], dtype=lib.float64)])
        kind = _float(lib, dtype)
        return lib.binomial(counts.to(kind), probs.to(kind))
    _assert_same_stream(make, sizes=(1, 10, 300))
    torch.manual_seed(0), ember.manual_seed(0)
    assert (ember.distributions.Binomial(10, ember.tensor([0.2, 0.7])).sample((4,)).tolist()
            == torch.distributions.Binomial(10, torch.tensor([0.2, 0.7])).sample((4,)).tolist())


def test_binomial_errors():
    oracle.check_error(lambda lib: lib.binomial(lib.tensor([10.0]), lib.tensor([0.5], dtype=lib.float64)))
    oracle.check_error(lambda lib: lib.binomial(lib.tensor([10.0], dtype=lib.half), lib.tensor([0.5], dtype=lib.half)))
    oracle.check_error(lambda lib: lib.binomial(lib.tensor([10]), lib.tensor([0.5])))


def test_generator_states_are_interchangeable_with_torch():
    mine, theirs = ember.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    numpy.testing.assert_array_equal(oracle.as_numpy(mine.get_state()), theirs.get_state().numpy())
    # An odd count of serial normals leaves a cached value in the state; a randint leaves the Twister mid-block.
    ember.randn(3, generator=mine, dtype=ember.float64), ember.randint(0, 9, (5,), generator=mine)
    torch.randn(3, generator=theirs, dtype=torch.float64), torch.randint(0, 9, (5,), generator=theirs)
    state = theirs.get_state()
    assert state.numel() == 5056
    numpy.testing.assert_array_equal(oracle.as_numpy(mine.get_state()), state.numpy())
    moved = ember.Generator().set_state(ember.tensor(state.numpy()))
    numpy.testing.assert_array_equal(oracle.as_numpy(ember.randn(5, generator=moved, dtype=ember.float64)),
                                     torch.randn(5, generator=theirs, dtype=torch.float64).numpy())
    back = torch.Generator().set_state(torch.from_numpy(oracle.as_numpy(moved.get_state())))
    numpy.testing.assert_array_equal(torch.rand(700, generator=back).numpy(),
                                     oracle.as_numpy(ember.rand(700, generator=moved)))


def test_seeds_and_global_functions_follow_torch():
    for seed in (0, 5, 2 ** 32 + 5, 2 ** 64 - 1, -1, -2 ** 63):
        got, expected = _both(lambda lib: lib.rand(4), seed)
        numpy.testing.assert_array_equal(got, expected)
        assert ember.initial_seed() == torch.initial_seed()
    assert ember.Generator().initial_seed() == torch.Generator().initial_seed() == 67280421310721
    for bad in (2 ** 64, -2 ** 63 - 1):
        with pytest.raises(ValueError):
            torch.manual_seed(bad)
        with pytest.raises(ValueError):
            ember.manual_seed(bad)
    fresh = ember.seed()
    assert 0 <= fresh < 2 ** 64 and ember.initial_seed() == fresh
    torch.manual_seed(3), ember.manual_seed(3)
    with ember.random.fork_rng(), torch.random.fork_rng():
        ember.rand(10), torch.rand(10)
    numpy.testing.assert_array_equal(oracle.as_numpy(ember.rand(3)), torch.rand(3).numpy())
    ember.set_rng_state(ember.tensor(torch.get_rng_state().numpy()))
    numpy.testing.assert_array_equal(oracle.as_numpy(ember.randn(20)), torch.randn(20).numpy())


def test_invalid_states_are_rejected_as_torch():
    state = torch.get_rng_state().numpy().copy()
    state[8:12] = 0   # left = 0
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        torch.set_rng_state(torch.from_numpy(state))
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        ember.set_rng_state(ember.tensor(state))
    with pytest.raises(RuntimeError, match="CPUGeneratorImplState of size 5056"):
        ember.set_rng_state(ember.zeros(56, dtype=ember.uint8))


def test_interleaved_calls_keep_the_streams_aligned():
    """rand, serial and blocked normals (the cache carried between calls), randint, layer initialisation,
    dropout and randperm, one after the other: each result and the final state equal PyTorch's."""
    def run(lib):
        results = [lib.rand(5), lib.randn(3, dtype=lib.float64), lib.randn(20), lib.randint(0, 7, (9,)),
                   lib.randn(1, dtype=lib.float64)]
        layer = lib.nn.Linear(13, 7)
        results += [layer.weight, layer.bias, lib.randperm(11).float()]
        results.append(lib.nn.functional.dropout(lib.ones(4, 9), 0.3))
        results += [lib.empty(6).normal_(), lib.nn.init.trunc_normal_(lib.empty(40)), lib.rand(2, dtype=lib.float64)]
        return [r.detach().double().reshape(-1) for r in results]
    torch.manual_seed(11)
    expected = [r.numpy() for r in run(torch)]
    ember.manual_seed(11)
    for got, want in zip(run(ember), expected):
        numpy.testing.assert_array_equal(oracle.as_numpy(got), want)
    numpy.testing.assert_array_equal(oracle.as_numpy(ember.get_rng_state()), torch.get_rng_state().numpy())


_LAYERS = {
    "Linear(784, 256)": lambda nn: nn.Linear(784, 256),
    "Conv2d": lambda nn: nn.Conv2d(3, 16, 3),
    "Conv1d groups": lambda nn: nn.Conv1d(4, 8, 5, groups=2),
    "ConvTranspose2d": lambda nn: nn.ConvTranspose2d(4, 6, 3),
    "LSTM": lambda nn: nn.LSTM(10, 20, num_layers=2, bidirectional=True),
    "GRU": lambda nn: nn.GRU(7, 5, batch_first=True),
    "Embedding": lambda nn: nn.Embedding(100, 16),
    "Bilinear": lambda nn: nn.Bilinear(3, 4, 5),
    "MultiheadAttention": lambda nn: nn.MultiheadAttention(16, 4),
    "TransformerEncoderLayer": lambda nn: nn.TransformerEncoderLayer(16, 4, 32),
}


@pytest.mark.parametrize("name", list(_LAYERS))
def test_layers_start_from_torchs_weights(name):
    torch.manual_seed(0)
    expected = {k: v.detach().numpy() for k, v in _LAYERS[name](torch.nn).state_dict().items()}
    ember.manual_seed(0)
    got = {k: oracle.as_numpy(v) for k, v in _LAYERS[name](ember.nn).state_dict().items()}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        numpy.testing.assert_array_equal(got[key], value, err_msg=key)
    numpy.testing.assert_array_equal(oracle.as_numpy(ember.get_rng_state()), torch.get_rng_state().numpy())


@pytest.mark.parametrize("init, args", [("uniform_", ()), ("normal_", ()), ("xavier_uniform_", ()),
                                        ("xavier_normal_", ()), ("kaiming_uniform_", ()), ("kaiming_normal_", ()),
                                        ("trunc_normal_", ()), ("trunc_normal_", (0.0, 1.0, -0.5, 0.5)),
                                        ("sparse_", (0.3,))])
def test_init_functions(init, args):
    _assert_same_stream(lambda lib, n: getattr(lib.nn.init, init)(lib.empty(30, n), *args), seeds=(0, 3),
                        sizes=(1, 20))


def test_orthogonal_draws_torchs_gaussian():
    """Same stream; the QR factorisation then rounds as NumPy's LAPACK does, not as PyTorch's."""
    got, expected = _both(lambda lib: lib.nn.init.orthogonal_(lib.empty(30, 20)))
    numpy.testing.assert_allclose(got, expected, atol=1e-5)
    numpy.testing.assert_array_equal(oracle.as_numpy(ember.get_rng_state()), torch.get_rng_state().numpy())


@pytest.mark.parametrize("name, args", [("dropout", (0.3,)), ("dropout", (0.5,)), ("dropout2d", (0.4,)),
                                        ("dropout3d", (0.4,)), ("alpha_dropout", (0.3, True)),
                                        ("feature_alpha_dropout", (0.3, True))])
def test_dropout_masks(name, args):
    x = numpy.random.default_rng(0).standard_normal((8, 6, 5, 4)).astype(numpy.float32)
    got, expected = _both(lambda lib: getattr(lib.nn.functional, name)(lib.tensor(x), *args))
    numpy.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name, args", [("dropout", (0.3,)), ("alpha_dropout", (0.3, True)),
                                        ("dropout2d", (0.4,))])
@pytest.mark.parametrize("layout", ["channels_last", "transposed", "permuted_3d", "sliced"])
def test_dropout_masks_follow_the_inputs_memory_order(name, args, layout):
    # PyTorch's noise is empty_like(input) filled in memory order: kornia's HardNet drops channels-last activations
    x = numpy.random.default_rng(0).standard_normal((4, 6, 5, 3)).astype(numpy.float32)

    def make(lib):
        t = lib.tensor(x)
        t = {"channels_last": lambda: t.contiguous(memory_format=lib.channels_last), "transposed": lambda: t[0, 0].t(),
             "permuted_3d": lambda: t[0].permute(2, 0, 1), "sliced": lambda: t[:, ::2]}[layout]()
        return getattr(lib.nn.functional, name)(t, *args)
    if name == "dropout2d" and layout in ("transposed", "permuted_3d"):
        return
    got, expected = _both(make)
    numpy.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", FLOATS)
def test_rrelu_slopes(dtype):
    x = numpy.random.default_rng(0).standard_normal((50, 40))
    x[0, :5] = 0
    got, expected = _both(lambda lib: lib.nn.functional.rrelu(lib.tensor(x, dtype=_float(lib, dtype)), 0.1, 0.3,
                                                               training=True))
    numpy.testing.assert_array_equal(got, expected)
    numpy.testing.assert_array_equal(oracle.as_numpy(ember.get_rng_state()), torch.get_rng_state().numpy())


def _loader_order(lib, generator_seed, **kwargs):
    dataset = lib.utils.data.TensorDataset(lib.arange(103))
    generator = None if generator_seed is None else lib.Generator().manual_seed(generator_seed)
    loader = lib.utils.data.DataLoader(dataset, batch_size=10, generator=generator, **kwargs)
    epochs = []
    for _ in range(3):
        epochs.append([batch[0].tolist() for batch in loader])
        epochs.append(lib.rand(2).tolist())   # the default generator keeps its place between epochs
    return epochs


@pytest.mark.parametrize("generator_seed", [None, 5])
def test_dataloader_shuffle_order(generator_seed):
    torch.manual_seed(0)
    expected = _loader_order(torch, generator_seed, shuffle=True)
    ember.manual_seed(0)
    assert _loader_order(ember, generator_seed, shuffle=True) == expected


def test_samplers_and_random_split():
    def draw(lib):
        data = lib.utils.data
        return (list(data.RandomSampler(range(50), replacement=True, num_samples=77)),
                list(data.WeightedRandomSampler([0.1, 0.5, 0.2, 0.2], 20)),
                list(data.SubsetRandomSampler([5, 6, 7, 8, 9])),
                [list(s) for s in data.random_split(range(10), [3, 7])],
                [list(s) for s in data.random_split(range(30), [0.3, 0.3, 0.4],
                                                    generator=lib.Generator().manual_seed(42))])
    torch.manual_seed(3)
    expected = draw(torch)
    ember.manual_seed(3)
    assert draw(ember) == expected


def _untemper(y):
    """The Twister state words whose tempered outputs are ``y`` (each tempering step inverted)."""
    y = y.astype(numpy.uint64)
    x = y ^ (y >> 18)
    z = x
    for _ in range(2):
        z = x ^ ((z << 15) & 0xEFC60000)
    x = z
    for _ in range(5):
        z = (x ^ ((z << 7) & 0x9D2C5680)) & 0xFFFFFFFF
    x = z
    for _ in range(3):
        z = x ^ (z >> 11)
    return z.astype(numpy.uint32)


def _state_drawing(words):
    """Generator state bytes whose next outputs are ``words`` (at most 623 of them)."""
    from ember.ops._mt19937 import Engine
    engine = Engine(0)
    engine.key = numpy.zeros(624, numpy.uint32)
    engine.key[:len(words)] = _untemper(words)
    engine.next, engine.left = 0, 624
    return engine.get_state()


def test_blocked_normal_matches_torch_on_chosen_uniforms():
    """The float32 Box-Muller kernel on chosen 24-bit uniforms (exhaustively checked by
    bench/check_randn_exhaustive.py): zero, the ends of every binade of 1 - u, both sides of the log's sqrt(0.5)
    mantissa split and of every sine octant, and random ones, each as radius and as angle."""
    top = 1 << 24
    edges = [0, 1, 2, 3, top - 1, top - 2]
    edges += [top - (1 << b) + d for b in range(24) for d in (-1, 0, 1)]            # 1 - u near powers of two
    edges += [top - ((0x3504F3 | 1 << 23) >> s) + d for s in range(20) for d in (-1, 0, 1)]   # near sqrt(0.5)
    edges += [(q << 21) + d for q in range(1, 8) for d in range(-3, 4)]              # octant boundaries
    chosen = numpy.array(edges + list(numpy.random.default_rng(0).integers(0, top, 6000)), numpy.int64) % top
    high = numpy.random.default_rng(1).integers(0, 256, len(chosen)) << 24             # ignored high bytes
    chosen = (chosen | high).astype(numpy.uint32)
    rows = 38   # 608 outputs: 304 radii and 304 angles per state
    for start in range(0, len(chosen), rows * 8):
        first = numpy.resize(chosen[start:start + rows * 8], rows * 8)
        second = numpy.roll(first, 1 + start // (rows * 8))
        words = numpy.concatenate([first.reshape(rows, 8), second.reshape(rows, 8)], 1).ravel()
        state = _state_drawing(words)
        torch.set_rng_state(torch.from_numpy(state))
        ember.set_rng_state(ember.tensor(state))
        for mean, std in ((0.0, 1.0), (0.5, 3.0)):
            expected = torch.empty(rows * 16).normal_(mean, std).numpy()
            got = oracle.as_numpy(ember.empty(rows * 16).normal_(mean, std))
            numpy.testing.assert_array_equal(got.view(numpy.uint32), expected.view(numpy.uint32))
