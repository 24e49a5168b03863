"""The pool of large arrays (``ops/_buffers.py``): arrays in use are never handed out again, free ones beyond
``MAX_BYTES`` are let go, and every op that takes its result or scratch from the pool writes each element it reads
(the pool's arrays come back uninitialised) and gives the same bits as without the pool."""
import numpy
import pytest
import torch

import ember
from ember.ops import _buffers, _conv_depthwise, _parallel


@pytest.fixture
def pool(monkeypatch):
    """A fresh, empty pool that keeps every array however small."""
    monkeypatch.setattr(_buffers, "_pool", [])
    monkeypatch.setattr(_buffers, "_held", [0])
    monkeypatch.setattr(_buffers, "MIN_BYTES", 0)
    return _buffers


def test_a_full_pool_lets_only_stale_free_blocks_go(pool, monkeypatch):
    monkeypatch.setattr(pool, "MAX_BYTES", 1000)
    monkeypatch.setattr(pool, "STALE_CALLS", 1)
    first = pool.empty(numpy, (100,), numpy.float32)       # 400 bytes
    second = pool.empty(numpy, (100,), numpy.float32)
    assert pool._held == [800]
    del first
    third = pool.empty(numpy, (60,), numpy.float64)        # 480: the free stale block goes, the one in use stays
    assert pool._held == [880] and [b.nbytes for b in pool._pool] == [400, 480]
    assert pool._pool[0].array is second
    fourth = pool.empty(numpy, (70,), numpy.float64)       # nothing free to let go: made, but not kept
    assert pool._held == [880] and all(fourth is not b.array for b in pool._pool)
    monkeypatch.setattr(pool, "STALE_CALLS", 100)
    del second
    fifth = pool.empty(numpy, (130,), numpy.float64)       # the free block was handed out lately: it stays
    assert pool._held == [880] and len(pool._pool) == 2
    again = pool.empty(numpy, (25, 4), numpy.float32)      # and is handed out again
    assert again is pool._pool[0].array
    assert third.shape == (60,) and fifth.shape == (130,)


def test_a_free_block_serves_any_shape_and_dtype_within_its_slack(pool):
    first = pool.empty(numpy, (100,), numpy.float64)       # 800 bytes
    address = first.ctypes.data
    del first
    smaller = pool.empty(numpy, (10, 11), numpy.int32)     # 440 bytes: over half the block, laid over it
    assert smaller.ctypes.data == address and smaller.shape == (10, 11) and smaller.dtype == numpy.int32
    assert smaller.flags.c_contiguous and smaller.flags.writeable and len(pool._pool) == 1
    del smaller
    tiny = pool.empty(numpy, (99,), numpy.float32)         # 396 bytes: under half, a block of its own
    assert tiny.ctypes.data != address and [b.nbytes for b in pool._pool] == [396, 800]
    larger = pool.empty(numpy, (101,), numpy.float64)      # more than any block: a new one
    assert len(pool._pool) == 3 and not numpy.shares_memory(larger, tiny)


def test_threads_never_share_a_block(pool):
    """Four threads asking at once for arrays of sizes that fit each other's blocks each get memory of their own:
    every array still holds what its thread wrote after the others' requests."""
    import threading
    failures, start = [], threading.Barrier(4)

    def work(k):
        start.wait()
        for step in range(300):
            arrays = [pool.empty(numpy, (40 + (step * 7 + k * 3 + j) % 60,), numpy.float64) for j in range(3)]
            for j, array in enumerate(arrays):
                array.fill(k * 1000 + j)
            for j, array in enumerate(arrays):
                if not (array == k * 1000 + j).all():
                    failures.append((k, step, j))
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and pool._pool


def test_pooled_arrays_own_their_memory_to_tensors_and_gradients(pool):
    """An array laid over a block is its own storage (not a view of the block's byte array): its tensor's storage
    is its size, and the autograd engine takes it as a leaf's gradient without copying it."""
    block = pool.empty(numpy, (64,), numpy.float64)
    del block
    array = pool.empty(numpy, (8, 6), numpy.float32)      # 192 of the block's 512 bytes
    tensor = ember.from_numpy(array)
    assert tensor.untyped_storage().nbytes() == 192 and tensor.data_ptr() == array.ctypes.data
    del tensor, array
    x = ember.ones(2, 3, 6, 6)
    w = ember.ones(4, 3, 3, 3, requires_grad=True)
    ember.nn.functional.conv2d(x, w, padding=1).sum().backward()
    assert any(w.grad._data is b.array for b in pool._pool)   # the pooled weight gradient itself, not a copy
    reference = torch.ones(4, 3, 3, 3, requires_grad=True)
    torch.nn.functional.conv2d(torch.ones(2, 3, 6, 6), reference, padding=1).sum().backward()
    numpy.testing.assert_array_equal(w.grad.numpy(), reference.grad.numpy())


def test_a_training_step_reuses_the_arrays_of_the_one_before(pool):
    model, x, y = _model(ember)
    _step(ember, model, x, y)
    held = pool._held[0]
    assert held > 0
    for _ in range(2):
        _step(ember, model, x, y)
        assert pool._held[0] == held   # every pooled array of the step was free again and reused


