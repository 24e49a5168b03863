"""``Tensor.untyped_storage()`` and ``Tensor.storage()`` against torch: sizes, addresses, sharing, values."""
import pathlib
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
    ember.storage._reset_warn_typed_storage_removal()   # PyTorch's warns the first time only
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


def _file(tmp_path, name="data.bin", content=bytes(range(16))):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_from_file_maps_privately_as_torch(tmp_path):
    path = _file(tmp_path)
    es, ts = (lib.UntypedStorage.from_file(path, shared=False, nbytes=16) for lib in (ember, torch))
    assert (es.nbytes(), es.tolist(), es.is_shared(), es.filename) == (ts.nbytes(), ts.tolist(), ts.is_shared(),
                                                                      ts.filename)
    assert es.untyped() is es and ts.untyped() is ts
    es[0] = 99                                        # copy-on-write: the file keeps its bytes
    assert es[0] == 99 and pathlib.Path(path).read_bytes() == bytes(range(16))
    assert ember.UntypedStorage.from_file(path, nbytes=4).tolist() == [0, 1, 2, 3]
    assert ember.UntypedStorage.from_file(path).nbytes() == torch.UntypedStorage.from_file(path).nbytes() == 0


def test_from_file_shared_writes_through_and_grows_the_file(tmp_path):
    for lib in (ember, torch):
        path = str(tmp_path / f"{lib.__name__}.bin")
        storage = lib.UntypedStorage.from_file(path, shared=True, nbytes=8)
        assert storage.filename == path and storage.tolist() == [0] * 8
        values = lib.asarray(storage, dtype=lib.int32)
        values[1] = 7
        storage[0] = 5
        assert pathlib.Path(path).read_bytes() == b"\x05\x00\x00\x00\x07\x00\x00\x00"


@pytest.mark.parametrize("call", [lambda L, p: L.UntypedStorage.from_file(p, shared=False, nbytes=32),
                                  lambda L, p: L.UntypedStorage.from_file(p + ".missing", shared=False, nbytes=8),
                                  lambda L, p: L.UntypedStorage.from_file(p + "/no/dir", shared=True, nbytes=8)])
def test_from_file_errors_as_torch(tmp_path, call):
    path = _file(tmp_path)
    with pytest.raises(RuntimeError) as expected:
        call(torch, path)
    with pytest.raises(RuntimeError) as got:
        call(ember, path)
    assert str(got.value) == str(expected.value).split(" (Triggered")[0]


def test_storage_slices_are_storages_a_tensor_reads_whole(tmp_path):
    path = _file(tmp_path)
    for lib in (ember, torch):
        storage = lib.UntypedStorage.from_file(path, shared=False, nbytes=16)
        part = storage[2:10]
        assert type(part) is type(storage) and part.nbytes() == 8 and part.data_ptr() - storage.data_ptr() == 2
        assert part.tolist() == list(range(2, 10)) and storage[2:2].nbytes() == 0
        ints = lib.asarray(part, dtype=lib.uint8)
        assert ints.data_ptr() - storage.data_ptr() == 2 and ints.storage_offset() == 0
        assert ints.untyped_storage().nbytes() == 8 and ints.untyped_storage().data_ptr() == part.data_ptr()
        ints[0] = 42
        assert storage[2] == 42
        assert lib.asarray(part, dtype=lib.uint8).view(dtype=lib.int32).tolist() == [0x0504032A, 0x09080706]


