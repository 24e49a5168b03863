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


@pytest.fixture(autouse=True)
def _torch_distribution_validation():
    """Restores torch.distributions' argument validation after each test: torch.compile (and so any test that
    reaches dynamo) turns it off for the whole process, and later tests compare against torch's usual defaults."""
    before = torch.distributions.Distribution._validate_args
    yield
    torch.distributions.Distribution.set_default_validate_args(before)
