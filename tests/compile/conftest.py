"""torch.compile turns off torch.distributions' argument validation for the whole process (dynamo does so while it
captures and leaves it off); restore it after each test so later tests compare against torch's usual defaults."""
import pytest
import torch


@pytest.fixture(autouse=True)
def restore_torch_distribution_validation():
    before = torch.distributions.Distribution._validate_args
    yield
    torch.distributions.Distribution.set_default_validate_args(before)
