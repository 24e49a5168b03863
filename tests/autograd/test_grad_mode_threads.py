"""Grad modes are per thread, as in PyTorch: a thread's no_grad or inference_mode leaves the others recording, a new
thread starts recording, and ember's own intra-op threads run in their caller's modes."""
import threading

import numpy as np
import pytest
import torch

import ember
from ember.ops import _parallel


def _in_thread(function):
    results = []
    thread = threading.Thread(target=lambda: results.append(function()))
    thread.start()
    thread.join()
    return results[0]


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_a_new_thread_records_whatever_its_creator_set(lib):
    x = lib.ones(3, requires_grad=True)
    with lib.no_grad():
        inside = _in_thread(lambda: ((x * 2).requires_grad, lib.is_grad_enabled()))
    with lib.inference_mode():
        inference = _in_thread(lambda: (lib.is_inference_mode_enabled(), (x * 2).is_inference()))
    assert inside == (True, True)
    assert inference == (False, False)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_no_grad_in_one_thread_leaves_the_others_recording(lib):
    x = lib.ones(3, requires_grad=True)
    entered, release = threading.Event(), threading.Event()

    def evaluate():
        with lib.no_grad():
            entered.set()
            release.wait(10)
            return (x * 2).requires_grad
    results = []
    thread = threading.Thread(target=lambda: results.append(evaluate()))
    thread.start()
    entered.wait(10)
    recorded = (x * 2).requires_grad, lib.is_grad_enabled()
    release.set()
    thread.join()
    assert recorded == (True, True) and results == [False]


@pytest.mark.parametrize("switch", ["no_grad", "inference_mode", "enable_grad"])
def test_intra_op_threads_run_in_the_callers_modes(switch):
    """A bidirectional layer runs its reverse direction on a pool thread; its output records (or not) as the
    caller's mode says, as one thread gives."""
    before = _parallel.num_threads()
    x = ember.tensor(np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32))
    ember.manual_seed(0)
    lstm = ember.nn.LSTM(4, 6, bidirectional=True)
    seen = []
    run = _parallel.parallel_for
    pool_started = threading.Event()

    def watched(count, work, grain=1):
        def record(start, stop):
            on_pool = threading.current_thread() is not threading.main_thread()
            seen.append((on_pool, ember.is_grad_enabled(), ember.is_inference_mode_enabled()))
            if on_pool:
                pool_started.set()
            else:   # the caller waits until a pool thread has claimed the other direction
                pool_started.wait(10)
            work(start, stop)
        run(count, record, grain)
    try:
        _parallel.set_num_threads(2)
        _parallel.parallel_for = watched
        with getattr(ember, switch)():
            output, _ = lstm(x)
            expected = ember.is_grad_enabled(), ember.is_inference_mode_enabled()
    finally:
        _parallel.parallel_for = run
        _parallel.set_num_threads(before)
    assert any(on_pool for on_pool, *_ in seen)
    assert all((grad, inference) == expected for _, grad, inference in seen)
    assert output.requires_grad == expected[0] and output.is_inference() == expected[1]