def _poisoned(empty):
    """``_buffers.empty`` whose arrays are all ones bits (NaN as floats, not 0/1 as bools): an element read before
    it is written shows."""
    def poisoned(xp, shape, dtype):
        array = empty(xp, shape, dtype)
        array.view(numpy.uint8).fill(0xFF)
        return array
    return poisoned


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("banded", [True, False])
def test_pooled_results_and_scratch_are_written_before_read(pool, monkeypatch, threads, banded):
    if not banded:
        monkeypatch.setattr(_conv_depthwise, "BAND_WIDTH", 0)   # depthwise convolutions offset by offset
    plain = _results(ember)
    monkeypatch.setattr(_parallel, "MIN_ELEMENTS", 8)   # the elementwise kernels' results come from the pool too
    before = _parallel.num_threads()
    _parallel.set_num_threads(threads)
    try:
        monkeypatch.setattr(pool, "empty", _poisoned(pool.empty))
        pooled = [_results(ember) for _ in range(2)]   # the second from arrays the first left poisoned or used
    finally:
        _parallel.set_num_threads(before)
    for results in pooled:
        for mine, want in zip(results, plain):
            numpy.testing.assert_array_equal(mine, want)
    reference = _results(torch)
    for mine, want in zip(plain, reference):
        numpy.testing.assert_allclose(mine, want, rtol=1e-4, atol=1e-5)


def _model(lib):
    """Convolutions with padding, depthwise ones (banded and by offsets), a stride whose kernel offsets partly meet
    only padding (their weight rows are gathered), batch norm, ReLU, ReLU6, leaky ReLU, max pooling, a 1x1
    convolution, dropout and linear layers."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6(),
                          nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.LeakyReLU(0.1), nn.MaxPool2d(2),
                          nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 1),
                          nn.Flatten(), nn.Dropout(0.25), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 5))
    rng = numpy.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((6, 3, 8, 8), dtype=numpy.float32))
    return model, x, lib.tensor(rng.integers(0, 5, 6))


def _step(lib, model, x, y):
    model.zero_grad()
    lib.manual_seed(1)
    loss = lib.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    return loss


def _results(lib):
    """Loss, output and every gradient of one training step, then an evaluation, as NumPy arrays."""
    model, x, y = _model(lib)
    x.requires_grad_()
    loss = _step(lib, model, x, y)
    grads = [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]
    model.eval()
    with lib.no_grad():
        output = model(x).numpy().copy()
    return [loss.detach().numpy().copy(), output] + grads


@pytest.mark.parametrize("threads", [1, 3])
def test_a_transformer_layer_writes_its_pooled_arrays_before_reading(pool, monkeypatch, threads):
    """Layer norm's output and backward temporaries, multi-head attention's stacks and its backward's gradients, and
    the cross entropy's rows from a poisoned pool: the bits of the unpooled step, PyTorch's values."""
    plain = _transformer_results(ember)
    monkeypatch.setattr(_parallel, "MIN_ELEMENTS", 8)   # the row and block parts run too
    before = _parallel.num_threads()
    _parallel.set_num_threads(threads)
    try:
        monkeypatch.setattr(pool, "empty", _poisoned(pool.empty))
        pooled = [_transformer_results(ember) for _ in range(2)]
    finally:
        _parallel.set_num_threads(before)
    for results in pooled:
        for mine, want in zip(results, plain):
            numpy.testing.assert_array_equal(mine, want)
    for mine, want in zip(plain, _transformer_results(torch)):
        numpy.testing.assert_allclose(mine, want, rtol=1e-4, atol=1e-5)


def _transformer_results(lib):
    """Loss, every gradient and the input's of one training step of an encoder layer and a classifier (no dropout,
    so both libraries compute the same function), then an evaluation, as NumPy arrays."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True),
                          nn.Flatten(), nn.Linear(40, 7))
    rng = numpy.random.default_rng(2)
    x = lib.tensor(rng.standard_normal((6, 5, 8), dtype=numpy.float32), requires_grad=True)
    y = lib.tensor(rng.integers(0, 7, 6))
    loss = lib.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]
    model.eval()
    with lib.no_grad():
        output = model(x).numpy().copy()
    return [loss.detach().numpy().copy(), output] + grads


@pytest.mark.parametrize("inplace", ["leaky_relu_", "sin_", "cos_"])
def test_in_place_ops_snapshot_their_saved_input_into_the_pool(pool, inplace):
    """An in-place op whose node saved its input copies that input before overwriting it: the copy comes from the
    pool (a fresh one faulted its pages in each step, ~4 ms a 2M-element step at two threads), gradients stay right."""
    def step(lib, x):
        y = x * 1.5
        out = getattr(lib.nn.functional, inplace)(y) if inplace == "leaky_relu_" else getattr(y, inplace)()
        (out * out).sum().backward()
        return x.grad
    data = numpy.random.default_rng(0).standard_normal((64, 128)).astype(numpy.float32)
    expected = step(torch, torch.tensor(data, requires_grad=True)).numpy()
    for _ in range(2):
        grad = step(ember, ember.tensor(data, requires_grad=True))
        numpy.testing.assert_allclose(grad.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert any(b.array.shape == (64, 128) and b.array.dtype == numpy.float32 for b in pool._pool)
