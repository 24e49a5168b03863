"""ember.export.save / load: a round trip keeps the graph, signature, state, guards and ranges; loading never runs
code from the archive and refuses what is not an exported program."""
import io
import json
import os

import pytest
import torch

import ember
from ember.export import Dim, ExportedProgram, export, load, save
from tests.export.models import buffered, close, cnn, recurrent


def _round_trip(ep):
    buffer = io.BytesIO()
    save(ep, buffer)
    buffer.seek(0)
    return load(buffer)


@pytest.mark.parametrize("builder, shape", [(cnn, (2, 3, 8, 8)), (recurrent, (2, 3, 4))])
def test_round_trip_runs_the_same_program(builder, shape):
    module = builder(ember).eval()
    ep = export(module, (ember.randn(*shape),), dynamic_shapes=({0: Dim("batch", max=16)},))
    loaded = _round_trip(ep)
    assert isinstance(loaded, ExportedProgram)
    assert str(loaded) == str(ep)
    assert loaded.graph_signature == ep.graph_signature
    assert [repr(v) for v in loaded.range_constraints.values()] == ["VR[0, 16]"]
    x = ember.randn(5, *shape[1:])
    close(loaded.module()(x), module(x), atol=0)
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] <= 16"):
        loaded.module()(ember.randn(17, *shape[1:]))
    assert all(isinstance(p, ember.nn.Parameter) for p in loaded.parameters())


def test_round_trip_through_a_path_with_keywords_constants_and_extra_files(tmp_path):
    module = buffered(ember)
    x, bias = ember.randn(2, 4), ember.randn(2, 3)
    ep = export(module, (x,), {"bias": bias})
    path = tmp_path / "program.pt2"
    save(ep, str(path), extra_files={"note.txt": "hello"})
    extra = {"note.txt": ""}
    loaded = load(os.fspath(path), extra_files=extra)
    assert extra == {"note.txt": "hello"}
    assert sorted(loaded.constants) == ["offset", "shift"] and list(loaded.state_dict) == list(ep.state_dict)
    close(loaded.example_inputs[1]["bias"], bias, atol=0)
    y, b = ember.randn(2, 4), ember.randn(2, 3)
    close(loaded.module()(y, bias=b), module(y, bias=b), atol=0)
    with pytest.raises(ValueError, match="Trying to flatten user inputs"):
        loaded.module()(y)


def test_save_refuses_what_is_not_a_program_as_torch():
    with pytest.raises(TypeError) as expected:
        torch.export.save(3, io.BytesIO())
    with pytest.raises(TypeError) as got:
        save(3, io.BytesIO())
    assert str(got.value) == str(expected.value)


def test_load_refuses_junk_and_other_archives():
    with pytest.raises(RuntimeError, match="not a loadable archive"):
        load(io.BytesIO(b"junk"))
    buffer = io.BytesIO()
    ember.save({"weights": ember.ones(2)}, buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="holds no exported program"):
        load(buffer)


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_load_never_runs_code(tmp_path):
    path = tmp_path / "evil.pt2"
    torch.save({"program": "{}", "payload": _Payload()}, path)
    with pytest.raises(RuntimeError, match="not a loadable archive"):
        load(str(path))


def test_load_refuses_a_graph_naming_an_op_ember_lacks():
    ep = export(ember.nn.Linear(3, 2), (ember.randn(2, 3),))
    buffer = io.BytesIO()
    save(ep, buffer)
    buffer.seek(0)
    archive = ember.load(buffer, weights_only=True)
    program = json.loads(archive["program"])
    program["graph"]["nodes"][0]["kind"] = "ember::NoSuchOp"
    archive["program"] = json.dumps(program)
    tampered = io.BytesIO()
    ember.save(archive, tampered)
    tampered.seek(0)
    with pytest.raises(RuntimeError, match="Unknown builtin op: ember::NoSuchOp"):
        load(tampered)
