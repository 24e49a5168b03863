"""``Tensor.as_subclass`` is not seen by ``__torch_function__`` handlers, under its own name or another: fastai keeps
the original as ``torch.as_subclass = torch.Tensor.as_subclass``, patches ``Tensor.as_subclass`` to call it, and
its TensorBase's ``clone`` calls ``as_subclass(Tensor)`` (a handler seeing that call returned the subclass again:
endless recursion). Each program runs on torch and on ember with the same output expected."""
import pathlib
import subprocess
import sys
import textwrap

import pytest

import ember

torch = pytest.importorskip("torch")
ROOT = str(pathlib.Path(__file__).resolve().parent.parent)


def test_as_subclass_is_not_dispatched_as_torch():
    results = []
    for lib in (torch, ember):
        calls = []

        class Logged(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                calls.append(func.__name__)
                return super().__torch_function__(func, types, args, kwargs or {})

        x = lib.ones(2, requires_grad=True).as_subclass(Logged)
        plain = x.as_subclass(lib.Tensor)
        again = lib.Tensor.as_subclass(plain, Logged)
        results.append((type(plain).__name__, type(again).__name__, type(plain.grad_fn).__name__, calls))
    assert results[0] == results[1] == ("Tensor", "Logged", "AliasBackward0", [])


_PATCHED = """
    import {lib} as torch
    Tensor = torch.Tensor

    if not hasattr(torch, "as_subclass"):
        torch.as_subclass = torch.Tensor.as_subclass

    def as_subclass(self, typ):   # fastai's patch: keep the attributes
        result = torch.as_subclass(self, typ)
        result.__dict__ = dict(vars(self))
        return result

    Tensor.as_subclass = as_subclass
    calls = []

    class Base(Tensor):   # defining it installs the dispatching wrappers
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {{}})

        def clone(self, *, memory_format=None):
            return self.as_subclass(Tensor).clone(memory_format=memory_format).as_subclass(type(self))

    x = torch.arange(3.0).as_subclass(Base)
    x.tag = "t"
    y = x.clone()
    print(type(y).__name__, hasattr(y, "tag"), y.tolist(), type(x.as_subclass(Tensor)).__name__, calls)
"""


@pytest.mark.timeout(120)
def test_original_as_subclass_kept_under_another_name_is_not_dispatched():
    outputs = []
    for lib in ("torch", "ember"):
        code = textwrap.dedent(_PATCHED.format(lib=lib))
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=100, cwd=ROOT)
        outputs.append(result.stdout.strip() or result.stderr[-2000:])
    assert outputs[1] == outputs[0] == "Base False [0.0, 1.0, 2.0] Tensor ['tolist']"
