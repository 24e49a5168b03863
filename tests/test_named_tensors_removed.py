"""PyTorch 2.13 removed named tensors (pytorch/pytorch#173895), and ember has none either: each entry point of the
former API (``names=`` on factories, ``Tensor.names``, ``rename``, ``refine_names``, ``align_to``, dims given by
name) fails as in PyTorch 2.13, with its exception type and message, so code written for older releases fails the
same way under ember."""
import pytest
import torch

import ember
from tests.oracle import same_outcome

CALLS = [
    # factories: a single signature refuses the keyword as Python does, an overloaded one lists its overloads
    "L.zeros(2, 3, names=('N', 'C'))", "L.ones(2, names=None)", "L.empty(2, names=('N',))",
    "L.full((2,), 1.0, names=('N',))", "L.tensor([1.0], names=('N',))", "L.empty_like(x, names=None)",
    "L.zeros_like(x, names=None)", "L.rand(2, names=('N',))", "L.randn(2, 3, names=None)", "L.rand((2,), names=None)",
    "L.rand_like(x, names=None)", "L.randint(3, (2,), names=None)", "L.randperm(3, names=None)",
    "L.normal(0.0, 1.0, (2,), names=None)", "x.new_zeros(2, names=None)", "x.new_empty(2, names=None)",
    # the named-tensor methods
    "x.names", "x.has_names()", "x.rename('N', 'C')", "x.rename_(None)", "x.refine_names('N', 'C')",
    "x.align_to('N', 'C')", "x.align_as(x)",
    "x.flatten(['N', 'C'], 'NC')", "x.flatten(0, 1, 'NC')", "L.flatten(x, 0, 1, 'NC')",
    "x.unflatten(1, (('a', 3),))", "x.unflatten('C', (3,))", "x.diagonal(outdim='a', dim1=0, dim2=1)",
    # dims given by name
    "x.sum('C')", "x.sum(('C',))", "L.sum(x, 'C')", "x.mean('C')", "x.max('C')", "x.max(dim='C')",
    "x.max(other='C')", "L.max(x, dim='C')", "x.min('C')", "x.softmax('C')", "L.softmax(x, 'C')",
    "L.nn.functional.softmax(x, 'C')", "x.log_softmax('C')", "x.transpose('N', 'C')", "x.transpose_('N', 'C')",
    "x.size('C')", "x.size(dim='C')", "x.stride('C')", "x.stride(dim='C')", "x.stride(1.0)", "x.squeeze('C')",
    "x.squeeze(dim='C')", "x.squeeze_('C')", "x.unsqueeze('C')", "x.select('C', 0)",
    "x.index_select('C', L.tensor([0]))", "L.cat([x, x], 'N')", "L.stack([x, x], 'N')", "x.unbind('N')",
    "x.cumsum('C')", "x.cumprod('C')", "x.cummax('C')", "x.logcumsumexp('C')", "x.logsumexp('C')", "x.std('C')",
    "x.var('C')", "x.prod('C')", "x.argmax('C')", "x.all('C')", "x.all('C', True)", "x.all('C', keepdim=True)",
    "x.any('C')", "x.median('C')", "x.nanmedian('C')", "x.mode('C')", "x.kthvalue(1, 'C')", "x.sort('C')",
    "x.topk(1, 'C')", "x.narrow('C', 0, 1)", "x.narrow('C', 0, length=1)", "x.chunk(2, 'C')", "x.split(1, 'C')",
    "L.split(x, 1, dim='C')", "x.split([1, 2], 'C')", "x.tensor_split(2, 'C')",
    "x.gather('C', x.long())", "x.nansum('C')", "x.count_nonzero('C')", "x.count_nonzero(dim='C')",
    "x.norm(2, 'C')", "x.index_fill('C', L.tensor([0]), 1.0)", "x.index_add('C', L.tensor([0]), x[:, :1])",
    "x.index_copy('C', L.tensor([0]), x[:, :1])", "x.scatter('C', x.long(), 1.0)", "x.renorm(2, 'C', 1.0)",
    "x.aminmax(dim='C')", "x.amax('C')", "x.movedim('C', 0)", "x.movedim('C', destination=0)",
    "x.unique(dim='C')", "L.unique(x, True, False, False, 'C')", "x.unique_consecutive(dim='C')",
    "L.unique_consecutive(x, True, False, 'C')", "x.select_scatter(dim='C')", "x.renorm(dim='C')",
    # nn's flatten layers took names and named shapes too
    "L.nn.Unflatten(1, (('a', 3),))", "L.nn.Unflatten('C', (3,))(x)", "L.nn.Flatten('N', 'C')(x)",
]


@pytest.mark.parametrize("call", CALLS)
def test_the_named_tensor_api_fails_as_in_pytorch(call):
    same_outcome(lambda L: eval(call, {"L": L, "x": L.zeros(2, 3)}))  # noqa: S307 (the calls above)


@pytest.mark.parametrize("name", ["names", "has_names", "rename", "rename_", "refine_names", "align_to", "align_as"])
def test_no_named_tensor_attributes(name):
    assert hasattr(ember.Tensor, name) is hasattr(torch.Tensor, name) is False
    assert hasattr(ember, "align_tensors") is hasattr(torch, "align_tensors") is False


def test_tensor_name_is_pytorchs_read_only_none():
    """``TensorBase.name``, which PyTorch 2.13 keeps (an autograd name Python never sets), reads None and refuses
    assignment and deletion, on subclasses and parameters too."""
    class Mine(ember.Tensor):
        pass

    class Theirs(torch.Tensor):
        pass

    for lib, cls in ((ember, Mine), (torch, Theirs)):
        message = f"attribute 'name' of '{lib.__name__}._C.TensorBase' objects is not writable"
        x = lib.zeros(2, requires_grad=True)
        for tensor in (x, x * 2, lib.nn.Parameter(lib.ones(1)), lib.zeros(1).as_subclass(cls)):
            assert tensor.name is None
            with pytest.raises(AttributeError, match=message):
                tensor.name = "a"
            with pytest.raises(AttributeError, match=message):
                del tensor.name
