"""Making jagged nested tensors beside PyTorch 2.13: nested_tensor, as_nested_tensor, nested_tensor_from_jagged,
narrow, masked_select and their errors; metadata (offsets, lengths, sizes, nested ints), printing, unbinding,
gradients to the tensors a nested tensor was made from, in-place ops and torch.save."""
import io
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember

from ._common import _normalize, check, compare

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")

CONSTRUCTION = [
    "torch.nested.nested_tensor([torch.arange(6.).reshape(2, 3), torch.ones(4, 3)], layout=torch.jagged)",
    "torch.nested.nested_tensor([[1, 2], [3]], layout=torch.jagged)",
    "torch.nested.nested_tensor([torch.ones(2), torch.ones(3)], layout=torch.jagged, dtype=torch.float64)",
    "torch.nested.nested_tensor([], layout=torch.jagged)",
    "torch.nested.nested_tensor([torch.ones(2, 3), torch.ones(3)], layout=torch.jagged)",
    "torch.nested.nested_tensor([torch.ones(2, 3), torch.ones(3, 4)], layout=torch.jagged)",
    "torch.nested.nested_tensor([torch.ones(2), torch.ones(3).double()], layout=torch.jagged)",
    "torch.nested.nested_tensor([torch.tensor(1.), torch.tensor(2.)], layout=torch.jagged)",
    "torch.nested.nested_tensor([torch.ones(2, dtype=torch.int64)], layout=torch.jagged, requires_grad=True)",
    "torch.nested.nested_tensor([torch.ones(2)], layout=torch.sparse_coo)",
    "torch.nested.as_nested_tensor(torch.arange(24.).reshape(2, 3, 4), layout=torch.jagged)",
    "torch.nested.as_nested_tensor([torch.ones(2, 3), torch.zeros(1, 3)], layout=torch.jagged)",
    "torch.nested.as_nested_tensor(torch.ones(3), layout=torch.jagged)",
    "torch.nested.as_nested_tensor('x')",
    "torch.nested.nested_tensor_from_jagged(torch.arange(15.).reshape(5, 3), torch.tensor([0, 2, 5]))",
    "torch.nested.nested_tensor_from_jagged(torch.arange(15.).reshape(5, 3), lengths=torch.tensor([2, 3]))",
    "torch.nested.nested_tensor_from_jagged(torch.arange(15.).reshape(5, 3))",
    "torch.nested.nested_tensor_from_jagged(torch.arange(15.).reshape(5, 3), torch.tensor([0, 2, 5]), jagged_dim=0)",
    "torch.nested.nested_tensor_from_jagged(torch.arange(15.).reshape(3, 5), torch.tensor([0, 2, 5]), jagged_dim=2)",
    "torch.nested.nested_tensor_from_jagged(torch.arange(15.).reshape(5, 3), torch.tensor([0, 1, 3]), "
    "torch.tensor([1, 2]))",
    "torch.nested.nested_tensor_from_jagged(torch.arange(15.).reshape(5, 3), torch.tensor([0, 1, 3]), "
    "torch.tensor([1, 2])).unbind()",
    "torch.nested.narrow(torch.arange(36.).reshape(3, 6, 2), 1, torch.tensor([0, 1, 2]), torch.tensor([3, 2, 4]), "
    "layout=torch.jagged)",
    "torch.nested.narrow(torch.arange(36.).reshape(3, 6, 2), 1, torch.tensor([0, 1, 2]), torch.tensor([3, 2, 4]), "
    "layout=torch.jagged).unbind()",
    "torch.nested.narrow(torch.arange(36.).reshape(3, 6, 2), 1, 1, 3, layout=torch.jagged)",
    "torch.nested.narrow(torch.arange(36.).reshape(3, 6, 2), 1, 0, 6, layout=torch.jagged)",
    "torch.nested.narrow(torch.arange(36.).reshape(3, 6, 2), 2, 0, 1, layout=torch.jagged)",
    "torch.nested.narrow(torch.arange(36.).reshape(3, 6, 2), 1, 0.5, 1, layout=torch.jagged)",
    "torch.nested.masked_select(torch.arange(6.).reshape(2, 3), torch.tensor([[True, False, True], [False, False, "
    "True]]))",
    "torch.nested.masked_select(torch.arange(6.).reshape(2, 3), torch.tensor([True, False, True]))",
    "nt.offsets()", "nt.lengths()", "nt.values()", "nt.size()", "nt.size(1)", "nt.size(-1)", "nt.size(3)",
    "nt.dim()", "nt.ndim", "nt.numel()", "len(nt)", "nt.layout", "nt.is_nested", "nt.dtype", "nt.device",
    "nt.is_contiguous()", "nt.stride()", "nt.requires_grad", "nt.is_leaf", "nt._max_seqlen", "nt._min_seqlen",
    "nt.shape[1] == nt_b.shape[1]", "nt.shape[1] == other.shape[1]", "str(nt.shape)", "repr(nt)", "repr(nt.detach())",
    "repr(nt * 2)", "nt.to('meta').offsets().device", "nt.to('meta').shape[1] == nt.shape[1]",
    "nt.to('meta').device", "nt.is_pinned()",
    "torch.nested.nested_tensor([torch.ones(2)], layout=torch.jagged, pin_memory=True)", "nt.tolist()", "nt.numpy()",
    "nt.item()", "bool(nt)", "nt.is_inference()", "nt.detach().requires_grad_().requires_grad",
]


