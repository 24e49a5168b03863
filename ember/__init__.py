"""ember: PyTorch's API on NumPy (CPU) and CuPy (NVIDIA GPUs). ``import ember as torch``."""
from . import _dtype
from ._backend import device
from ._dtype import (bfloat16, complex64, complex128, float16, float32, float64, get_default_dtype, int8, int16,
                     int32, int64, promote_types, set_default_dtype, uint8, uint16, uint32, uint64)
from ._dtype import (complex32, float4_e2m1fn_x2, float8_e4m3fn, float8_e4m3fnuz, float8_e5m2,  # noqa: F401
                     float8_e5m2fnuz, float8_e8m0fnu)
from ._dtype_info import finfo, iinfo
from ._memory_format import channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format
from ._tensor import Size, Tensor
from ._tensor_str import set_printoptions
from . import autograd, ops
from . import overrides  # noqa: E402,F401  (the __torch_function__ protocol: Tensor.__torch_function__)
from . import _python_dispatch  # noqa: E402,F401  (the __torch_dispatch__ protocol; its hook starts when used)
from .autograd import enable_grad, inference_mode, no_grad, set_grad_enabled
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled
from .autograd.grad_mode import is_grad_enabled, is_inference_mode_enabled
from .ops.comparison import *  # noqa: F401,F403
from .ops.complex import *  # noqa: F401,F403
from .ops.conversion import *  # noqa: F401,F403
from .ops.creation import *  # noqa: F401,F403
from .ops.ranges import *  # noqa: F401,F403
from .ops.cumulative import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.gather_scatter import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.pointwise import *  # noqa: F401,F403
from .ops.random import *  # noqa: F401,F403
from .ops import random  # noqa: E402  (ember.random, as torch.random)
from .ops.reduction import *  # noqa: F401,F403
from .ops.variance import *  # noqa: F401,F403
from .ops.segment import *  # noqa: F401,F403
from .ops.order_statistics import *  # noqa: F401,F403
from .ops.sampling import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.rearrange import *  # noqa: F401,F403
from .ops.sorting import *  # noqa: F401,F403
from .ops.calculus import *  # noqa: F401,F403  (issue 15: more of torch's namespace)
from .ops.floating_point import *  # noqa: F401,F403
from .ops.indices import *  # noqa: F401,F403
from .ops.integer_math import *  # noqa: F401,F403
from .ops.hashing import *  # noqa: F401,F403
from .ops.linalg.lu import *  # noqa: F401,F403
from .ops.linalg.householder import *  # noqa: F401,F403
from .ops.statistics import *  # noqa: F401,F403
from .ops.tensor_utilities import *  # noqa: F401,F403
from .ops.view_copies import *  # noqa: F401,F403
from . import linalg  # noqa: E402
from ._backend import cuda_available as _cuda_available  # noqa: F401
from . import backends, cuda  # noqa: E402,F401
from .ops.stft import *  # noqa: F401,F403,E402
from .ops.windows import *  # noqa: F401,F403,E402
from . import fft  # noqa: E402,F401
from ._alias import install_torch_alias  # noqa: E402,F401
from .ops.functional_aliases import *  # noqa: F401,F403,E402
from .ops.removed import *  # noqa: F401,F403,E402
from .ops.native_forms import *  # noqa: F401,F403,E402
from .ops.namespace_forms import *  # noqa: F401,F403,E402  (torch.as_strided_, torch.is_distributed, ...)
from .ops.batch_norm_stats import *  # noqa: F401,F403,E402  (SyncBatchNorm's building blocks)
from .ops.control_flow import *  # noqa: F401,F403,E402
from .ops import sharing as _sharing  # noqa: E402,F401  (share_memory_, tensors pickled through shared memory)
from .storage import *  # noqa: E402,F401,F403  (Tensor.untyped_storage(), .storage(); torch.FloatStorage and kin)
Storage = storage.FloatStorage   # PyTorch's default legacy storage class
from .ops import grad_access as _grad_access  # noqa: E402,F401
from .ops import resize as _resize  # noqa: E402,F401
from . import accelerator  # noqa: E402,F401
from ._runtime import *  # noqa: E402,F401,F403
from .ops import numpy_keywords as _numpy_keywords  # noqa: E402
_numpy_keywords.install(globals(), Tensor)
from .ops import deprecated_signatures as _deprecated_signatures  # noqa: E402
_deprecated_signatures.install(globals(), Tensor)
from .ops.special import *  # noqa: F401,F403,E402
from . import profiler  # noqa: E402,F401
from . import sparse  # noqa: E402  (sparse COO/CSR tensors, layouts)
from .sparse import (hspmm, jagged, layout, smm, sparse_bsc, sparse_bsr, sparse_coo,  # noqa: E402,F401
                     sparse_coo_tensor, sparse_csc, sparse_csc_tensor, sparse_csr, sparse_csr_tensor, spmm, strided)
