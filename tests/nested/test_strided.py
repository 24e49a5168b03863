"""The strided layout (``torch.nested.nested_tensor``'s default) beside PyTorch 2.13: construction, sizes and
their errors, unbinding, padding, printing, the ops its NestedTensor kernels run and the errors of those it lacks;
gradients through the components."""
import io
import warnings

import numpy as np
import pytest
import torch

import ember

from ._common import _normalize

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")


def _names(lib):
    rng = np.random.default_rng(1)
    comps = [rng.standard_normal(s) for s in ((2, 4), (3, 4))]
    nt = lib.nested.nested_tensor([lib.tensor(c) for c in comps], requires_grad=True)
    same = lib.nested.nested_tensor([lib.tensor(c) * 2 for c in comps])
    other = lib.nested.nested_tensor([lib.tensor(comps[0]), lib.tensor(comps[0])])
    ragged2 = lib.nested.nested_tensor([lib.tensor(rng.standard_normal((2, 3))),
                                        lib.tensor(rng.standard_normal((4, 5)))])
    return {"torch": lib, "F": lib.nn.functional, "nt": nt, "same": same, "other": other, "ragged2": ragged2,
            "w": lib.tensor(rng.standard_normal((5, 4))), "b": lib.tensor(rng.standard_normal(5)),
            "lw": lib.tensor(rng.standard_normal(4)), "lb": lib.tensor(rng.standard_normal(4)),
            "d": lib.tensor(rng.standard_normal(4)), "big": lib.tensor(rng.standard_normal((2, 5, 3)))}


def _evaluate(expression, lib):
    names = _names(lib)
    try:
        return names, eval(expression, {}, names), None
    except Exception as error:   # noqa: BLE001 (compared with torch's)
        return names, None, error


def _same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    elif isinstance(theirs, torch.Tensor) and theirs.is_nested:
        assert ours.is_nested and ours.layout == ember.strided and ours.dim() == theirs.dim()
        _same(ours.unbind(), theirs.unbind())
    elif isinstance(theirs, torch.Tensor):
        assert not ours.is_nested and tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=1e-6)
    else:
        assert _normalize(ours) == _normalize(theirs)


