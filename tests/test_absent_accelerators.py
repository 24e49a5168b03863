"""ember.xpu and ember.mps answer as PyTorch's CPU build does: nothing available, and the calls that need the device
raise PyTorch's errors."""
import pytest
import torch

import ember

CALLS = {
    "xpu": ["is_available()", "device_count()", "is_initialized()", "memory_allocated()", "max_memory_allocated()",
            "memory_reserved()", "is_bf16_supported()", "get_arch_list()", "empty_cache()", "manual_seed(1)",
            "manual_seed_all(1)", "seed()", "seed_all()", "current_device()", "synchronize()", "get_device_name()",
            "get_device_properties()", "get_device_capability()", "init()", "initial_seed()", "get_rng_state()",
            "set_device(0)", "set_rng_state(library.zeros(1, dtype=library.uint8))"],
    "mps": ["is_available()", "device_count()", "manual_seed(1)", "synchronize()", "empty_cache()", "seed()",
            "get_rng_state()", "current_allocated_memory()", "driver_allocated_memory()", "recommended_max_memory()",
            "set_per_process_memory_fraction(0.5)", "set_per_process_memory_fraction(1)"],
}


def _outcome(library, module, call):
    try:
        return "value", eval(f"library.{module}.{call}" if module else f"library.{call}", {"library": library})
    except Exception as error:
        return type(error).__name__, str(error)


@pytest.mark.parametrize("module, call", [(m, c) for m, calls in CALLS.items() for c in calls])
def test_answers_as_pytorch(module, call):
    assert _outcome(ember, module, call) == _outcome(torch, module, call)


def test_device_modules_are_found_by_name():
    for name in ("xpu", "mps", "xpu:0"):
        assert ember.get_device_module(name).__name__ == torch.get_device_module(name).__name__.replace("torch",
                                                                                                          "ember")
    with ember.xpu.device(None), ember.xpu.device_of(ember.ones(1)):
        pass
    with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
        with ember.xpu.device(0):
            pass


@pytest.mark.parametrize("call", ["device(0)", "device(-1)", "device('cuda', -1)", "zeros(1, device=0)",
                                  "ones(2).to(1)", "nn.Linear(2, 2).to(0)", "device('cuda', 0)"])
def test_integer_devices_need_an_accelerator_as_in_pytorch(call):
    """An int names an index of the current accelerator: without one, PyTorch's CPU build refuses it."""
    if ember.cuda.is_available():
        pytest.skip("a GPU is present: ember has the accelerator PyTorch's CPU build lacks")
    ours, theirs = _outcome(ember, "", call), _outcome(torch, "", call)
    assert (ours[0], repr(ours[1])) == (theirs[0], repr(theirs[1]))


def test_cuda_graph_and_stream_context_names_answer_as_pytorch_cpu_build():
    for call in ("cuda.CUDAGraph()", "cuda.graphs.CUDAGraph()"):
        assert _outcome(ember, "", call) == _outcome(torch, "", call)
    assert issubclass(ember.cuda.graph, object) and ember.cuda.CUDAGraph.__name__ == "CUDAGraph"
    for library in (ember, torch):
        with library.cuda.StreamContext(None) as entered:   # no stream: a no-op, as PyTorch's
            assert entered is None


def test_other_device_types_name_devices_but_hold_no_tensors():
    """Every device type PyTorch knows makes a device (libraries compare with ``torch.device("mps")``); putting a
    tensor there raises as PyTorch's CPU build does; an unknown type lists the known ones."""
    for name in ("mps", "xpu", "xla", "hpu", "privateuseone", "mps:1"):
        assert repr(ember.device(name)) == repr(torch.device(name)) and str(ember.device(name)) == name
    assert ember.device("cpu") != ember.device("mps") and ember.device("mps", 0) == ember.device("mps:0")
    for lib in (ember, torch):
        for call in (lambda: lib.zeros(2).to("mps"), lambda: lib.nn.Linear(2, 2).to("mps"),
                     lambda: lib.tensor([1], device="xla")):
            with pytest.raises(RuntimeError, match="PyTorch is not linked with support for (mps|xla) devices"):
                call()
    messages = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as error:
            lib.device("npu")
        messages.append(str(error.value))
    assert messages[0] == messages[1]
