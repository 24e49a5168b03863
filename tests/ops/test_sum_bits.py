"""Float32 and float64 sums with PyTorch's bits (ATen's cascade_sum and its TensorIterator plan): raw bits over the
last, a middle, the first, several and all dims, keepdim, transposed and sliced inputs, sizes 1..5000, NaN and
inf, one and two threads; the ops built on Sum (mean, mean-reduced losses, broadcast gradients, linear's bias); float32
var/std, which PyTorch accumulates in double."""
import contextlib

import numpy
import pytest
import torch

import ember


def _bits(array):
    """Raw bits, with every NaN as one pattern (payloads are not compared)."""
    array = numpy.ascontiguousarray(array)
    bits = array.view(numpy.uint32 if array.dtype == numpy.float32 else numpy.uint64).copy()
    bits[numpy.isnan(array)] = 0
    return bits


def assert_bits(mine, theirs):
    mine, theirs = mine.detach().numpy(), theirs.detach().numpy()
    assert mine.dtype == theirs.dtype and mine.shape == theirs.shape
    differ = _bits(mine) != _bits(theirs)
    assert not differ.any(), f"{int(differ.sum())} of {differ.size} elements differ"


@contextlib.contextmanager
def threads(count):
    """Both libraries on ``count`` threads, restored after."""
    before = (torch.get_num_threads(), ember.get_num_threads())
    torch.set_num_threads(count)
    ember.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        ember.set_num_threads(before[1])


@pytest.fixture(autouse=True)
def _same_threads():
    """ember on torch's thread count (the suite runs torch on one), as large sums split by it."""
    with threads(torch.get_num_threads()):
        yield


def _data(shape, dtype, seed):
    rng = numpy.random.default_rng(seed)
    # magnitudes spread over several decades, so that the order of adds shows in the last bits
    return (rng.standard_normal(shape) * numpy.exp(rng.standard_normal(shape) * 2)).astype(dtype)


def _layouts(array):
    """The array as given, transposed (the same values in a reversed memory order) and sliced (every other
    element of a wider array along the last dim)."""
    yield "contiguous", array, lambda t: t
    yield "transposed", numpy.ascontiguousarray(array.T), lambda t: t.permute(*reversed(range(t.ndim)))
    wide = numpy.repeat(array, 2, axis=-1) if array.ndim else array
    yield "sliced", wide, (lambda t: t[..., ::2]) if array.ndim else (lambda t: t)


