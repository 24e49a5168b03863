"""from_file: a tensor mapped from a file (shared: writes reach the file, grown to fit; private: copy on write),
against torch.from_file on the same files (tensordict's memory-mapped tensors are made with it)."""
import numpy
import pytest

import ember

torch = pytest.importorskip("torch")


def _story(lib, path):
    numpy.arange(6, dtype=numpy.float32).tofile(path)
    out = []
    shared = lib.from_file(str(path), shared=True, size=6)
    shared[0] = 100
    out += [shared.tolist(), str(shared.dtype).split(".")[1], numpy.fromfile(path, numpy.float32).tolist()]
    private = lib.from_file(str(path), shared=False, size=4, dtype=lib.float32)
    private[1] = -1
    out += [private.tolist(), numpy.fromfile(path, numpy.float32)[:2].tolist()]
    out.append(lib.from_file(str(path), size=3, dtype=lib.float64).tolist())
    grown = lib.from_file(str(path), shared=True, size=10, dtype=lib.int32)
    out += [list(grown.shape), path.stat().st_size, lib.from_file(str(path)).tolist()]
    for call in (lambda: lib.from_file(str(path), shared=False, size=100),
                 lambda: lib.from_file(str(path) + ".missing", shared=False, size=3)):
        with pytest.raises(RuntimeError) as error:
            call()
        out.append(str(error.value).split(":")[0])
    return out


def test_from_file_as_torch(tmp_path):
    ours = _story(ember, tmp_path / "ours.bin")
    theirs = _story(torch, tmp_path / "theirs.bin")
    assert ours == [part.replace("theirs", "ours") if isinstance(part, str) else part for part in theirs]
