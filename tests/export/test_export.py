"""ember.export.export against torch.export.export on the same modules and weights: ep.module()'s outputs, the graph
signature's names and kinds, the program's state and API, train and eval mode."""
import pytest
import torch

import ember
from ember.export import ExportedProgram, InputKind, OutputKind, export
from tests.export.models import buffered, close, cnn, encoder, mlp, pair, recurrent, same_inputs, torch_export


def _specs(signature):
    """Input and output specs as plain tuples, comparable across the libraries."""
    inputs = [(s.kind.name, s.arg.name, s.target, s.persistent) for s in signature.input_specs]
    outputs = [(s.kind.name, s.arg.name, s.target) for s in signature.output_specs]
    return inputs, outputs


@pytest.mark.parametrize("builder, shape", [(mlp, (5, 6)), (cnn, (2, 3, 8, 8)), (recurrent, (2, 3, 4))])
def test_module_outputs_equal_torch(builder, shape):
    ember_module, torch_module = pair(builder)
    (x,), (tx,) = same_inputs(shape)
    ep, tep = export(ember_module, (x,)), torch_export(torch_module, (tx,))
    assert isinstance(ep, ExportedProgram)
    (y,), (ty,) = same_inputs(shape)
    close(ep.module()(y), tep.module()(ty))
    close(ep.module()(y), ember_module(y))


def test_buffers_and_keyword_inputs_equal_torch():
    ember_module, torch_module = pair(buffered)
    (x, bias), (tx, tbias) = same_inputs((4, 4), (4, 3))
    ep = export(ember_module, (x,), {"bias": bias})
    tep = torch_export(torch_module, (tx,), {"bias": tbias})
    (y, b), (ty, tb) = same_inputs((4, 4), (4, 3))
    close(ep.module()(y, bias=b), tep.module()(ty, bias=tb))
    assert _specs(ep.graph_signature) == _specs(tep.graph_signature)
    assert list(ep.state_dict) == list(tep.state_dict)
    assert sorted(ep.constants) == sorted(tep.constants)
    assert [n for n, _ in ep.named_buffers()] == [n for n, _ in tep.named_buffers()]


@pytest.mark.parametrize("builder, shape", [(mlp, (5, 6)), (cnn, (2, 3, 8, 8)), (recurrent, (2, 3, 4)),
                                            (encoder, (2, 5, 8))])
def test_input_specs_equal_torch(builder, shape):
    ember_module, torch_module = pair(builder)
    (x,), (tx,) = same_inputs(shape)
    ep, tep = export(ember_module, (x,)), torch_export(torch_module, (tx,))
    assert _specs(ep.graph_signature)[0] == _specs(tep.graph_signature)[0]
    assert ep.graph_signature.parameters == tep.graph_signature.parameters
    assert ep.graph_signature.buffers == tep.graph_signature.buffers
    assert ep.graph_signature.inputs_to_parameters == tep.graph_signature.inputs_to_parameters
    assert ep.graph_signature.user_inputs == tep.graph_signature.user_inputs
    assert [n for n, _ in ep.named_parameters()] == [n for n, _ in tep.named_parameters()]
    assert list(ep.state_dict) == list(tep.state_dict)


def test_output_specs_of_an_mlp_equal_torch():
    ember_module, torch_module = pair(mlp)
    (x,), (tx,) = same_inputs((5, 6))
    ep, tep = export(ember_module, (x,)), torch_export(torch_module, (tx,))
    assert _specs(ep.graph_signature)[1] == _specs(tep.graph_signature)[1] == [("USER_OUTPUT", "linear_2", None)]
    assert ep.graph_signature.user_outputs == tep.graph_signature.user_outputs


