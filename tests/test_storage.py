"""``Tensor.untyped_storage()`` and ``Tensor.storage()`` against torch: sizes, addresses, sharing, values."""
import warnings

import numpy
import pytest
import torch

import ember


def _layouts(lib):
    base = lib.arange(24.0).reshape(4, 6)
    return [base, base[:, 2:], base.t(), base[1], base.reshape(-1)[5:], lib.ones(3, dtype=lib.int16),
            lib.zeros(0), lib.tensor(3.5)]


@pytest.mark.parametrize("index", range(8))
def test_untyped_storage_as_torch(index):
    e, t = _layouts(ember)[index], _layouts(torch)[index]
    eu, tu = e.untyped_storage(), t.untyped_storage()
    assert (eu.nbytes(), eu.size(), len(eu), eu.element_size()) == (tu.nbytes(), tu.size(), len(tu), tu.element_size())
    assert eu.tolist() == tu.tolist()
    assert eu.data_ptr() == e.data_ptr() - e.storage_offset() * e.element_size()
    assert str(eu.device) == str(tu.device) == "cpu"


@pytest.mark.parametrize("index", range(8))
def test_typed_storage_as_torch(index):
    e, t = _layouts(ember)[index], _layouts(torch)[index]
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        es = e.storage()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = t.storage()
    assert (es.size(), es.nbytes(), es.element_size()) == (ts.size(), ts.nbytes(), ts.element_size())
    assert str(es.dtype).split(".")[-1] == str(ts.dtype).split(".")[-1]
    assert es.tolist() == ts.tolist() and (es.size() == 0 or es[0] == ts[0])
    assert es.data_ptr() == e.untyped_storage().data_ptr()
    assert es.untyped().nbytes() == es.nbytes()


def test_storages_tell_shared_memory():
    a = ember.arange(10.0)
    view, other = a[3:].view(7, 1), a.clone()
    assert view.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()
    assert other.untyped_storage().data_ptr() != a.untyped_storage().data_ptr()
    a.untyped_storage()   # writes through the tensor show in its storage: no copy was taken
    a[0] = 42.0
    assert a.untyped_storage().tolist()[:4] == list(numpy.float32(42.0).tobytes())


def test_is_storage():
    x = ember.ones(2)
    assert ember.is_storage(x.untyped_storage()) and not ember.is_storage(x) and not ember.is_storage(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ember.is_storage(x.storage())
