"""set_num_threads sets NumPy's BLAS as threadpoolctl sees it, in the main process and in DataLoader workers."""
import pytest

import ember
from ember.utils.data import DataLoader, Dataset
from tests.utils.test_dataloader_workers import no_leaks  # noqa: F401  (fixture)

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads():
    """NumPy's BLAS thread counts as threadpoolctl reads them (not another library's, such as torch's own, which
    the test suite loads beside it)."""
    import numpy   # noqa: F401  (its BLAS must be loaded to be seen)
    return sorted({info["num_threads"] for info in threadpoolctl.threadpool_info()
                   if info["user_api"] == "blas" and "numpy" in info["filepath"]})


class Threads(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return ember.get_num_threads(), blas_threads()


def test_set_num_threads_is_what_threadpoolctl_sees():
    before = ember.get_num_threads()
    try:
        for count in (2, 1, 3):
            ember.set_num_threads(count)
            assert ember.get_num_threads() == count and blas_threads() == [count]
    finally:
        ember.set_num_threads(before)


@pytest.mark.timeout(120)
def test_workers_run_one_blas_thread(no_leaks):  # noqa: F811
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        samples = list(DataLoader(Threads(), batch_size=None, num_workers=1))
        assert samples == [[1, [1]]] * 2   # default_convert makes tuples lists, as PyTorch
        assert ember.get_num_threads() == 2
    finally:
        ember.set_num_threads(before)


class OsThreads(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        import os
        return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self/task"), reason="counts threads through /proc")
@pytest.mark.timeout(120)
def test_workers_start_no_blas_threads(no_leaks):  # noqa: F811
    # Setting OpenBLAS's count in a forked worker started its worker thread, which then spun ~0.1 s on a core
    # while the worker fetched its first batch; one thread needs none.
    from ember import _runtime
    found = _runtime._openblas()
    if found is None or not hasattr(found[0], "blas_thread_shutdown_"):
        pytest.skip("NumPy's OpenBLAS cannot stop its threads here")
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        assert list(DataLoader(OsThreads(), batch_size=None, num_workers=2)) == [1, 1]
    finally:
        ember.set_num_threads(before)
