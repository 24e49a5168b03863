"""The autocast state functions against PyTorch 2.13: PyTorch's argument errors, the device types that have autocast
state or only a dtype, regions on device types without autocast, ``torch.amp._enter_autocast``, the deprecated
modules' submodules, and the weight-cast cache under ``no_grad``."""
import warnings

import pytest

import ember

torch = pytest.importorskip("torch")

KNOWN = ("cpu", "cuda", "ipu", "xpu", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla", "lazy",
         "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")   # (and "mkldnn", which warns as a device name)
DEFAULTS = {"cpu": "bfloat16", "cuda": "float16", "ipu": "float16", "xpu": "float16", "maia": "bfloat16",
            "xla": "bfloat16", "mps": "float16", "hpu": "bfloat16", "mtia": "float16", "privateuseone": "float16"}


@pytest.fixture(autouse=True)
def _restore_state():
    yield
    for T in (ember, torch):
        for kind, name in DEFAULTS.items():
            T.set_autocast_enabled(kind, False)
            T.set_autocast_dtype(kind, getattr(T, name))
        T.set_autocast_cache_enabled(True)
        for _ in range(T.autocast_increment_nesting()):   # regions a failed __enter__ left counted
            T.autocast_decrement_nesting()
        T.clear_autocast_cache()