from .autograd import profiler as _autograd_profiler  # noqa: E402,F401
from .ops import accumulate  # noqa: E402,F401  (16-bit products rounded once, as PyTorch's)
from . import amp, cpu, mps, xpu  # noqa: E402
from . import __future__ as __future__  # opt-in conversion behaviours, as torch.__future__
from .amp.autocast_mode import (autocast, autocast_decrement_nesting, autocast_increment_nesting,  # noqa: E402,F401
                                clear_autocast_cache, get_autocast_cpu_dtype, get_autocast_dtype,
                                get_autocast_gpu_dtype, is_autocast_cache_enabled, is_autocast_cpu_enabled,
                                is_autocast_enabled, set_autocast_cache_enabled, set_autocast_cpu_dtype,
                                set_autocast_cpu_enabled, set_autocast_dtype, set_autocast_enabled,
                                set_autocast_gpu_dtype, get_autocast_ipu_dtype, get_autocast_xla_dtype,
                                is_autocast_ipu_enabled, is_autocast_xla_enabled, set_autocast_ipu_dtype,
                                set_autocast_ipu_enabled, set_autocast_xla_dtype, set_autocast_xla_enabled)

bool = _dtype.bool_
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
cfloat, cdouble, chalf = complex64, complex128, complex32
dtype = _dtype.dtype

from math import e, inf, nan, pi  # noqa: E402  (PyTorch's constants)
has_lapack = has_spectral = True   # NumPy's LAPACK and FFT
has_mkl, has_openmp = backends.mkl.is_available(), backends.openmp.is_available()
newaxis = None

__version__ = "0.1.0"


# The training stack and two namespaces load on first use too (``ember.nn``), and are part of ``from ember import *``.
_LAZY_CORE = ("nn", "optim", "utils", "distributed", "multiprocessing", "serialization", "special", "signal")
_LAZY_SUBMODULES = ("distributions", "export", "func", "functional", "futures", "fx", "hub", "jit", "library",
                    "quasirandom", "onnx", "testing", "types", "ao", "quantization", "masked", "nested", "_C",
                    "__config__", "_guards", "_VF") + _LAZY_CORE
# Top-level names defined in modules that load on first use: name -> module.
_LAZY_NAMES = {"load": "serialization", "save": "serialization", "PyTorchFileReader": "file_archive",
               "PyTorchFileWriter": "file_archive", "_assert": "fx._symbolic_trace",
               **dict.fromkeys(("lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell",
                                "rnn_relu_cell"), "nn.modules.rnn"),
               **dict.fromkeys(("qint8", "quint8", "qint32", "quint4x2", "qscheme", "per_tensor_affine",
                                "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric",
                                "per_channel_affine_float_qparams"), "_dtype"),   # quantization: ember.ao
               **dict.fromkeys(("quantize_per_tensor", "quantize_per_channel", "dequantize",
                                "_make_per_tensor_quantized_tensor"), "ao._qtensor"),
               **dict.fromkeys(("fake_quantize_per_tensor_affine", "fake_quantize_per_channel_affine"),
                               "ao._fake_quantize"), "quantize_per_tensor_dynamic": "ao._choose_qparams",
               "ScriptObject": "ao._script_object", "GradScaler": "amp", "OutOfMemoryError": "cuda",
               **dict.fromkeys(("_amp_foreach_non_finite_check_and_unscale_", "_amp_update_scale_"), "amp._scale_ops"),
               "SymInt": "jit._symbolic", "Stream": "_streams", "Event": "_streams", "Future": "futures",
               "TensorType": "jit._ir", "fork": "futures", "wait": "futures", "lobpcg": "_lobpcg",
               "DisableTorchFunction": "overrides", "DisableTorchFunctionSubclass": "overrides",
               **dict.fromkeys(("Type", "AnyType", "BoolType", "ComplexType", "DeviceObjType", "FloatType", "IntType",
                                "NoneType", "NumberType", "StringType", "StreamObjType"), "jit._types"),
               **dict.fromkeys(("sym_float", "sym_int", "sym_max", "sym_min", "sym_not", "sym_ite", "sym_sqrt",
                                "sym_sum", "SymFloat", "SymBool", "sym_constrain_range", "sym_constrain_range_for_size",
                                "sym_fresh_size"), "_sym_functions")}


def __getattr__(name):
    # Satellites nothing at import time needs load on first use (``ember.jit``), so ``import ember`` stays quick.
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_NAMES:
        import importlib
        from . import overrides
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
        value = globals()[name] = overrides.loaded_on_first_use(importlib.import_module(__name__), name,
                                                                       value)
        return value
    if name == "__all__":   # ``from ember import *``: every public name, those that load on first use included
        return sorted({n for n in globals() if not n.startswith("_")} | set(_LAZY_NAMES) | set(_LAZY_CORE))
    if name.startswith("_foreach_"):   # torch._foreach_add_ and kin: loops over tensor lists
        from . import _foreach
        if hasattr(_foreach, name):
            return getattr(_foreach, name)
    if name in ("compiler", "_dynamo"):   # torch.compile and its namespaces load on first use
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    if name == "compile":
        from .compiler import compile
        return compile
    if name == "vmap":   # torch.vmap is torch.func.vmap
        from .func import vmap
        return vmap
    if name == "torch":   # torch.torch is torch (libraries annotate with torch.torch.Tensor)
        import sys
        return sys.modules[__name__]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES) | set(_LAZY_NAMES) | {"compile", "vmap", "torch"})