def _check_sum(array, dims, keepdim=False, op="sum"):
    for name, stored, view in _layouts(array):
        mine = getattr(view(ember.from_numpy(stored)), op)(dims, keepdim=keepdim)
        theirs = getattr(view(torch.from_numpy(stored)), op)(dims, keepdim=keepdim)
        assert_bits(mine, theirs)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_one_dim_sizes(dtype):
    sizes = list(range(1, 70)) + [127, 128, 129, 255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025, 2047, 4095,
                                  4096, 4097, 5000]
    for n in sizes:
        x = _data(n, dtype, n)
        assert_bits(ember.from_numpy(x).sum(), torch.from_numpy(x).sum())
        assert_bits(ember.from_numpy(x)[1::3].sum(), torch.from_numpy(x)[1::3].sum())


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_sums_over_trailing_dims_of_contiguous_arrays(dtype):
    """Full sums of contiguous arrays of several shapes and sums over their last dims (with and without keepdim),
    sizes around a vector's lanes and the 1,024 vectors up to which a row's cascade takes at most two levels."""
    lanes = 32 // numpy.dtype(dtype).itemsize
    for n in (lanes - 1, lanes, 4 * lanes + 3, 64 * lanes + 5, 1024 * lanes - 1, 1024 * lanes, 1024 * lanes + 1):
        x = _data(n, dtype, n)
        for shape in [(n,), (1, n), (n, 1), (1, 1, n)] + [(k, n // k) for k in (3, 5) if n % k == 0]:
            for keepdim in (False, True):
                mine = ember.from_numpy(x.reshape(shape)).sum(tuple(range(len(shape))), keepdim=keepdim)
                assert_bits(mine, torch.from_numpy(x.reshape(shape)).sum(tuple(range(len(shape))), keepdim=keepdim))
            assert_bits(ember.from_numpy(x.reshape(shape)).mean(), torch.from_numpy(x.reshape(shape)).mean())
        rows = _data((3, 2, n), dtype, n + 1)   # sums over the trailing dims of several rows
        for dims in [(2,), (1, 2)]:
            for keepdim in (False, True):
                assert_bits(ember.from_numpy(rows).sum(dims, keepdim=keepdim),
                            torch.from_numpy(rows).sum(dims, keepdim=keepdim))


SHAPES = [((100, 10), (1,)), ((100, 10), (0,)), ((3, 40), (1,)), ((3, 40), (0,)), ((3, 40), (0, 1)),
          ((32, 128, 64), (0,)), ((32, 128, 64), (1,)), ((32, 128, 64), (2,)), ((32, 128, 64), (0, 2)),
          ((64, 784), (0,)), ((64, 784), (1,)), ((7, 5, 3), (1,)), ((7, 5, 3), (0, 2)), ((2, 3, 4, 5), (1, 3)),
          ((5000, 3), (0,)), ((3, 5000), (1,)), ((17, 65), (0,)), ((130, 67), (0,)), ((33, 33, 33), (1,)),
          ((8, 3, 30, 30), (0, 2, 3)), ((300, 300), (0, 1)), ((5, 1, 70), (0,)), ((1, 1, 9), (2,))]


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("shape,dims", SHAPES)
def test_dims_and_layouts(shape, dims, dtype):
    x = _data(shape, dtype, sum(shape))
    _check_sum(x, dims)
    _check_sum(x, dims, keepdim=True)


@pytest.mark.parametrize("shape,dims", [((100, 10), (1,)), ((64, 784), (0,)), ((32, 8, 24), (0, 2)), ((50,), (0,))])
def test_mean(shape, dims):
    """PyTorch's CPU mean is the sum divided by the count."""
    _check_sum(_data(shape, numpy.float32, 3), dims, op="mean")
    x = _data(shape, numpy.float32, 4)
    assert_bits(ember.from_numpy(x).mean(), torch.from_numpy(x).mean())


def test_nan_and_inf():
    x = _data((40, 37), numpy.float32, 5)
    x[3, 4], x[10, :] = numpy.nan, numpy.inf
    x[20, 5], x[20, 6] = numpy.inf, -numpy.inf
    for dims in [(0,), (1,), (0, 1)]:
        _check_sum(x, dims)


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("shape,dims", [((300000,), (0,)), ((300, 300), (0, 1)), ((100, 740), (0,)),
                                        ((41, 1000), (1,)), ((3, 20000), (0, 1)), ((50, 40, 30), (0, 2))])
def test_threads(shape, dims, count):
    """Large sums split across threads: a full sum sums each thread's range then the threads' sums; other sums
    split the kept dims, which changes how the columns of a split outer sum group."""
    with threads(count):
        _check_sum(_data(shape, numpy.float32, count), dims)


def test_dtype_argument():
    x = _data((30, 50), numpy.float32, 6)
    assert_bits(ember.from_numpy(x).sum(1, dtype=ember.float64), torch.from_numpy(x).sum(1, dtype=torch.float64))
    i = numpy.arange(-50, 70, dtype=numpy.int64).reshape(6, 20) ** 3
    assert_bits(ember.from_numpy(i).sum(0, dtype=ember.float32), torch.from_numpy(i).sum(0, dtype=torch.float32))


def test_losses_and_gradients():
    """Mean-reduced losses, the broadcast reduction of a gradient and linear's bias gradient add as Sum does."""
    x, y = _data((64, 100), numpy.float32, 7), _data((64, 100), numpy.float32, 8)
    for loss in ("mse_loss", "l1_loss", "smooth_l1_loss"):
        mine = getattr(ember.nn.functional, loss)(ember.from_numpy(x), ember.from_numpy(y))
        assert_bits(mine, getattr(torch.nn.functional, loss)(torch.from_numpy(x), torch.from_numpy(y)))
    c, g = _data((64, 1), numpy.float32, 9), _data((64, 100), numpy.float32, 10)
    w, b = _data((30, 100), numpy.float32, 11), _data(30, numpy.float32, 12)
    grads = []
    for lib in (ember, torch):
        scale = lib.from_numpy(c).requires_grad_()
        (lib.from_numpy(x) * scale).backward(lib.from_numpy(g))
        weight, bias = lib.from_numpy(w).requires_grad_(), lib.from_numpy(b).requires_grad_()
        lib.nn.functional.linear(lib.from_numpy(x), weight, bias).sum().backward()
        grads.append((scale.grad, bias.grad))
    for mine, theirs in zip(*grads):
        assert_bits(mine, theirs)


@pytest.mark.parametrize("shape,dim", [((100, 10), 1), ((64, 784), 0), ((3, 40), None), ((5, 6, 7), (0, 2)),
                                       ((50, 30), 0)])
def test_float32_variance(shape, dim):
    """PyTorch's float32 var/std accumulate in double and round once; their gradients are var_backward's and
    std_backward's. var_mean's and std_mean's mean is its Welford mean in double rounded once: ember's mean in
    double may round the other way (within an ulp)."""
    x = _data(shape, numpy.float32, 13)
    ops = [lambda lib, t: (t.var(dim),), lambda lib, t: (t.std(dim, correction=0),),
           lambda lib, t: lib.var_mean(t, dim), lambda lib, t: lib.std_mean(t, dim, keepdim=True)]
    for op in ops:
        results = []
        for lib in (ember, torch):
            t = lib.from_numpy(x).requires_grad_()
            outputs = op(lib, t)
            sum(output.sum() for output in outputs).backward()
            results.append(list(outputs) + [t.grad])
        for index, (mine, theirs) in enumerate(zip(*results)):
            if index == 1 and len(results[0]) == 3:   # a mean
                numpy.testing.assert_array_max_ulp(mine.detach().numpy(), theirs.detach().numpy(), 1)
            else:
                assert_bits(mine, theirs)


def test_float32_variance_without_degrees_of_freedom():
    x = _data((4, 1), numpy.float32, 14)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert_bits(ember.from_numpy(x).var(1), torch.from_numpy(x).var(1))   # 0 / 0: NaN
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert_bits(ember.from_numpy(x).std(0, correction=5), torch.from_numpy(x).std(0, correction=5))


@pytest.mark.parametrize("source,shape,dims", [((3, 1), (3, 40), (1,)), ((1, 40), (30, 40), (0,)),
                                               ((5, 1, 7), (5, 20, 7), (0, 2)), ((200, 1), (200, 300), (0, 1))])
def test_expanded_inputs(source, shape, dims):
    """Broadcast (stride 0) dims are ordered and coalesced as TensorIterator does."""
    x = _data(source, numpy.float32, 15)
    for keepdim in (False, True):
        assert_bits(ember.from_numpy(x).expand(*shape).sum(dims, keepdim=keepdim),
                    torch.from_numpy(x).expand(*shape).sum(dims, keepdim=keepdim))


@pytest.mark.parametrize("dims", [(0, 2, 3), (1,), (2, 3), (0,)])
def test_channels_last(dims):
    x = _data((8, 16, 10, 10), numpy.float32, 16)
    assert_bits(ember.from_numpy(x).to(memory_format=ember.channels_last).sum(dims),
                torch.from_numpy(x).to(memory_format=torch.channels_last).sum(dims))


@pytest.mark.parametrize("shape,dims", [((100, 10), (1,)), ((64, 784), (0,)), ((5000,), (0,)), ((32, 16, 64), (0, 2))])
def test_nansum_and_nanmean(shape, dims):
    """PyTorch's nansum is cascade_sum loading NaNs as zeros: Sum of the zeroed input."""
    x = _data(shape, numpy.float32, 17)
    x[numpy.random.default_rng(18).random(shape) < 0.1] = numpy.nan
    for name in ("nansum", "nanmean"):
        assert_bits(getattr(ember, name)(ember.from_numpy(x), dims), getattr(torch, name)(torch.from_numpy(x), dims))
