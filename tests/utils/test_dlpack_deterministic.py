"""utils.dlpack and utils.deterministic beside PyTorch's, and the deprecated out-of-place resize."""
import warnings

import pytest
import torch

import ember


def test_dlpack_round_trip_aliases_as_pytorch():
    for library in (ember, torch):
        source = library.arange(6.0).reshape(2, 3).t()
        alias = library.utils.dlpack.from_dlpack(library.utils.dlpack.to_dlpack(source))
        alias[0, 1] = 9
        assert source.tolist() == [[0.0, 9.0], [1.0, 4.0], [2.0, 5.0]] and alias.stride() == source.stride()
    shared = ember.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(torch.zeros(2)))
    assert shared.tolist() == [0.0, 0.0]
    assert {k: int(v) for k, v in ember.utils.dlpack.DLDeviceType.__members__.items()} == \
        {k: int(v) for k, v in torch.utils.dlpack.DLDeviceType.__members__.items()}
    assert ember.zeros(1).__dlpack_device__() == (ember.utils.dlpack.DLDeviceType.kDLCPU, 0)


@pytest.fixture
def deterministic():
    yield
    for library in (ember, torch):
        library.use_deterministic_algorithms(False)
        library.utils.deterministic.fill_uninitialized_memory = True


FACTORIES = {"empty float32": lambda lib: lib.empty(3), "empty int32": lambda lib: lib.empty(2, dtype=lib.int32),
             "empty bool": lambda lib: lib.empty(2, dtype=lib.bool),
             "empty uint8": lambda lib: lib.empty(2, dtype=lib.uint8),
             "empty float16": lambda lib: lib.empty(2, dtype=lib.float16),
             "empty_like": lambda lib: lib.empty_like(lib.ones(2, dtype=lib.float64)),
             "empty_strided": lambda lib: lib.empty_strided((2, 2), (1, 2)),
             "new_empty": lambda lib: lib.ones(2, dtype=lib.int64).new_empty(3),
             "resize_": lambda lib: lib.ones(2).resize_(4)}


def _plain(values):
    return [str(v) for v in values.reshape(-1).tolist()]   # NaN compares equal as text


@pytest.mark.parametrize("name", FACTORIES)
def test_uninitialized_memory_is_filled_as_pytorch(name, deterministic):
    for library in (ember, torch):
        library.use_deterministic_algorithms(True)
    assert _plain(FACTORIES[name](ember)) == _plain(FACTORIES[name](torch))


def test_fill_switch(deterministic):
    ember.use_deterministic_algorithms(True)
    ember.utils.deterministic.fill_uninitialized_memory = False
    assert ember.utils.deterministic.fill_uninitialized_memory is False
    assert ember._runtime.uninitialized_fill(ember.float32.numpy) is None   # empty() leaves memory as it is
    ember.utils.deterministic.fill_uninitialized_memory = True
    assert ember.empty(2).isnan().all()
    for library in (ember, torch):
        with pytest.raises(RuntimeError, match="expected a bool, but got int"):
            library.utils.deterministic.fill_uninitialized_memory = 1


def test_deprecated_resize_as_pytorch():
    results = []
    for library in (ember, torch):
        x = library.arange(6.0, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = x.resize(3, 2)
            z = x.resize_as(library.zeros(2, 3))
        (y * library.arange(6.0).reshape(3, 2)).sum().backward()
        with pytest.raises(RuntimeError) as error, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x.resize(4, 2)
        results.append((y.tolist(), z.shape, x.grad.tolist(), [str(w.message) for w in caught], str(error.value)))
    assert results[0] == results[1]