def test_nested_and_constant_inputs_are_named_as_torch_names_them():
    class Nested:
        def __init__(self, lib):
            class Module(lib.nn.Module):
                def forward(self, xs, d, k=None, n=3):
                    return xs[0] + xs[1] * d["a"] * n, k
            self.module = Module()
    (a, b, c, k), (ta, tb, tc, tk) = same_inputs((2,), (2,), (2,), (1,))
    ep = export(Nested(ember).module, ((a, b), {"a": c}), {"k": k, "n": 2})
    tep = torch_export(Nested(torch).module, ((ta, tb), {"a": tc}), {"k": tk, "n": 2})
    assert _specs(ep.graph_signature)[0] == _specs(tep.graph_signature)[0]
    assert ep.graph_signature.user_inputs == tep.graph_signature.user_inputs
    close(ep.module()((a, b), {"a": c}, k=k, n=2), tep.module()((ta, tb), {"a": tc}, k=tk, n=2))
    with pytest.raises(AssertionError, match="Guard failed: n == 2"):
        ep.module()((a, b), {"a": c}, k=k, n=5)
    with pytest.raises(AssertionError, match="Guard failed: n == 2"):
        tep.module()((ta, tb), {"a": tc}, k=tk, n=5)


def test_an_input_passed_twice_is_two_inputs():
    class Sum(ember.nn.Module):
        def forward(self, a, *, b, c):
            return a + 2 * b + 3 * c
    x = ember.ones(2)
    ep = export(Sum(), (x,), {"c": x, "b": x})
    assert ep.graph_signature.user_inputs == ("a", "c", "b")
    assert ep.module()(ember.zeros(2), b=ember.ones(2), c=ember.zeros(2)).tolist() == [2.0, 2.0]
    assert ep.graph_signature.output_specs[0].kind is OutputKind.USER_OUTPUT


def test_eval_mode_batch_norm_and_dropout_export_as_inference():
    ember_module, torch_module = pair(cnn)
    (x,), (tx,) = same_inputs((2, 3, 8, 8))
    ep, tep = export(ember_module, (x,)), torch_export(torch_module, (tx,))
    before = ember_module.bn.running_mean.clone()
    (y,), (ty,) = same_inputs((2, 3, 8, 8))
    first = ep.module()(y)
    close(first, ep.module()(y), atol=0)   # dropout is off
    close(first, tep.module()(ty))
    assert ember.equal(ember_module.bn.running_mean, before)
    assert all(s.kind is OutputKind.USER_OUTPUT for s in ep.graph_signature.output_specs)


