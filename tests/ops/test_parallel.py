"""The intra-op thread pool: ranges cover the work exactly once, errors reach the caller, nesting runs whole."""
import threading

import numpy as np
import pytest

import ember
from ember.ops import _parallel


@pytest.fixture
def threads():
    before = _parallel.num_threads()
    yield
    _parallel.set_num_threads(before)


@pytest.mark.parametrize("per_thread", [1, 2])
@pytest.mark.parametrize("count,grain,workers", [(0, 1, 4), (1, 1, 4), (7, 1, 3), (1000, 100, 4), (1000, 600, 4),
                                                 (1000, 100, 1)])
def test_ranges_cover_every_index_once(threads, count, grain, workers, per_thread):
    _parallel.set_num_threads(workers)
    seen = np.zeros(count, int)
    ranges = []

    def work(start, stop):
        seen[start:stop] += 1
        ranges.append((start, stop))
    _parallel.parallel_for(count, work, grain, per_thread=per_thread)
    assert (seen == 1).all()
    assert len(ranges) == (1 if workers == 1 else max(1, min(workers * per_thread, count // grain)))
    assert all(stop - start >= min(grain, count) for start, stop in ranges)


def test_chunks_run_on_other_threads_and_errors_reach_the_caller(threads):
    _parallel.set_num_threads(2)
    names, both = set(), threading.Event()

    def work(start, stop):   # the first range waits for the second, so a pool thread must have claimed it
        names.add(threading.current_thread().name)
        if len(names) == 2:
            both.set()
        both.wait(10)
        if start > 0:
            raise ValueError("chunk failed")
    with pytest.raises(ValueError, match="chunk failed"):
        _parallel.parallel_for(10, work)
    assert len(names) == 2


def test_a_kernel_called_inside_a_chunk_runs_whole(threads):
    _parallel.set_num_threads(2)
    inner = []

    def work(start, stop):
        _parallel.parallel_for(100, lambda a, b: inner.append((a, b)))
    _parallel.parallel_for(2, work)
    assert sorted(inner) == [(0, 100), (0, 100)]


def test_set_num_threads_sets_the_pool(threads):
    ember.set_num_threads(3)
    assert _parallel.num_threads() == 3
