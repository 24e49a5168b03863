"""ember.futures beside torch.futures: completion, errors, chaining, callbacks, collect_all / wait_all."""
import re
import threading

import pytest
import torch

import ember
from tests.oracle import check_same_error

LIBRARIES = [pytest.param(torch, id="torch"), pytest.param(ember, id="ember")]


@pytest.mark.parametrize("library", LIBRARIES)
def test_result_once(library):
    future = library.futures.Future()
    assert not future.done()
    future.set_result(3)
    assert future.done() and future.wait() == 3 and future.value() == 3
    message = ("Attempting to mark a completed Future as complete again. Note that a Future can only be marked "
               "completed once.")
    with pytest.raises(RuntimeError, match="^" + re.escape(message) + "$"):
        future.set_result(4)


def test_errors_as_pytorch():
    for call in (lambda lib: lib.futures.Future().set_exception(3),
                 lambda lib: _set_error(lib).wait(), lambda lib: _set_error(lib).value(),
                 lambda lib: lib.futures.wait_all([_set_error(lib)])):
        check_same_error(call)


def _set_error(library):
    future = library.futures.Future()
    future.set_exception(ValueError("x"))
    return future


@pytest.mark.parametrize("library", LIBRARIES)
def test_then_and_callbacks(library):
    source = library.futures.Future()
    doubled = source.then(lambda f: f.wait() * 2)
    seen = []
    source.add_done_callback(lambda f: seen.append(f.value()))
    failing = source.then(lambda f: 1 / 0)
    source.set_result(5)
    assert doubled.wait() == 10 and seen == [5]
    with pytest.raises(RuntimeError, match="Got the following error when running the callback: ZeroDivisionError"):
        failing.wait()
    late = []
    source.add_done_callback(lambda f: late.append(f.value()))
    assert late == [5]


@pytest.mark.parametrize("library", LIBRARIES)
def test_collect_all_and_wait_all(library):
    first, second = library.futures.Future(), library.futures.Future()
    collected = library.futures.collect_all([first, second])
    first.set_result(1)
    assert not collected.done()
    second.set_result(2)
    assert [f.value() for f in collected.wait()] == [1, 2]
    assert library.futures.wait_all([first, second]) == [1, 2]
    assert library.futures.collect_all([]).wait() == []


def test_wait_blocks_until_another_thread_sets_the_result():
    future = ember.futures.Future()
    setter = threading.Thread(target=future.set_result, args=("done",))
    setter.start()
    assert future.wait() == "done"
    setter.join()


@pytest.mark.parametrize("library", LIBRARIES)
def test_top_level_future_is_the_futures_type(library):
    """``torch.Future`` (captum checks ``isinstance(out, torch.Future)``) is a base of torch.futures.Future."""
    future = library.futures.Future()
    assert isinstance(future, library.Future) and not isinstance(3, library.Future)
    assert issubclass(library.futures.Future, library.Future)
