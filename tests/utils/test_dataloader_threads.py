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
