"""``backends.quantized``: the quantized engine switch (``torch.backends.quantized.engine``). ember computes its
quantized ops as PyTorch's x86 engine (fbgemm's arithmetic, oneDNN's for convolutions with symmetric weights) or
its fbgemm one; choosing another engine warns once (qnnpack's rounding differs, and oneDNN is emulated only for
convolutions)."""
import sys
import types
import warnings

_SUPPORTED = ["qnnpack", "onednn", "x86", "fbgemm"]


class _QuantizedEngine(types.ModuleType):
    """The module object itself, so that ``engine`` can be assigned as in PyTorch."""

    def __init__(self, module):
        super().__init__(module.__name__, module.__doc__)
        self._module, self._engine, self._warned = module, "x86", False

    def __getattr__(self, name):
        return getattr(self._module, name)

    @property
    def engine(self):
        """The quantized engine's name ("x86" by default)."""
        return self._engine

    @engine.setter
    def engine(self, value):
        if value not in _SUPPORTED + ["none"]:
            raise RuntimeError(f"{value} is not a valid value for quantized engine")
        if value not in ("x86", "fbgemm", "none") and not self._warned:
            self._warned = True
            warnings.warn(f"ember computes quantized ops as the x86/fbgemm engine; with engine '{value}' PyTorch's "
                          "results differ from ember's by quantization rounding", UserWarning, stacklevel=2)
        self._engine = value

    @property
    def supported_engines(self):
        """The engine names PyTorch's x86 build lists."""
        return list(_SUPPORTED)


sys.modules[__name__] = _QuantizedEngine(sys.modules[__name__])
