"""Kernels split over the intra-op threads give the same bits as one thread, and PyTorch's values.

Each case runs a forward and backward once on one thread and once on three threads with the split threshold
lowered to a few elements (so small shapes take the parallel path, cut into uneven parts), then compares the two
bit for bit and the three-thread result with PyTorch's.
"""
import numpy as np
import pytest
import torch

import ember
from ember.ops import _conv_blocked, _parallel


@pytest.fixture
def split(monkeypatch):
    """Returns run(build): build(lib, inputs) -> output, evaluated on 1 and 3 threads; asserts bit equality."""
    before = _parallel.num_threads()
    monkeypatch.setattr(_parallel, "MIN_ELEMENTS", 8)
    monkeypatch.setattr(_parallel, "BLOCK", 16)
    monkeypatch.setattr(_conv_blocked, "BLOCK_BYTES", 64)   # a sample a block
    cuts = []
    parallel_for = _parallel.parallel_for

    def watched(count, work, grain=1, **options):
        def record(start, stop):
            cuts.append((start, stop) != (0, count))
            work(start, stop)
        parallel_for(count, record, grain, **options)
    monkeypatch.setattr(_parallel, "parallel_for", watched)

    def run(build, *arrays, grad=True):
        results = []
        for threads in (1, 3):
            _parallel.set_num_threads(threads)
            cuts.clear()
            inputs = [ember.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
            out = build(ember, *inputs)
            values = [out.detach().numpy().copy()]
            if grad:
                out.backward(ember.from_numpy(np.cos(np.arange(out.numel(), dtype=out.detach().numpy().dtype))
                                              .reshape(out.shape)))
                values += [t.grad.numpy().copy() for t in inputs if t.requires_grad]
            results.append(values)
        assert any(cuts) or not arrays[0].size   # the kernels did run in parts (on whichever thread claimed each)
        _parallel.set_num_threads(before)
        for one, three in zip(*results):
            assert one.dtype == three.dtype and one.shape == three.shape
            np.testing.assert_array_equal(one.view(np.uint8), three.view(np.uint8))   # bits, not values
        inputs = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        out = build(torch, *inputs)
        expected = [out.detach().numpy()]
        if grad:
            out.backward(torch.from_numpy(np.cos(np.arange(out.numel(), dtype=expected[0].dtype)).reshape(out.shape)))
            expected += [t.grad.numpy() for t in inputs if t.requires_grad]
        for got, want in zip(results[1], expected):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    yield run
    _parallel.set_num_threads(before)


def _random(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("batch", [1, 5, 0])
@pytest.mark.parametrize("options", [
    {"kernel": 5, "padding": 2},                          # 5x5, wide map: columns from (C, N, *s)
    {"kernel": 3, "stride": 2, "padding": 1},             # strided, narrow map: batch-last columns
    {"kernel": 3, "padding": 1, "groups": 2},
    {"kernel": 3, "padding": 1, "groups": 4, "depthwise": True},
    {"kernel": 1},
])
def test_conv2d(split, batch, options):
    channels = 4 if options.get("depthwise") or options.get("groups") else 3
    groups = options.get("groups", 1)
    x = _random(batch, channels, 17, 19)
    w = _random(8, channels // groups, options["kernel"], options["kernel"], seed=1)
    b = _random(8, seed=2)

    def build(lib, x, w, b):
        return lib.nn.functional.conv2d(x, w, b, stride=options.get("stride", 1), padding=options.get("padding", 0),
                                        groups=groups)
    if batch == 0:
        split(build, x, w, b, grad=False)
    else:
        split(build, x, w, b)


@pytest.mark.parametrize("stride", [2, (2, 3)])
def test_depthwise_strided_input_gradient_in_chunks(split, stride):
    """The strided depthwise input gradient: the band's rows in chunks, each chunk's products added along whole
    planes, in parts of the channels."""
    split(lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=stride, padding=1, groups=6), _random(5, 6, 17, 19),
          _random(6, 1, 3, 3, seed=1))


def test_conv2d_one_input_channel_splits_the_batch(split):
    split(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=2), _random(7, 1, 20, 20), _random(6, 1, 5, 5))


def test_conv2d_of_a_non_contiguous_input(split):
    x = _random(6, 18, 3, 20)
    split(lambda lib, x, w: lib.nn.functional.conv2d(x.permute(0, 2, 1, 3), w, padding=1), x, _random(5, 3, 3, 3))


def test_conv_transpose2d(split):
    split(lambda lib, x, w: lib.nn.functional.conv_transpose2d(x, w, stride=2, padding=1), _random(5, 6, 9, 9),
          _random(6, 3, 4, 4))


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
def test_max_pool2d(split, batch, kernel, stride, padding):
    x = _random(batch, 3, 12, 13)
    x[0, 0, :2, :2] = -np.inf   # a window of lowest values only
    split(lambda lib, x: lib.nn.functional.max_pool2d(x, kernel, stride, padding), x)


def test_max_pool2d_gradient_with_non_finite_values(split):
    x = _random(4, 3, 8, 8)
    split(lambda lib, x: lib.nn.functional.max_pool2d(x, 2) * lib.tensor([1.0, float("inf"), 1.0])[:, None, None],
          x, grad=False)


@pytest.mark.parametrize("shape", [(5, 7, 6, 5), (1, 3, 4, 4), (9, 6)])
def test_batch_norm_training(split, shape):
    channels = shape[1]

    def build(lib, x, w, b):
        mean, var = lib.zeros(channels), lib.ones(channels)
        out = lib.nn.functional.batch_norm(x, mean, var, w, b, training=True)
        return out + 0 * (mean.sum() + var.sum())
    split(build, _random(*shape), _random(channels, seed=1), _random(channels, seed=2))


def test_batch_norm_without_affine_and_input_gradient(split):
    split(lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True), _random(5, 7, 6, 5))