@pytest.mark.parametrize("expression", CONSTRUCTION)
def test_construction_and_metadata(expression):
    check(expression)


def test_repr_names_torch_structure():
    nt = ember.nested.nested_tensor([ember.ones(2, 3), ember.ones(1, 3)], layout=ember.jagged, requires_grad=True)
    assert repr(nt).startswith("NestedTensor(size=(2, j")
    assert repr(nt).endswith(", 3), offsets=tensor([0, 2, 3]), requires_grad=True, contiguous=True)")


@pytest.mark.parametrize("lib", [torch, ember])
def test_gradients_reach_the_components(lib):
    """as_nested_tensor keeps the components' graphs; nested_tensor makes a leaf whose .grad is nested."""
    if lib is torch:
        pytest.skip("PyTorch 2.13's backward through as_nested_tensor of a list fails (operator aten::stride)")
    a = lib.arange(6.).reshape(2, 3).requires_grad_()
    b = lib.ones(1, 3, requires_grad=True)
    nt = lib.nested.as_nested_tensor([a, b], layout=lib.jagged)
    (nt.sin() * 2).values().sum().backward()
    np.testing.assert_allclose(np.asarray(a.grad.tolist()), 2 * np.cos(np.arange(6.).reshape(2, 3)), rtol=1e-6)
    leaf = lib.nested.nested_tensor([lib.ones(2, 3), lib.ones(1, 3)], layout=lib.jagged, requires_grad=True)
    (leaf * 3).values().sum().backward()
    (leaf * 3).values().sum().backward()
    assert leaf.grad.is_nested and leaf.grad.values().tolist() == [[6.0] * 3] * 3
    assert leaf.grad.offsets() is leaf.offsets()


def test_from_jagged_is_a_view_with_gradients():
    results = []
    for lib in (torch, ember):
        values = lib.tensor(np.arange(15.).reshape(5, 3), requires_grad=True)
        nt = lib.nested.nested_tensor_from_jagged(values, lib.tensor([0, 2, 5]), max_seqlen=4)
        (nt.relu() * nt).sum().backward()
        results.append((values.grad, nt._max_seqlen))
    compare(results[1][0], results[0][0])
    assert results[1][1] == results[0][1] == 4


def test_in_place_ops():
    for expression in ["nt.detach().add_(1)", "nt.detach().mul_(nt_b.detach())", "nt.detach().zero_()",
                       "nt.detach().clamp_(0, 1)", "nt.detach().fill_(2.0)"]:
        check(expression)
    nt = ember.nested.nested_tensor([ember.arange(6.).reshape(2, 3), ember.ones(1, 3)], layout=ember.jagged,
                                    requires_grad=True)
    y = nt * 2
    y.mul_(y)   # PyTorch 2.13's backward of this fails (aten._nested_tensor_size); d(sum (2x)^2)/dx = 8x
    y.values().sum().backward()
    np.testing.assert_allclose(nt.grad.values().numpy(), 8 * nt.values().detach().numpy())