EXPRESSIONS = [
    "nt.dim()", "nt.size(0)", "nt.size(2)", "nt.size(-1)", "nt.size(1)", "nt.size(3)", "nt.shape", "nt.stride()",
    "len(nt)", "nt.numel()", "nt.is_inference()", "nt.detach().requires_grad_().requires_grad", "nt.is_nested",
    "nt.layout", "nt.is_contiguous()", "nt.unbind()", "nt.unbind(1)",
    "nt[1]", "list(nt)", "nt.values()", "nt.to_padded_tensor(0.0)", "torch.nested.to_padded_tensor(ragged2, -1.0)",
    "torch.nested.to_padded_tensor(ragged2, 0.5, output_size=(2, 5, 6))",
    "torch.nested.to_padded_tensor(ragged2, 0.5, output_size=(2, 3, 6))",
    "nt.sin()", "nt * 2", "2 - nt", "nt.relu()", "F.gelu(nt)", "nt + same", "nt * same", "nt + other", "nt + d",
    "nt.softmax(-1)", "nt.softmax(1)", "nt.softmax(0)", "F.log_softmax(nt, 2)", "F.linear(nt, w, b)",
    "nt.transpose(1, 2)", "nt.transpose(0, 1)", "F.layer_norm(nt, (4,), lw, lb)", "F.layer_norm(nt, (4,))",
    "nt @ w.t()", "nt @ nt.transpose(1, 2)", "nt.cumsum(1)", "nt.sum()", "nt.sum(-1)", "nt.sum(-1, keepdim=True)",
    "nt.select(1, 0)", "nt.select(0, 1)", "torch.nested.narrow(big, 0, 0, 1)", "torch.nested.narrow(big, 1, 1, 2)",
    "torch.nested.as_nested_tensor(big).unbind()", "torch.nested.nested_tensor([]).dim()",
    "torch.nested.nested_tensor([torch.ones(2, 3), torch.ones(3)])", "nt.double().dtype", "nt.contiguous()",
    "nt.reshape(2, -1, 2, 2)", "nt.view(2, -1, 2, 2)", "nt.unsqueeze(-1)", "nt.unsqueeze(0)",
    "nt.unsqueeze(-1).squeeze(-1)", "nt.chunk(2, -1)", "nt.detach().split(2, -1)",
    "torch.cat([nt.detach(), same], -1)",
    "torch.where(nt > 0, nt, nt)", "nt.detach().mean(-1, keepdim=True)",
    "nt.detach().max(-1)", "nt == nt", "nt == 0", "nt ** 2",
    "nt.sum(1, keepdim=True)", "nt.clone().mul_(2)", "nt.detach().clone().add_(same)", "nt.detach().clone().zero_()",
    "F.scaled_dot_product_attention(nt.unsqueeze(1), nt.unsqueeze(1), nt.unsqueeze(1))",
    "F.embedding(torch.nested.nested_tensor([torch.tensor([1, 2]), torch.tensor([0])]), w)",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_matches_torch(expression):
    _, theirs, their_error = _evaluate(expression, torch)
    _, ours, our_error = _evaluate(expression, ember)
    if their_error is not None:
        assert our_error is not None, f"torch raised {their_error!r}; ember returned {ours!r}"
        assert type(our_error) is type(their_error) or type(our_error).__name__ == type(their_error).__name__
        ours_text, theirs_text = str(our_error).split("\n")[0], str(their_error).split("\n")[0]
        assert theirs_text.startswith(ours_text[:100]), (ours_text, theirs_text)
        return
    assert our_error is None, f"ember raised {our_error!r}"
    _same(ours, theirs)


@pytest.mark.parametrize("expression", ["(nt.sin() * same).to_padded_tensor(0.0)",
                                        "F.linear(nt, w, b).to_padded_tensor(0.0)",
                                        "F.gelu(nt).sum(-1, keepdim=True).to_padded_tensor(0.0)"])
def test_gradients_match_torch(expression):
    grads = []
    for lib in (torch, ember):
        names = _names(lib)
        result = eval(expression, {}, names)
        (result * lib.tensor(np.cos(np.arange(result.numel())).reshape(tuple(result.shape)))).sum().backward()
        grads.append(names["nt"].grad)
    assert grads[1].is_nested
    _same(grads[1], grads[0])


def test_prototype_warning_once(monkeypatch):
    from ember.nested._internal import strided
    monkeypatch.setattr(strided, "_warned", [])
    with pytest.warns(UserWarning, match="The PyTorch API of nested tensors is in prototype stage"):
        ember.nested.nested_tensor([ember.ones(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.nested.nested_tensor([ember.ones(2)])


@pytest.mark.parametrize("expression", ["nt.detach()", "nt", "nt * 2", "torch.nested.nested_tensor([])",
                                        "torch.nested.nested_tensor([torch.ones(2, dtype=torch.int64)])"])
def test_repr_matches_torch(expression):
    ours, theirs = (repr(eval(expression, {}, _names(lib))) for lib in (ember, torch))
    assert ours.replace("ember.", "torch.") == theirs


def test_save_load_in_torch_form(tmp_path):
    nt = _names(ember)["ragged2"]
    path = tmp_path / "nt.pt"
    ember.save([nt], path)
    for loaded in (ember.load(path)[0], torch.load(path)[0]):
        assert loaded.is_nested and loaded.dim() == 3
        _same(loaded.unbind(), _names(torch)["ragged2"].unbind())
    buffer = io.BytesIO()
    torch.save(_names(torch)["ragged2"], buffer)
    buffer.seek(0)
    _same(ember.load(buffer).unbind(), _names(torch)["ragged2"].unbind())