def _outcome(lib, fn):
    """``fn(lib)``'s result (dtypes by name) or its error's type and message, and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(lib)
            result = [str(r).split(".")[-1] if isinstance(r, lib.dtype) else r
                      for r in (result if isinstance(result, list) else [result])]
        except Exception as error:   # noqa: BLE001 (the type and message are what is compared)
            result = type(error).__name__, str(error)
    return result, [(w.category.__name__, str(w.message).split(" (Triggered internally")[0]) for w in caught]


def _same(fn):
    assert _outcome(ember, fn) == _outcome(torch, fn)


@pytest.mark.parametrize("kind", KNOWN + ("cuda:1", "cpu:0", "foo"))
@pytest.mark.parametrize("query", ["get_autocast_dtype", "is_autocast_enabled", "is_autocast_available",
                                   "set_then_get_dtype", "set_enabled"])
def test_each_device_type_has_pytorchs_autocast_state(kind, query):
    calls = {"get_autocast_dtype": lambda T: T.get_autocast_dtype(kind),
             "is_autocast_enabled": lambda T: T.is_autocast_enabled(kind),
             "is_autocast_available": lambda T: T.amp.is_autocast_available(kind),
             "set_then_get_dtype": lambda T: [T.set_autocast_dtype(kind, T.bfloat16), T.get_autocast_dtype(kind)],
             "set_enabled": lambda T: [T.set_autocast_enabled(kind, False), T.is_autocast_enabled(kind)]}
    _same(calls[query])


@pytest.mark.parametrize("kind", ["meta", "lazy", "privateuseone", "foo", "hip"])
def test_regions_on_device_types_without_autocast(kind):
    _same(lambda T: T.autocast(kind).fast_dtype)


def _float32_region(T):
    region = T.autocast("cpu", dtype=T.float32)   # warns and disables itself, yet sets the dtype while open
    return [region.__enter__()._enabled, T.get_autocast_dtype("cpu"), T.is_autocast_enabled("cpu"),
            region.__exit__(None, None, None), T.get_autocast_dtype("cpu")]


CALLS = {
    "is_autocast_enabled()": lambda T: T.is_autocast_enabled(),
    "is_autocast_enabled(int)": lambda T: T.is_autocast_enabled(1),
    "is_autocast_enabled(None)": lambda T: T.is_autocast_enabled(None),
    "is_autocast_enabled(bool)": lambda T: T.is_autocast_enabled(True),
    "is_autocast_enabled(device)": lambda T: T.is_autocast_enabled(T.device("cpu")),
    "is_autocast_enabled(device_type=)": lambda T: T.is_autocast_enabled(device_type="cpu"),
    "get_autocast_dtype(None)": lambda T: T.get_autocast_dtype(None),
    "is_autocast_available(int)": lambda T: T.amp.is_autocast_available(0),
    "set_autocast_dtype(str dtype)": lambda T: T.set_autocast_dtype("cpu", "float16"),
    "set_autocast_dtype(None)": lambda T: T.set_autocast_dtype("cpu", None),
    "set_autocast_dtype(None, dtype)": lambda T: T.set_autocast_dtype(None, T.float16),
    "set_autocast_dtype(float32)": lambda T: [T.set_autocast_dtype("cpu", T.float32), T.get_autocast_dtype("cpu")],
    "set_autocast_enabled()": lambda T: T.set_autocast_enabled(),
    "set_autocast_enabled(bool)": lambda T: [T.set_autocast_enabled(True), T.is_autocast_enabled("cuda")],
    "set_autocast_enabled(enabled=)": lambda T: [T.set_autocast_enabled(enabled=True), T.is_autocast_enabled()],
    "set_autocast_enabled(None)": lambda T: T.set_autocast_enabled(None),
    "set_autocast_enabled(str)": lambda T: T.set_autocast_enabled("cpu"),
    "set_autocast_enabled(int, bool)": lambda T: T.set_autocast_enabled(1, True),
    "set_autocast_enabled(str, int)": lambda T: T.set_autocast_enabled("cpu", 1),
    "set_autocast_enabled(str, str)": lambda T: T.set_autocast_enabled("cpu", "yes"),
    "set_autocast_enabled(bool, bool)": lambda T: T.set_autocast_enabled(True, True),
    "set_autocast_cache_enabled(int)": lambda T: T.set_autocast_cache_enabled(0),
    "set_autocast_cache_enabled(str)": lambda T: T.set_autocast_cache_enabled("x"),
    "set_autocast_cpu_enabled(int)": lambda T: T.set_autocast_cpu_enabled(1),
    "set_autocast_cpu_dtype(int)": lambda T: T.set_autocast_cpu_dtype(1),
    "set_autocast_gpu_dtype(str)": lambda T: T.set_autocast_gpu_dtype("float16"),
    "ipu functions": lambda T: [T.get_autocast_ipu_dtype(), T.is_autocast_ipu_enabled(), T.set_autocast_ipu_enabled(True),
                                T.is_autocast_enabled("ipu"), T.set_autocast_ipu_dtype(T.bfloat16),
                                T.get_autocast_dtype("ipu")],
    "xla functions": lambda T: [T.get_autocast_xla_dtype(), T.is_autocast_xla_enabled(), T.set_autocast_xla_enabled(True),
                                T.is_autocast_enabled("xla"), T.set_autocast_xla_dtype(T.float16),
                                T.get_autocast_dtype("xla")],
    "set_autocast_ipu_enabled(int)": lambda T: T.set_autocast_ipu_enabled(1),
    "set_autocast_xla_dtype(int)": lambda T: T.set_autocast_xla_dtype(1),
    "autocast(enabled=1)": lambda T: T.autocast("cpu", enabled=1).__enter__(),
    "autocast(enabled='yes')": lambda T: T.autocast("cpu", enabled="yes").__enter__(),
    "autocast(dtype=str)": lambda T: T.autocast("cpu", dtype="float16").__enter__(),
    "autocast(dtype=float32) state": lambda T: _float32_region(T),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_state_function_arguments(call):
    _same(call)


def test_enter_and_exit_autocast_as_traced_graphs_call_them():
    def run(T):
        mode = T.amp._enter_autocast("cpu", T.float16, True, False)
        inside = [type(mode).__name__, isinstance(mode, T.autocast), T.is_autocast_enabled("cpu"),
                  T.get_autocast_dtype("cpu"), T.is_autocast_cache_enabled(), T._C._is_any_autocast_enabled(),
                  T.mm(T.ones(2, 2), T.ones(2, 2)).dtype]
        T.amp._exit_autocast(mode)
        return inside + [T.is_autocast_enabled("cpu"), T.get_autocast_dtype("cpu"), T._C._is_any_autocast_enabled()]
    _same(run)


def test_deprecated_modules_have_pytorchs_submodules():
    for T in (ember, torch):
        assert T.cpu.amp.autocast_mode.autocast is T.cpu.amp.autocast
        assert T.cpu.amp.grad_scaler.GradScaler is T.cpu.amp.GradScaler
        assert T.cuda.amp.autocast_mode.autocast is T.cuda.amp.autocast
        assert T.cuda.amp.autocast_mode.custom_fwd is T.cuda.amp.custom_fwd
        assert T.cuda.amp.grad_scaler.GradScaler is T.cuda.amp.GradScaler


def _cached_under_no_grad(T):
    """A weight cast cached under no_grad is reused with grad enabled: stale values, yet its gradient reaches the
    weight, as PyTorch's cache records the cast in autograd."""
    T.manual_seed(0)
    w = T.randn(3, 3, requires_grad=True)
    x = T.ones(3, 3)
    with T.autocast("cpu"):
        with T.no_grad():
            before = x @ w
            w.add_(1)
            stale = x @ w
        used = x @ w
        with T.autocast("cpu", cache_enabled=False):
            fresh = x @ w
    used.float().sum().backward()
    return [before.tolist() == stale.tolist() == used.tolist(), before.tolist() == fresh.tolist(),
            used.requires_grad, w.grad.tolist(), before.requires_grad]


def test_weight_cast_cached_under_no_grad():
    _same(_cached_under_no_grad)


def test_autocast_decorator():
    def run(T):
        decorated = T.amp.autocast_mode.autocast_decorator(T.autocast("cpu", dtype=T.float16), lambda x: x @ x)
        method = T.autocast("cpu")(lambda x: x @ x)
        return [decorated(T.ones(2, 2)).dtype, method(T.ones(2, 2)).dtype, T.is_autocast_enabled("cpu"),
                getattr(method, "__script_unsupported", None)]
    _same(run)
