"""``torch.library``: operators defined in Python (``custom_op``, ``Library``), their kernels, fake kernels and
autograd formulas, reached as ``ember.ops.<namespace>.<op>`` (PyTorch's ``torch.ops``) and checked by
``opcheck``."""
from ._custom_op import CustomOpDef, custom_op
from ._dispatch import fallthrough_kernel
from ._infer import infer_schema
from ._library import Library
from ._opcheck import opcheck
from ._registration import define, impl, register_autograd, register_fake, register_kernel

__all__ = ["CustomOpDef", "Library", "custom_op", "define", "fallthrough_kernel", "impl", "infer_schema", "opcheck",
           "register_autograd", "register_fake", "register_kernel"]