def test_batch_norm_weight_gradient_only(split):
    def build(lib, w, b):
        x = lib.tensor(_random(5, 7, 6, 5, seed=3))
        return lib.nn.functional.batch_norm(x, None, None, w, b, training=True)
    split(build, _random(7, seed=1), _random(7, seed=2))


@pytest.mark.parametrize("activation", ["relu", "relu6", "leaky_relu", "hardtanh"])
def test_activations(split, activation):
    split(lambda lib, x: getattr(lib.nn.functional, activation)(x), _random(5, 6, 7, 3))


def test_broadcasting_arithmetic_and_comparisons(split):
    def build(lib, x, bias, scale):
        y = (x + bias) * scale - x / (scale * scale + 1)
        return y * (y > 0) + (x <= bias) * 2.0
    split(build, _random(5, 6, 7, 3), _random(6, 1, 1, seed=1), _random(5, 1, 1, 3, seed=2))


def test_elementwise_results_keep_dtype_and_layout():
    a = np.arange(6 * 7, dtype=np.int32).reshape(6, 7)
    before = _parallel.num_threads()
    try:
        _parallel.set_num_threads(3)
        for size in (8, _parallel.MIN_ELEMENTS):
            _parallel.MIN_ELEMENTS, saved = size, _parallel.MIN_ELEMENTS
            try:
                result = _parallel.ufunc(np.add, a, 2.5)
                transposed = _parallel.ufunc(np.multiply, a.T, 2)
            finally:
                _parallel.MIN_ELEMENTS = saved
            assert result.dtype == np.float64 and np.array_equal(result, a + 2.5)
            assert transposed.strides == (a.T * 2).strides and np.array_equal(transposed, a.T * 2)
    finally:
        _parallel.set_num_threads(before)


def test_a_chunk_keeps_the_callers_floating_point_error_state(split):
    split(lambda lib, x: x / lib.zeros(()), np.array([[1.0, 0.0, -1.0]] * 30, np.float32), grad=False)


@pytest.mark.parametrize("size,stride", [(2, 2), (1, 1)])
def test_conv2d_of_maps_smaller_than_the_kernel_keeps_only_live_offsets(split, size, stride):
    split(lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=stride, padding=1), _random(3, 6, size, size),
          _random(5, 6, 3, 3))


