"""set_flush_denormal beside PyTorch's: denormal operands and results become zero on the calling thread and on
ember's intra-op threads (those running and those started later), and everything is as before once it is off."""
import threading

import numpy
import pytest
import torch

import ember
from ember import _float_env
from ember.ops import _parallel

pytestmark = pytest.mark.skipif(not _float_env.supported(), reason="denormal flushing is set on x86-64 Linux only")

DENORMAL = 1e-39   # float32's smallest normal number is 1.2e-38


def _flushes():
    """Whether this thread's float32 arithmetic flushes a denormal result to zero."""
    return float(numpy.array([DENORMAL], numpy.float32)[0] * numpy.float32(2)) == 0.0


@pytest.fixture
def restored():
    threads = ember.get_num_threads()
    yield
    ember.set_flush_denormal(False)
    torch.set_flush_denormal(False)
    ember.set_num_threads(threads)


def test_results_as_pytorch(restored):
    for mode in (True, False):
        assert ember.set_flush_denormal(mode) == torch.set_flush_denormal(mode)
        for dtype, value in (("float32", DENORMAL), ("float64", 1e-310)):
            ours = (ember.tensor([value, 1.0], dtype=getattr(ember, dtype)) * 2).tolist()
            theirs = (torch.tensor([value, 1.0], dtype=getattr(torch, dtype)) * 2).tolist()
            assert ours == theirs
            assert (ours[0] == 0.0) == mode


def test_intra_op_threads_follow(restored):
    ember.set_num_threads(3)
    _parallel.parallel_for(4, lambda start, stop: None)   # starts the pool's two threads
    seen = []

    def report():
        seen.append((threading.get_ident(), _flushes()))
    ember.set_flush_denormal(True)
    _parallel.on_each_worker(report)
    assert len({ident for ident, _ in seen}) == 2 and all(flushes for _, flushes in seen)
    assert _flushes()
    ember.set_num_threads(4)   # a new pool: its threads start from this thread's environment
    _parallel.parallel_for(4, lambda start, stop: None)
    seen.clear()
    _parallel.on_each_worker(report)
    assert len(seen) == 3 and all(flushes for _, flushes in seen)
    ember.set_flush_denormal(False)
    seen.clear()
    _parallel.on_each_worker(report)
    assert len(seen) == 3 and not any(flushes for _, flushes in seen) and not _flushes()