def test_asarray_of_storages_as_torch():
    for make in (lambda L: L.asarray(L.tensor([1.0, 2.0]).untyped_storage(), dtype=L.float32),
                 lambda L: L.asarray(L.tensor([1.0, 2.0, 3.0, 4.0]).untyped_storage()),
                 lambda L: L.asarray(L.tensor([1.0, 2.0]).untyped_storage(), dtype=L.float64),
                 lambda L: L.asarray(L.tensor([1.0, 2.0]).untyped_storage()[0:3], dtype=L.float32),
                 lambda L: L.asarray(L.tensor([1.0, 2.0]).untyped_storage(), dtype=L.float32, copy=True),
                 lambda L: L.asarray(L.tensor([1.0, 2.0]).untyped_storage(), dtype=L.float32, requires_grad=True)):
        e, t = make(ember), make(torch)
        assert (str(e.dtype).split(".")[1], e.tolist(), e.requires_grad) == (str(t.dtype).split(".")[1], t.tolist(),
                                                                            t.requires_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ember.asarray(ember.tensor([1.0, 2.0]).storage()).tolist() == [1.0, 2.0]
        for call in (lambda L: L.asarray(L.tensor([1.0]).storage(), dtype=L.int32),
                     lambda L: L.asarray(L.tensor([1.0]).untyped_storage(), dtype=L.float32, copy=False)):
            with pytest.raises(Exception) as expected:
                call(torch)
            with pytest.raises(type(expected.value), match=str(expected.value)):
                call(ember)
    meta = ember.asarray(ember.tensor([1.0, 2.0]).untyped_storage(), dtype=ember.float32, device="meta")
    assert meta.device.type == "meta" and tuple(meta.shape) == (2,)
    source = ember.tensor([1.0, 2.0])
    shared = ember.asarray(source.untyped_storage(), dtype=ember.float32)
    shared[0] = 5.0
    assert source.tolist() == [5.0, 2.0] and shared.untyped_storage().data_ptr() == source.data_ptr()


def test_asarray_of_buffers_reads_their_bytes_as_torch():
    import array
    for make in (lambda L: L.asarray(bytearray(b"\x01\x02\x03\x04")),
                 lambda L: L.asarray(bytearray(b"\x01\x02\x03\x04"), dtype=L.int16),
                 lambda L: L.asarray(memoryview(numpy.arange(3.0))),
                 lambda L: L.asarray(array.array("i", [1, 2]), dtype=L.int32),
                 lambda L: L.asarray(bytearray(b"1234"), dtype=L.uint8, copy=False),
                 lambda L: L.asarray(numpy.float32(3))):
        e, t = make(ember), make(torch)
        assert (str(e.dtype).split(".")[1], e.tolist()) == (str(t.dtype).split(".")[1], t.tolist())
    data = bytearray(b"\x01\x02\x03\x04")
    ember.asarray(data, dtype=ember.uint8)[0] = 9
    assert data[0] == 9
    copied = bytearray(b"1234")
    ember.asarray(copied, dtype=ember.uint8, copy=True)[0] = 0
    assert copied == bytearray(b"1234")
    for call in (lambda L: L.asarray(b""), lambda L: L.asarray(bytearray(b"123"))):
        with pytest.raises(ValueError) as expected:
            call(torch)
        with pytest.raises(ValueError, match=str(expected.value).replace("(", r"\(").replace(")", r"\)")):
            call(ember)
    with pytest.warns(UserWarning, match="not writable") as caught:
        ember.asarray(b"1234", dtype=ember.uint8)
    assert caught[0].filename == __file__


def test_storage_constructors_as_torch():
    for args, kwargs in (((4,), {}), (([1, 2, 255, 256],), {}), ((), {}), (((3, 4),), {}), (([True],), {})):
        e, t = ember.UntypedStorage(*args, **kwargs), torch.UntypedStorage(*args, **kwargs)
        assert (e.nbytes(), e.tolist() if args != (4,) else e.nbytes()) == (t.nbytes(), t.tolist() if args != (4,)
                                                                              else t.nbytes())
    meta = ember.UntypedStorage(3, device="meta")
    assert meta.device.type == "meta" and meta.nbytes() == 3
    for bad in ("a", [1, 2.5], [1, None], 2.5, None):
        with pytest.raises(RuntimeError) as expected:
            torch.UntypedStorage(bad)
        with pytest.raises(RuntimeError, match=str(expected.value).replace("(", r"\(").replace(")", r"\)")):
            ember.UntypedStorage(bad)
    seen = []
    for lib in (ember, torch):   # the deprecation warning comes the first time only, or every time when asked
        lib.storage._reset_warn_typed_storage_removal()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            typed = lib.TypedStorage([1.5, 2], dtype=lib.float64)
            assert str(lib.TypedStorage(3).dtype).endswith("float32")
            lib.ones(2).storage()
            lib.storage._set_always_warn_typed_storage_removal(True)
            lib.ones(2).storage()
            lib.storage._set_always_warn_typed_storage_removal(False)
            lib.ones(2).storage()
        assert typed.tolist() == [1.5, 2.0] and str(typed.dtype).endswith("float64")
        seen.append([(w.filename, w.lineno, str(w.message)) for w in caught])
    assert seen[0] == seen[1] and len(seen[0]) == 2 and "TypedStorage is deprecated" in seen[0][0][2]