@pytest.mark.parametrize("size,padding", [((9, 7), 1), ((6, 8), 0)])
def test_winograd_conv2d(split, monkeypatch, size, padding):
    """Winograd's transforms in parts of the channels (and of the tile blocks): each part's extra tiles hold zeros
    where one part would hold values shifted in from the next channel; only zeros meet them, so the same bits."""
    from ember.ops import _conv_winograd
    monkeypatch.setattr(_conv_winograd, "MIN_CHANNELS", 1)
    monkeypatch.setattr(_conv_winograd, "MIN_SIZE", 1)
    monkeypatch.setattr(_conv_winograd, "CHUNK", 16)
    taken = []
    forward = _conv_winograd.forward
    monkeypatch.setattr(_conv_winograd, "forward", lambda *a: taken.append(True) or forward(*a))
    split(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=padding), _random(3, 5, *size),
          _random(4, 5, 3, 3, seed=1))
    assert taken


@pytest.mark.parametrize("padding", [0, 1])
def test_winograd_products_through_the_pool(split, monkeypatch, padding):
    """Winograd's stacked products and its weight transforms go through ``_blas.matmul`` (cut into parts on the
    intra-op threads, one BLAS thread each, or whole on one BLAS thread), never on OpenBLAS's own threads: the same
    bits on 1 and 3 threads, PyTorch's values."""
    from ember.ops import _blas, _conv_winograd
    monkeypatch.setattr(_conv_winograd, "MIN_CHANNELS", 1)
    monkeypatch.setattr(_conv_winograd, "MIN_SIZE", 1)
    monkeypatch.setattr(_blas, "SPLIT_WORK", 256)
    stacked, matmul = [], _blas.matmul
    monkeypatch.setattr(_blas, "matmul", lambda a, b, out, **options: stacked.append(a.ndim == 3) or
                        matmul(a, b, out, **options))
    split(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=padding), _random(3, 6, 10, 9),
          _random(7, 6, 3, 3, seed=1))
    assert sum(stacked) >= 3   # the forward's, the input gradient's and the weight gradient's products


def test_blocked_convolution_of_one_block(split, monkeypatch):
    """A blocked convolution whose batch is one block (and one chunk of the weight gradient) on several threads:
    the forward and input gradient in a block per thread, the weight gradient whole on one BLAS thread; the same
    bits on 1 and 3 threads, PyTorch's values."""
    monkeypatch.setattr(_conv_blocked, "BLOCK_BYTES", 1 << 30)
    split(lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=2, padding=1), _random(4, 3, 20, 34),
          _random(5, 3, 3, 3, seed=1))


@pytest.mark.parametrize("grad", [True, False], ids=["kept weights", "scratch weights"])
@pytest.mark.parametrize("mask", [None, "bool", "float"])
def test_attention_in_blocks(split, monkeypatch, grad, mask):
    """The attention forward in blocks of its leading dim (each block's scores through softmax to the output),
    in parts at once: the same bits, PyTorch's values; key and value broadcast over the heads."""
    from ember.ops import attention
    monkeypatch.setattr(attention, "BLOCK", 40)
    masks = {None: None, "bool": _random(6, 7, seed=3) > -0.5, "float": _random(3, 6, 7, seed=3)}

    def build(lib, q, k, v):
        m = masks[mask]
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, None if m is None else lib.tensor(m))
    split(build, _random(5, 3, 6, 4), _random(5, 1, 7, 4, seed=1), _random(5, 1, 7, 2, seed=2), grad=grad)


def test_sgd_momentum_step(split):
    def build(lib, w):
        w = w.clone().requires_grad_()
        optimizer = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        for _ in range(3):
            optimizer.zero_grad()
            (w * w * w).sum().backward()
            optimizer.step()
        return w * 1
    split(build, _random(7, 30), grad=False)


def test_where_with_broadcast_operands(split):
    def build(lib, x, y):
        return lib.where(x > 0, x, y * 2) + lib.where(y > 0, 1.5, x)
    split(build, _random(9, 7, 5), _random(7, 1, seed=1))


