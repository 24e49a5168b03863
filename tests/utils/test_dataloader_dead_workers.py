"""DataLoader workers that die mid-message or produce what cannot cross the process boundary: the main process
reports each case instead of hanging. Every test runs under a hard timeout, so a hang fails it."""
import gc
import multiprocessing
import os
import pickle
import signal
import time

import pytest

from ember.utils.data import DataLoader, Dataset

BIG = 3 << 19  # 1.5 MB: far more than a pipe holds, so the worker is still writing when it is killed


class BigStrings(Dataset):
    """1.5 MB strings; the first fetch touches ``marker`` so the test knows the worker is writing."""

    def __init__(self, marker):
        self.marker = marker

    def __len__(self):
        return 8

    def __getitem__(self, i):
        open(self.marker, "a").close()
        return "x" * BIG


class Unpicklable(Dataset):
    """Sample 1 is a lambda: it cannot be pickled to reach the main process."""

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return (lambda: i) if i == 1 else i


class RaisesLocalError(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        class LocalError(Exception):
            pass
        raise LocalError(f"sample {i} is broken")


def _explode():
    raise ValueError("this sample refuses to be unpickled")


class Explodes:
    def __reduce__(self):
        return _explode, ()


class UnpicklableInMain(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return Explodes()


@pytest.fixture
def no_children():
    yield
    gc.collect()  # an iterator held by a caught exception's traceback shuts its workers down when collected
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
        gc.collect()
    assert multiprocessing.active_children() == []


@pytest.mark.timeout(300)
@pytest.mark.parametrize("timeout", [0, 5])
def test_worker_killed_while_sending_a_large_sample_is_reported(tmp_path, timeout, no_children):
    for trial in range(3):
        marker = tmp_path / f"fetched{trial}"
        loader = DataLoader(BigStrings(str(marker)), batch_size=None, num_workers=1, timeout=timeout)
        iterator = iter(loader)
        while not marker.exists():
            time.sleep(0.01)
        time.sleep(0.2)  # let it fill the pipe and block partway through the 1.5 MB message
        (worker,) = multiprocessing.active_children()
        os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(RuntimeError, match=rf"DataLoader worker \(pid\(s\) {worker.pid}\) exited unexpectedly: "
                                               "killed by signal SIGKILL"):
            for _ in iterator:
                pass


@pytest.mark.timeout(300)
def test_sample_that_cannot_be_pickled_is_reported(no_children):
    iterator = iter(DataLoader(Unpicklable(), batch_size=None, num_workers=1))
    assert next(iterator) == 0
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError),
                       match="in DataLoader worker process 0 while pickling a batch"):
        next(iterator)
    assert next(iterator) == 2  # the worker lives on, as after any sample's error


@pytest.mark.timeout(300)
def test_exception_whose_type_cannot_be_pickled_is_reported_with_its_traceback(no_children):
    with pytest.raises(RuntimeError, match=r"(?s)sample 0 is broken.*LocalError, cannot be pickled"):
        next(iter(DataLoader(RaisesLocalError(), num_workers=1)))


@pytest.mark.timeout(300)
def test_sample_that_cannot_be_unpickled_in_the_main_process_is_reported(no_children):
    with pytest.raises(RuntimeError, match="cannot unpickle: ValueError: this sample refuses to be unpickled"):
        next(iter(DataLoader(UnpicklableInMain(), batch_size=None, num_workers=1)))
