"""The queries libraries make to learn whether PyTorch is tracing (kornia's distance_transform asks both before it
picks a kernel): ``is_fake`` and ``get_proxy_mode`` answer for eager tensors as PyTorch's do."""
import pytest

import ember
from ember._subclasses import FakeTensor
from ember._subclasses.fake_tensor import is_fake
from ember.fx.experimental.proxy_tensor import get_proxy_mode

torch = pytest.importorskip("torch")


def test_eager_tensors_are_not_fake_and_no_proxy_mode_is_active():
    from torch._subclasses.fake_tensor import is_fake as torchs_is_fake
    from torch.fx.experimental.proxy_tensor import get_proxy_mode as torchs_get_proxy_mode
    samples = [lambda T: T.ones(2), lambda T: T.ones(2, device="meta"), lambda T: T.nn.Parameter(T.ones(1)),
               lambda T: 3, lambda T: None]
    for sample in samples:
        assert is_fake(sample(ember)) is torchs_is_fake(sample(torch)) is False
    assert get_proxy_mode() is torchs_get_proxy_mode() is None
    assert issubclass(FakeTensor, ember.Tensor) and issubclass(torch._subclasses.FakeTensor, torch.Tensor)