class _ThreadCounts(ember.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        return ember.tensor([_parallel.num_threads(), ember.get_num_threads()])


@pytest.mark.timeout(120)
def test_dataloader_workers_run_single_threaded():
    before = _parallel.num_threads()
    _parallel.set_num_threads(2)
    try:
        counts = next(iter(ember.utils.data.DataLoader(_ThreadCounts(), batch_size=4, num_workers=1)))
        assert counts.tolist() == [[1, 1]] * 4
        assert _parallel.num_threads() == 2
    finally:
        _parallel.set_num_threads(before)


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_cross_entropy_rows_in_parts(split, reduction):
    """The fused cross entropy's forward (row maxima, shifted exponentials, their sums, the softmax kept for
    backward) in parts of the rows: the same bits, PyTorch's values."""
    target = np.array([3, 0, 6, 2, 6, 1, 5], np.int64)
    split(lambda lib, logits: lib.nn.functional.cross_entropy(logits, lib.tensor(target), reduction=reduction)
          .reshape(-1), _random(7, 9) * 4)


@pytest.mark.parametrize("shape, axes", [((256, 1024), (1, 0)), ((8, 16, 32, 32), (0, 2, 3, 1)),
                                         ((16, 8, 32, 32), (1, 2, 3, 0)), ((100, 300), (1, 0)),
                                         ((4, 64, 8, 8), (0, 2, 3, 1)), ((64, 2048), (1, 0))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8])
def test_permuted_copies_in_cache_friendly_chunks_equal_numpys_copy(shape, axes, dtype):
    source = np.arange(np.prod(shape)).astype(dtype).reshape(shape).transpose(axes)
    if source.ndim == 2:
        source = source[::-1]   # a negative stride as well
    target = np.empty(source.shape, dtype)
    _parallel._assign(target, source)
    np.testing.assert_array_equal(target, source)
    chunk = _parallel._aliasing_chunk(target, source)
    power = abs(source.strides[-1]) & -abs(source.strides[-1])
    assert (chunk is not None) == (power >= 512 and source.shape[-1] > 8 * 4096 // min(power, 4096))


def test_copies_of_transposed_and_permuted_tensors_match_torch_strides_and_values():
    x = np.random.default_rng(0).standard_normal((256, 1024)).astype(np.float32)
    calls = [lambda lib, t: t.t().contiguous(), lambda lib, t: t.reshape(16, 16, 32, 32).permute(0, 2, 3, 1).clone(),
             lambda lib, t: t.t().clone(memory_format=lib.contiguous_format), lambda lib, t: t.t().clone(),
             lambda lib, t: t[:, :100].clone(),
             lambda lib, t: t.reshape(16, 16, 32, 32).permute(0, 2, 3, 1).contiguous(),
             lambda lib, t: lib.transpose_copy(t, 0, 1), lambda lib, t: t.t().unsqueeze(1).clone(),
             lambda lib, t: t.t().clone(memory_format=lib.preserve_format)]
    for call in calls:
        got, want = call(ember, ember.tensor(x)), call(torch, torch.tensor(x))
        assert got.is_contiguous() == want.is_contiguous() and tuple(got.stride()) == tuple(want.stride())
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    t = ember.tensor(x, requires_grad=True)   # still a copy in the graph
    t.t().clone().mul(2).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.full_like(x, 2))


@pytest.mark.parametrize("shape,normalized", [((7, 9, 16), (16,)), ((5, 3, 4, 6), (4, 6)), ((2, 30), (30,))])
def test_layer_norm_rows_in_parts(split, shape, normalized):
    """Layer norm's forward in parts of its rows (statistics and output per row): one thread's bits, and the
    gradients through the statistics the parts kept."""
    split(lambda lib, x, w, b: lib.nn.functional.layer_norm(x, normalized, w, b, eps=1e-5), _random(*shape),
          _random(*normalized, seed=1), _random(*normalized, seed=2))


@pytest.mark.parametrize("size", [7, 4095, 4096, 64 * 256], ids=str)   # one where call below _WHERE_MAX, then bits
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("contiguous", [True, False])
def test_gradient_where_selects_as_torchs_threshold_backward(size, dtype, contiguous):
    rng = np.random.default_rng(size)
    grad = rng.standard_normal(2 * size).astype(dtype)
    grad[:6] = [np.nan, -np.nan, np.inf, -np.inf, -0.0, -1.0]
    grad = grad[::2] if not contiguous else grad[:size]
    result = np.maximum(rng.standard_normal(size).astype(dtype), 0)
    result[:6] = [0.0, 1.0, 0.0, 2.0, 3.0, 0.0]
    selected = _parallel.gradient_where(np, grad, result != 0)
    expected = torch.ops.aten.threshold_backward(torch.from_numpy(grad.copy()), torch.from_numpy(result), 0).numpy()
    assert selected.dtype == dtype and selected.shape == (size,)
    assert selected.tobytes() == expected.tobytes()   # +0 where masked (a product would give -0 and NaN)
