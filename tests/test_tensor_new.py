"""Tensor.__new__ builds the tensor, as PyTorch's: a subclass's ``__new__`` calling ``super().__new__(cls, data)``
(tensordict's MemoryMappedTensor) gets an alias of ``data`` as its class, whatever its ``__init__`` does; other
arguments make the legacy constructor's tensor; subclasses with slots of their own alias too. Also torch.StorageBase
and torch._guards.active_fake_mode, which tensordict reads. Each story runs on torch and on ember."""
import importlib

import pytest

import ember

torch = pytest.importorskip("torch")


def _story(lib):
    class Mapped(lib.Tensor):
        def __new__(cls, source):
            return super().__new__(cls, source)

        def __init__(self, *args, **kwargs):   # does nothing, as tensordict's
            pass

    class Slotted(lib.Tensor):
        __slots__ = ("x",)

    x = lib.ones(3, requires_grad=True)
    out = []
    for made, source in [(Mapped(x), x), (Mapped(lib.arange(3)), None), (Mapped([1, 2]), None),
                         (Slotted(x), x), (lib.arange(3.0).as_subclass(Slotted), None), (lib.Tensor(2, 3), None),
                         (lib.Tensor(lib.arange(2)), None)]:
        out.append((type(made).__name__, str(made.dtype).split(".")[1], tuple(made.shape),
                    type(made.grad_fn).__name__, made.requires_grad,
                    None if source is None else made.data_ptr() == source.data_ptr()))
    slotted = Slotted(x)
    slotted.x = "slot"
    (slotted * 2).sum().backward()
    out += [slotted.x, x.grad.tolist(), Mapped(x)[1:].sum().item()]
    out.append(isinstance(lib.ones(2).untyped_storage(), lib.StorageBase))
    out.append(importlib.import_module(f"{lib.__name__}._guards").active_fake_mode())
    return out


def test_tensor_new_as_torch():
    assert _story(ember) == _story(torch)
    assert ember._C.StorageBase is ember.StorageBase