def test_save_and_load_roundtrip(tmp_path):
    nt = ember.nested.nested_tensor([ember.arange(6.).reshape(2, 3), ember.ones(1, 3)], layout=ember.jagged,
                                    requires_grad=True)
    path = tmp_path / "nt.pt"
    ember.save({"nt": nt}, path)
    loaded = ember.load(path)["nt"]
    assert loaded.is_nested and loaded.requires_grad
    assert loaded.offsets().tolist() == [0, 2, 3] and loaded.values().tolist() == nt.values().tolist()
    theirs = torch.load(path)["nt"]   # PyTorch reads ember's file as its own NestedTensor
    assert theirs.is_nested and theirs.offsets().tolist() == [0, 2, 3]
    assert theirs.values().tolist() == nt.values().tolist()
    assert (theirs._min_seqlen, theirs._max_seqlen) == (1, 2) == (loaded._min_seqlen, loaded._max_seqlen)


@pytest.mark.parametrize("weights_only", [True, False])
def test_load_torch_saved_nested_tensor(weights_only):
    buffer = io.BytesIO()
    nt = torch.nested.nested_tensor([torch.arange(6.).reshape(2, 3), torch.ones(1, 3)], layout=torch.jagged)
    torch.save(nt, buffer)
    buffer.seek(0)
    ember.nested   # loaded, it marks its globals safe (PyTorch's torch.nested does on import)
    loaded = ember.load(buffer, weights_only=weights_only)
    assert loaded.is_nested and _normalize(loaded.shape) == _normalize(nt.shape)
    assert loaded.values().tolist() == nt.values().tolist() and loaded.offsets().tolist() == [0, 2, 3]
    assert (loaded._min_seqlen, loaded._max_seqlen) == (1, 2)


def test_weights_only_load_before_torch_nested_loads(tmp_path):
    """PyTorch's error where torch.nested has not marked its globals yet (ember loads it on first use)."""
    path = tmp_path / "nt.pt"
    torch.save(torch.nested.nested_tensor([torch.ones(2, 3)], layout=torch.jagged), path)
    script = (f"import ember\ntry:\n    ember.load({str(path)!r})\nexcept Exception as error:\n    print(error)\n"
              f"import ember.nested\nprint(ember.load({str(path)!r}).is_nested)")
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120).stdout
    assert "``torch.nested`` and ``torch._dynamo`` must be imported to load nested jagged tensors (NJTs)" in output
    assert output.rstrip().endswith("True")


def test_autograd_grad_and_seeded_dropout():
    """autograd.grad hands a nested gradient back for a nested input; dropout in training draws PyTorch's mask."""
    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        nt = lib.nested.nested_tensor([lib.ones(2, 3), lib.ones(4, 3)], layout=lib.jagged, requires_grad=True)
        dropped = lib.nn.functional.dropout(nt, 0.5)
        grad, = lib.autograd.grad((dropped * nt).values().sum(), nt)
        results.append((dropped, grad))
    for ours, theirs in zip(results[1], results[0]):
        compare(ours, theirs)


def test_backward_with_a_nested_gradient():
    grads = []
    for lib in (torch, ember):
        nt = lib.nested.nested_tensor([lib.ones(2, 3), lib.ones(1, 3)], layout=lib.jagged, requires_grad=True)
        gradient = lib.nested.nested_tensor([lib.full((2, 3), 2.0), lib.full((1, 3), 3.0)], layout=lib.jagged)
        (nt.sin() * 2).backward(lib.nested.nested_tensor_from_jagged(gradient.values(), nt.offsets()))
        grads.append(nt.grad)
    compare(grads[1], grads[0])


def test_hooks_see_nested_gradients():
    grads = []
    for lib in (torch, ember):
        nt = lib.nested.nested_tensor([lib.ones(2, 3), lib.ones(1, 3)], layout=lib.jagged, requires_grad=True)
        y = nt * 2
        seen = []
        y.register_hook(lambda g: seen.append(g.is_nested) or g * 10)
        y.values().sum().backward()
        assert seen == [True]
        grads.append(nt.grad)
    compare(grads[1], grads[0])