def test_train_mode_updates_running_statistics_as_torch_does():
    class Net:
        def __init__(self, lib):
            nn = lib.nn

            class Module(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(3, 4)
                    self.bn = nn.BatchNorm1d(4)
                    self.register_buffer("count", lib.zeros(()))

                def forward(self, x):
                    self.count.add_(1)
                    return self.bn(self.fc(x))
            self.module = Module()
    ember_module, torch_module = Net(ember).module, Net(torch).module
    torch_module.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                                  for k, v in ember_module.state_dict().items()})
    (x,), (tx,) = same_inputs((6, 3))
    ep, tep = export(ember_module, (x,)), torch_export(torch_module, (tx,))
    assert ember_module.count.item() == torch_module.count.item() == 0   # exporting leaves the state alone
    assert ember_module.bn.num_batches_tracked.item() == 0
    module, torch_unlifted = ep.module(), tep.module()
    close(module(x), torch_unlifted(tx))
    for name in ("count", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"):
        close(module.get_buffer(name), torch_unlifted.get_buffer(name))
    assert module.get_buffer("count") is ember_module.count   # shared with the exported module, as torch's
    assert ep.graph_signature.buffers_to_mutate == {"add_": "count", "add__1": "bn.num_batches_tracked"}


def test_unlifted_module_refuses_train_and_eval_as_torch():
    ep = export(mlp(ember), (ember.randn(2, 6),))
    tep = torch_export(mlp(torch), (torch.randn(2, 6),))
    for call in (lambda m: m.train(), lambda m: m.eval()):
        with pytest.raises(NotImplementedError) as expected:
            call(tep.module())
        with pytest.raises(NotImplementedError, match=str(expected.value).replace("(", r"\(").replace(")", r"\)")):
            call(ep.module())


def test_calling_the_program_directly_raises_as_torch():
    ep = export(mlp(ember), (ember.randn(2, 6),))
    tep = torch_export(mlp(torch), (torch.randn(2, 6),))
    with pytest.raises(RuntimeError) as expected:
        tep(torch.randn(2, 6))
    with pytest.raises(RuntimeError) as got:
        ep(ember.randn(2, 6))
    assert str(got.value) == str(expected.value)


def test_program_api():
    module = buffered(ember)
    x = ember.randn(2, 4)
    ep = export(module, (x,))
    assert ep.example_inputs[0][0] is x and ep.example_inputs[1] == {}
    assert ep.state_dict["fc.weight"] is module.fc.weight
    assert list(ep.parameters()) == [module.fc.weight, module.fc.bias]
    assert [b is module.scale or b is module.shift for b in ep.buffers()] == [True, True]
    assert ep.graph_signature.inputs_to_lifted_tensor_constants == {"c_offset": "offset"}
    assert ep.graph_signature.non_persistent_buffers == ("shift",)
    assert [s.kind for s in ep.graph_signature.input_specs] == [InputKind.PARAMETER] * 2 + [InputKind.BUFFER] * 2 + \
        [InputKind.CONSTANT_TENSOR, InputKind.USER_INPUT]
    text = str(ep)
    assert text.startswith("ExportedProgram:\n    class GraphModule(torch.nn.Module):")
    assert "Graph signature:" in text and "p_fc_weight: PARAMETER target='fc.weight'" in text
    assert "linear = ops.Linear(x, p_fc_weight, p_fc_bias)" in ep.graph_module.code
    assert "x: \"f32[2, 4]\"" in ep.graph_module.print_readable(print_output=False)
    flat = [t for t in (module.fc.weight, module.fc.bias, module.scale, module.shift, module.offset, x)]
    close(ep.graph_module(*flat)[0], module(x))
    decomposed = ep.run_decompositions()
    assert isinstance(decomposed, ExportedProgram) and decomposed.graph is not ep.graph
    close(decomposed.module()(x), module(x))
    assert "fc" in dict(ep.module().named_children())


def test_unlifted_module_trains_the_exported_parameters():
    module = mlp(ember)
    ep = export(module, (ember.randn(3, 6),))
    ep.module()(ember.randn(3, 6)).sum().backward()
    assert module[0].weight.grad is not None


def test_export_reaches_through_the_torch_alias(tmp_path):
    import subprocess
    import sys
    program = tmp_path / "program.py"
    program.write_text("import torch\nfrom torch.export import Dim, export\n"
                       "ep = export(torch.nn.Linear(3, 2), (torch.randn(4, 3),), dynamic_shapes=({0: Dim('b')},))\n"
                       "print(type(ep).__module__, torch.export.__name__,\n"
                       "      tuple(ep.module()(torch.randn(7, 3)).shape))\n")
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    result = subprocess.run([sys.executable, "-m", "ember", "run", str(program)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env={**__import__("os").environ, "PYTHONPATH": root})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["torch.export.exported_program", "ember.export", "(7,", "2)"]
    assert ember.export.export is export


def test_writes_into_an_input_reach_the_caller_as_in_torch():
    class Inplace:
        def __init__(self, lib):
            class Module(lib.nn.Module):
                def forward(self, x):
                    x.mul_(2)
                    return x + 1
            self.module = Module()
    (x,), (tx,) = same_inputs((3,))
    ep, tep = export(Inplace(ember).module, (x.clone(),)), torch_export(Inplace(torch).module, (tx.clone(),))
    out, torch_out = ep.module()(x), tep.module()(tx)
    close(out, torch_out)
    close(x, tx)
    assert [(s.kind.name, s.target) for s in ep.graph_signature.output_specs][1:] == [("USER_INPUT_MUTATION", "x")]


def test_branching_on_a_computed_value_raises_as_torch():
    class Branch:
        def __init__(self, lib):
            class Module(lib.nn.Module):
                def forward(self, x):
                    return x + 1 if x.sum() > 0 else x - 1
            self.module = Module()
    with pytest.raises(RuntimeError) as expected:
        torch_export(Branch(torch).module, (torch.ones(3),))
    with pytest.raises(RuntimeError) as got:
        export(Branch(ember).module, (ember.ones(3),))
    assert type(got.value).__name__ == type(expected.value).__name__ == "GuardOnDataDependentSymNode"
    assert str(got.value).startswith("Could not guard on data-dependent expression")


def test_a_number_read_from_a_computed_tensor_is_refused():
    class Scale(ember.nn.Module):
        def forward(self, x):
            return x * x.sum().item()
    with pytest.raises(ember._dynamo.exc.Unsupported, match="cannot record converting a tensor"):
        export(Scale(), (ember.ones(3),))
