"""torch.PyTorchFileReader / PyTorchFileWriter: records read and written as torch's, across the two libraries."""
import io

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def test_reader_reads_torch_checkpoints_as_torchs_reader(tmp_path):
    path = str(tmp_path / "ckpt.pt")
    torch.save({"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(4, dtype=torch.int64)}, path)
    ours, theirs = ember.PyTorchFileReader(path), torch.PyTorchFileReader(path)
    assert ours.get_all_records() == theirs.get_all_records()
    assert ours.serialization_id() == theirs.serialization_id()
    for name in theirs.get_all_records():
        assert ours.get_record(name) == theirs.get_record(name)
        assert ours.get_record_size(name) == theirs.get_record_size(name)
        assert ours.get_record_offset(name) == theirs.get_record_offset(name)
        assert ours.get_record_header_offset(name) == theirs.get_record_header_offset(name)
    assert ours.has_record("data.pkl") and not ours.has_record("nope")
    storage = ours.get_storage_from_record("data/0", 24, ember.uint8)
    reference = theirs.get_storage_from_record("data/0", 24, torch.uint8)
    assert tuple(storage.shape) == tuple(reference.shape) == (0,)
    assert bytes(storage.untyped_storage()) == bytes(reference.untyped_storage())
    with pytest.raises(RuntimeError) as error:
        ours.get_record("nope")
    with pytest.raises(RuntimeError) as expected:
        theirs.get_record("nope")
    assert str(error.value) == str(expected.value)
    with pytest.raises(RuntimeError) as error:
        ember.PyTorchFileReader(str(tmp_path / "missing.pt"))
    with pytest.raises(RuntimeError) as expected:
        torch.PyTorchFileReader(str(tmp_path / "missing.pt"))
    assert str(error.value) == str(expected.value)


@pytest.mark.parametrize("to_file", [True, False])
def test_writer_archives_read_back_in_torch(tmp_path, to_file):
    target = str(tmp_path / "written.pt") if to_file else io.BytesIO()
    writer = ember.PyTorchFileWriter(target)
    values = ember.arange(5, dtype=ember.float32)
    writer.write_record("blob", b"hello", 5)
    writer.write_record("data/0", values.untyped_storage(), values.untyped_storage().nbytes())
    writer.set_min_version(4)
    writer.write_end_of_file()
    assert writer.archive_name() == ("written" if to_file else "archive")
    assert writer.get_all_written_records() == {"blob", "data/0", "version", "byteorder", ".data/serialization_id"}
    source = target if to_file else io.BytesIO(target.getvalue())
    reader = torch.PyTorchFileReader(source)
    assert reader.get_all_records() == ["blob", "data/0", "version", "byteorder", ".data/serialization_id"]
    assert reader.get_record("blob") == b"hello"
    assert reader.get_record("version") == b"4\n"
    assert reader.get_record_offset("data/0") % 64 == 0
    assert reader.serialization_id() == writer.serialization_id()
    np.testing.assert_array_equal(np.frombuffer(reader.get_record("data/0"), np.float32), values.numpy())
