"""A tensor's ``__dict__`` holds a program's attributes; assigning it (fastai's ``set_meta`` assigns a copy of another
tensor's after every op on its TensorBase) leaves the tensor's autograd state alone, as in PyTorch, whose autograd
state is not in the dictionary. Each scenario runs on torch and on ember with the same observations expected."""
import pytest

import ember

torch = pytest.importorskip("torch")


def _scenario(lib):
    leaf = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    leaf.note = "leaf"
    base = leaf * 2
    view = base[1:]
    result = (view * 3).sum()
    view.__dict__ = leaf.__dict__   # a leaf's dictionary: the view stays a non-leaf view in the graph
    result.__dict__ = {**vars(leaf), "tag": 7}
    seen = [view.note, result.note, result.tag, view.is_leaf, view.requires_grad, view._base is base,
            type(result.grad_fn).__name__, result.is_leaf]
    view /= 2   # in place through the view: needs its graph place intact
    total = (view.sum() + result)
    total.backward()
    seen.append(leaf.grad.tolist())
    plain = lib.ones(2)
    plain.__dict__ = {"x": 1}
    seen += [plain.x, plain.requires_grad, plain.grad_fn is None]
    return seen


def test_assigning_the_dictionary_keeps_autograd_state_as_torch():
    ours = _scenario(ember)
    assert ours == _scenario(torch)
    assert ours[-4] == [0.0, 7.0, 7.0]


def test_subclass_dictionary_assignment_keeps_the_graph():
    for lib in (ember, torch):
        class Meta(lib.Tensor):
            pass

        x = lib.ones(3, requires_grad=True)
        y = (x * 2).as_subclass(Meta)
        y.__dict__ = {"meta": "kept", "requires_grad": False, "grad_fn": None}
        y.sum().backward()
        assert (y.meta, y.requires_grad, y.grad_fn is not None, x.grad.tolist()) == ("kept", True, True, [2.0] * 3)


def test_tensor_base_class_as_torch():
    assert [cls.__name__ for cls in ember.Tensor.__mro__] == [cls.__name__ for cls in torch.Tensor.__mro__]
    assert ember.Tensor.__mro__[1] is ember._C.TensorBase
    assert isinstance(ember.ones(1), ember._C.TensorBase)
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        y.note = 1
        del y.__dict__   # the program's attributes go, the graph stays
        assert (hasattr(y, "note"), type(y.grad_fn).__name__) == (False, "MulBackward0")
