"""``onnx.export`` returns an ``ONNXProgram`` as PyTorch 2.x's default exporter does: called with tensors it runs
in onnxruntime and gives the model's outputs; it saves (with or without initializers, as inputs, as external data),
optimizes in place, takes new weights and computes inner values. References: the eager model, onnxruntime on the
saved file, ONNX's reference evaluator and onnx's checker."""
import numpy
import pytest

import ember
from ember import nn

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")


def _model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).eval()


def test_export_returns_a_program_that_runs_as_the_model(tmp_path):
    model, x = _model(), ember.randn(5, 4)
    program = ember.onnx.export(model, (x,), input_names=["x"])
    assert isinstance(program, ember.onnx.ONNXProgram) and program.exported_program is None
    (out,) = program(x)
    numpy.testing.assert_allclose(out.numpy(), model(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    (reference,) = program.call_reference(x)
    numpy.testing.assert_allclose(reference.numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    assert ember.onnx.export(model, (x,), tmp_path / "m.onnx", dynamo=False) is None
    assert repr(program).startswith("ONNXProgram(\n    model=\n")


def test_save_forms_load_and_run(tmp_path):
    model, x = _model(), ember.randn(2, 4)
    program = ember.onnx.export(model, (x,), input_names=["x"])
    expected = model(x).detach().numpy()
    program.save(tmp_path / "plain.onnx")
    onnx.checker.check_model(onnx.load(tmp_path / "plain.onnx"))
    session = onnxruntime.InferenceSession(str(tmp_path / "plain.onnx"))
    numpy.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], expected, rtol=1e-5, atol=1e-6)

    program.save(tmp_path / "external.onnx", external_data=True)
    assert (tmp_path / "external.onnx.data").stat().st_size >= 4 * (4 * 8 + 8 + 8 * 3 + 3)
    loaded = onnx.load(tmp_path / "external.onnx")
    assert len(loaded.graph.initializer) == len(program.model_proto.graph.initializer)

    program.save(tmp_path / "as_inputs.onnx", keep_initializers_as_inputs=True)
    names = {t.name for t in program.model_proto.graph.initializer}
    as_inputs = onnx.load(tmp_path / "as_inputs.onnx")
    assert names <= {i.name for i in as_inputs.graph.input}
    program.save(tmp_path / "bare.onnx", include_initializers=False)
    assert not onnx.load(tmp_path / "bare.onnx").graph.initializer
    assert len(program.model_proto.graph.initializer) == len(names)   # the program itself is unchanged


def test_optimize_drops_dead_nodes_and_unused_initializers():
    model, x = _model(), ember.randn(3, 4)
    program = ember.onnx.export(model, (x,), input_names=["x"])
    graph = program.model_proto.graph
    before = program(x)[0].numpy()
    graph.initializer.append(onnx.numpy_helper.from_array(numpy.ones(3, numpy.float32), "unused_weight"))
    graph.node.append(onnx.helper.make_node("Add", ["x", "unused_weight"], ["dead"]))
    count = len(graph.node)
    program.optimize()
    assert len(graph.node) == count - 1 and "unused_weight" not in {t.name for t in graph.initializer}
    numpy.testing.assert_array_equal(program(x)[0].numpy(), before)


def test_apply_weights_and_compute_values():
    model, x = _model(), ember.randn(3, 4)
    program = ember.onnx.export(model, (x,), input_names=["x"])
    weights = {name: ember.randn(*t.dims) for name, t in
               ((t.name, t) for t in program.model_proto.graph.initializer) if name.startswith("0.")}
    assert weights, [t.name for t in program.model_proto.graph.initializer]
    with pytest.warns(ember.onnx.OnnxExporterWarning, match="Weight 'missing' not found in the model"):
        program.apply_weights({**weights, "missing": ember.ones(1)})
    with ember.no_grad():
        model[0].weight.copy_(weights["0.weight"].reshape(model[0].weight.shape))
        model[0].bias.copy_(weights["0.bias"])
    numpy.testing.assert_allclose(program(x)[0].numpy(), model(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    first = program.model_proto.graph.node[0].output[0]
    (inner,) = program.compute_values([first], (x,))
    numpy.testing.assert_allclose(inner.numpy(), model[0](x).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Value 'nowhere' not found in the model"):
        program.compute_values(["nowhere"], (x,))


def test_an_exported_program_exports_with_its_example_inputs():
    model = _model()
    x = ember.randn(2, 4)
    exported = ember.export.export(model, (x,))
    program = ember.onnx.export(exported)
    assert program.exported_program is exported
    numpy.testing.assert_allclose(program(x)[0].numpy(), model(x).detach().numpy(), rtol=1e-5, atol=1e-6)
