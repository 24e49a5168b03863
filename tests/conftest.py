"""Shared test set-up: PyTorch is the oracle and runs on CPU only."""
import numpy
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seeded():
    numpy.random.seed(0)
    torch.manual_seed(0)
    yield
