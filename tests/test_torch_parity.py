"""Everyday PyTorch behaviours public programs rely on (issue 15's "smaller divergences" and runtime settings),
each checked against PyTorch 2.13."""
import importlib
import io
import os
import subprocess
import sys
import textwrap
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_error, sample

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def both(fn):
    """``fn(lib)`` for ember and torch, with the warnings each raised: results must be equal."""
    results = []
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = fn(lib)
        results.append((value, sorted(str(w.message)[:40] for w in caught)))
    assert results[0] == results[1]
    return results[0][0]


def test_autograd_variable():
    assert both(lambda lib: (lib.autograd.Variable(lib.ones(2), requires_grad=True).requires_grad,
                             isinstance(lib.ones(1), lib.autograd.Variable)))
    check_error(lambda lib: lib.autograd.Variable([1.0]))


def test_autograd_variable_volatile_and_empty():
    # Old programs pass volatile=True (the pre-0.4 no_grad) and read .volatile: no effect beyond torch's warnings.
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            made = lib.autograd.Variable(lib.ones(2), volatile=True)
            empty = lib.autograd.Variable()
            results = [made.requires_grad, made.tolist(), tuple(empty.shape), str(empty.dtype), made.volatile]
            try:
                lib.autograd.Variable(lib.ones(2), requires_grad=True, volatile=True)
            except ValueError as error:
                results.append(str(error))
        return results, [(w.category, str(w.message)) for w in caught]
    ours, theirs = run(ember), run(torch)
    assert ours[0][:3] + ours[0][4:] == theirs[0][:3] + theirs[0][4:] and ours[0][3] == "ember.float32"
    assert ours[1] == theirs[1] and len(ours[1]) == 3


def test_torch_functional_module():
    # The transfer-learning tutorial's ``from torch.functional import F``; the functions PyTorch defines there.
    import ember.functional
    import torch.functional
    assert ember.functional.__all__ == torch.functional.__all__
    assert ember.functional.F is ember.nn.functional and ember.functional.norm is ember.norm
    check(lambda lib, x: lib.functional.split(x, 2), sample((5, 3)))


@pytest.mark.parametrize("function", [lambda t: numpy.transpose(t, (1, 2, 0)), numpy.exp, numpy.sqrt,
                                      lambda t: numpy.greater(t, 2), lambda t: numpy.reshape(t, (4, 3)), numpy.cumsum,
                                      lambda t: numpy.multiply(t, 2.5), numpy.isnan, lambda t: numpy.repeat(t, 2)],
                         ids=["transpose", "exp", "sqrt", "greater", "reshape", "cumsum", "multiply", "isnan",
                              "repeat"])
def test_numpy_functions_of_a_tensor_return_a_tensor(function):
    # PyTorch's __array_wrap__: a NumPy function given a tensor (the DCGAN tutorial's numpy.transpose of an image
    # grid) returns a tensor, bool as uint8; NumPy 2 warns that the hook takes no context, for both.
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = function(lib.arange(12.0).reshape(2, 3, 2))
        return type(result).__name__, str(result.dtype), result.tolist(), [str(w.message) for w in caught]
    ours, theirs = run(ember), run(torch)
    assert ours[1:] == (theirs[1].replace("torch", "ember"),) + theirs[2:] and ours[0] == theirs[0] == "Tensor"


@pytest.mark.parametrize("call", [lambda lib, x: x[range(1, 3)], lambda lib, x: x[range(2), range(1, 3)],
                                  lambda lib, x: x[:, range(0, 3, 2)], lambda lib, x: x[numpy.int64(1)],
                                  lambda lib, x: x[numpy.int64(1)].clone().fill_(x[0, numpy.int32(2)])])
def test_indexing_with_range_and_numpy_integers(call):
    check(call, sample((3, 4)))


@pytest.mark.parametrize("call", [lambda lib, x: lib.sum(x, axis=1), lambda lib, x: x.sum(1, keepdims=True),
                                  lambda lib, x: x.mean(axis=0, keepdims=True), lambda lib, x: lib.amax(x, axis=-1),
                                  lambda lib, x: lib.softmax(x, axis=1), lambda lib, x: x.std(axis=1),
                                  lambda lib, x: lib.zeros(size=(2, 3)) + lib.ones(size=[3]),
                                  lambda lib, x: lib.full(size=(2,), fill_value=3.0)])
def test_numpy_keyword_aliases(call):
    check(call, sample((3, 4)))


def test_numpy_keyword_alias_clash_is_a_type_error():
    check_error(lambda lib, x: x.sum(dim=0, axis=1), sample((2, 2)))


def test_randint_high_and_size_forms():
    for call in (lambda lib: lib.randint(5, (3,)), lambda lib: lib.randint(5, size=(3,)),
                 lambda lib: lib.randint(2, 5, (3,)), lambda lib: lib.randint(low=2, high=5, size=(2, 2))):
        e, t = call(ember), call(torch)
        assert tuple(e.shape) == tuple(t.shape) and e.dtype == ember.int64
    assert bool(((ember.randint(5, size=(1000,)) >= 0) & (ember.randint(5, size=(1000,)) < 5)).all())


def test_resize_():
    check(lambda lib, x: x.clone().resize_(2, 3), sample((2, 4)), grad=False)
    check(lambda lib, x: x.clone().resize_as_(lib.ones(3, 2)), sample((8,)), grad=False)
    x = ember.arange(4.0)
    assert x.resize_(2, 3) is x and x.shape == (2, 3) and x[0].tolist() == [0.0, 1.0, 2.0]
    check_error(lambda lib: lib.ones(2, requires_grad=True).resize_(3))


def test_cross_entropy_target_checks():
    x = sample((3, 4))
    check_error(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0, 1, 2], dtype=lib.int32)), x)
    check_error(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.eye(4, dtype=lib.long)[:3]), x)
    check_error(lambda lib, x: lib.nn.functional.nll_loss(x, lib.tensor([0.0, 1.0, 2.0])), x)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
            lib.nn.functional.cross_entropy(lib.zeros(3, 4), lib.tensor([0, 1, 2], dtype=lib.int32))
        with pytest.raises(RuntimeError, match="Expected floating point type for target with class probabilities"):
            lib.nn.functional.cross_entropy(lib.zeros(3, 4), lib.eye(4, dtype=lib.long)[:3])
    check(lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0, 1, 2], dtype=lib.uint8)), x)


@pytest.mark.parametrize("data", [lambda lib: [lib.ones(2), lib.ones(2)], lambda lib: [[lib.ones(2)]],
                                  lambda lib: [lib.tensor(1.0), 2.0], lambda lib: [lib.ones(1, 1), lib.zeros(1)],
                                  lambda lib: [lib.tensor(3), lib.tensor(4)]])
def test_tensor_of_tensors(data):
    try:
        expected = torch.tensor(data(torch))
    except ValueError as error:
        with pytest.raises(ValueError, match=str(error)):
            ember.tensor(data(ember))
        return
    assert ember.tensor(data(ember)).tolist() == expected.tolist()


def test_reading_a_non_leaf_grad_warns():
    def read(lib):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        first = y.grad
        y.retain_grad()
        y.sum().backward()
        return first, y.grad.tolist(), x.grad.tolist()
    assert both(read) == (None, [1.0, 1.0], [2.0, 2.0])


SCHEDULERS = {
    "StepLR": lambda L, o: L.StepLR(o, 2), "MultiStepLR": lambda L, o: L.MultiStepLR(o, [1, 3]),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, 0.9), "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 0.5),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9), "ConstantLR": lambda L, o: L.ConstantLR(o),
    "LinearLR": lambda L, o: L.LinearLR(o), "PolynomialLR": lambda L, o: L.PolynomialLR(o),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, 10),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 3),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, 1.0, total_steps=10), "CyclicLR": lambda L, o: L.CyclicLR(o, 0.1, 1.0),
    "ReduceLROnPlateau": lambda L, o: L.ReduceLROnPlateau(o),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.LinearLR(o), L.ExponentialLR(o, 0.9)], [2]),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler([L.LinearLR(o), L.ExponentialLR(o, 0.9)])}


@pytest.mark.parametrize("name", SCHEDULERS)
@pytest.mark.parametrize("optimizer_first", [True, False])
def test_scheduler_state_dict_keys_and_order_warning(name, optimizer_first):
    def run(lib):
        weight = lib.nn.Parameter(lib.ones(1))
        optimizer = lib.optim.SGD([weight], lr=0.1, momentum=0.9)
        scheduler = SCHEDULERS[name](lib.optim.lr_scheduler, optimizer)
        if optimizer_first:
            optimizer.step()
        scheduler.step(*([1.0] if name == "ReduceLROnPlateau" else []))
        state = scheduler.state_dict()
        return sorted(state), {k: v for k, v in state.items() if isinstance(v, (bool, int, float, str))}
    both(run)


def test_cuda_without_a_gpu_raises_assertion_error():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    for call in (lambda lib: lib.ones(2).cuda(), lambda lib: lib.ones(2).to("cuda"),
                 lambda lib: lib.ones(2, device="cuda"), lambda lib: lib.nn.Linear(2, 2).cuda()):
        check_error(call)


def test_device_queries_and_pinning():
    assert both(lambda lib: (lib.ones(1).is_xpu, lib.ones(1).get_device(), lib.ones(1).is_pinned(),
                             lib.get_default_device().type))
    if not ember.cuda.is_available():
        check_error(lambda lib: lib.ones(1).pin_memory())


def test_share_memory_hogwild(tmp_path):
    (tmp_path / "hogwild.py").write_text(textwrap.dedent('''
        import multiprocessing as mp
        import torch
        import torch.nn as nn


        def train(model, steps):
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            for _ in range(steps):
                optimizer.zero_grad()
                model(torch.ones(1, 2)).sum().backward()
                optimizer.step()


        if __name__ == "__main__":
            model = nn.Linear(2, 1)
            with torch.no_grad():
                model.weight.zero_(), model.bias.zero_()
            model.share_memory()
            print(model.weight.is_shared(), torch.ones(1).is_shared())
            for method in ("fork", "spawn"):
                process = mp.get_context(method).Process(target=train, args=(model, 5))
                process.start()
                process.join()
                print(method, process.exitcode, round(model.bias.item(), 4))
        '''))
    result = subprocess.run([sys.executable, "-m", "ember", "run", "hogwild.py"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=180, env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    # The bias's gradient is 1 at every step: each child's 5 SGD steps (lr 0.1) move the shared bias by -0.5, as
    # the same program does under PyTorch (checked by hand: torch prints these lines too).
    assert result.stdout == "True False\nfork 0 -0.5\nspawn 0 -1.0\n"


def _torch_nn_classes():
    return sorted((name, cls.__module__) for name, cls in vars(torch.nn).items()
                  if isinstance(cls, type) and cls.__module__.startswith("torch.nn.") and hasattr(ember.nn, name))


@pytest.mark.parametrize("name, module", _torch_nn_classes())
def test_classes_resolve_under_pytorchs_module_paths(name, module):
    assert getattr(importlib.import_module("ember" + module[len("torch"):]), name) is getattr(ember.nn, name)


def _constructible_layers():
    layers = []
    for name in sorted(dir(ember.nn)):
        cls = getattr(ember.nn, name)
        if not isinstance(cls, type) or not issubclass(cls, ember.nn.Module) or cls is ember.nn.Module:
            continue
        for args in [(), (4,), (4, 4), (4, 4, 3), (ember.nn.Linear(2, 2),), ([ember.nn.Linear(2, 2)],), (4, 2, 2, 2)]:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    layers.append(pytest.param(cls, args, id=name))
                    repr(cls(*args))
                break
            except Exception:
                layers.pop()
    return layers


@pytest.mark.parametrize("cls, args", _constructible_layers())
@pytest.mark.filterwarnings("ignore:`nn.Container` is deprecated:FutureWarning")   # unpickling one warns, as torch's
def test_whole_model_save_load_round_trip(cls, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(*args)
    buffer = io.BytesIO()
    ember.save(model, buffer)
    buffer.seek(0)
    loaded = ember.load(buffer, weights_only=False)
    assert type(loaded) is cls and repr(loaded) == repr(model)
    for (key, value), (key2, value2) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert key == key2 and type(value) is type(value2)
        if not isinstance(value, ember.nn.parameter.UninitializedTensorMixin):   # a lazy module's has no data yet
            assert numpy.array_equal(value.detach().numpy(), value2.detach().numpy())
    buffer.seek(0)
    if issubclass(cls, ember.nn.modules.lazy.LazyModuleMixin):
        return   # a lazy module pickles its initialization hook (a bound method): weights-only refuses it, as torch
    with ember.serialization.safe_globals([cls]):
        if not [m for m in model.modules() if type(m) is not cls]:
            assert type(ember.load(buffer)) is cls


def test_torch_saved_whole_model_loads_as_ember_modules():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.MultiheadAttention(4, 2))
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = ember.load(buffer, weights_only=False)
    assert type(loaded[2].out_proj) is ember.nn.modules.linear.NonDynamicallyQuantizableLinear
    x = sample((1, 2))
    assert numpy.allclose(loaded[0](ember.from_numpy(x)).detach().numpy(),
                          model[0](torch.from_numpy(x)).detach().numpy(), atol=1e-6)


def test_bce_gradient_stays_finite_at_saturation():
    check(lambda lib, x: lib.nn.functional.binary_cross_entropy(lib.sigmoid(x * 40), lib.tensor([0.0, 1.0, 1.0, 0.0])),
          numpy.array([1.0, -3.0, 0.5, -0.5], numpy.float32))
    check(lambda lib, p, t: lib.nn.functional.binary_cross_entropy(p, t, reduction="sum"),
          numpy.array([0.0, 1.0, 0.3, 1.0], numpy.float32), numpy.array([1.0, 0.0, 0.2, 1.0], numpy.float32))


class _Net(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = ember.nn.Linear(2, 1)


def test_safe_globals_and_weights_only_environment(monkeypatch):
    buffer = io.BytesIO()
    ember.save(_Net(), buffer)

    def load(**kwargs):
        buffer.seek(0)
        return type(ember.load(buffer, **kwargs)).__name__

    with pytest.raises(Exception, match="Unsupported global"):
        load()
    before = ember.serialization.get_safe_globals()   # ember.nested marks its rebuild globals on import, as torch's
    with ember.serialization.safe_globals([_Net, ember.nn.Linear]):
        assert load() == "_Net" and len(ember.serialization.get_safe_globals()) == 2 + len(before)
    assert set(ember.serialization.get_safe_globals()) == set(before)
    ember.serialization.add_safe_globals([(_Net, f"{__name__}._Net"), ember.nn.Linear])
    assert load() == "_Net"
    ember.serialization.clear_safe_globals()
    ember.serialization.add_safe_globals(before)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.warns(UserWarning, match="TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"):
        assert load() == "_Net"
    with pytest.raises(Exception, match="Unsupported global"):
        load(weights_only=True)
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "true")
    with pytest.raises(RuntimeError, match="Only one of"):
        load()
    monkeypatch.delenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    with pytest.raises(Exception, match="Unsupported global"):
        load(weights_only=False)


def test_runtime_settings():
    threads = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
    finally:
        ember.set_num_threads(threads)
    check_error(lambda lib: lib.set_num_threads(0))
    ember.set_num_interop_threads(3)
    assert ember.get_num_interop_threads() == 3
    for lib in (ember, torch):
        lib.use_deterministic_algorithms(True, warn_only=True)
    try:
        assert both(lambda lib: (lib.are_deterministic_algorithms_enabled(),
                                 lib.is_deterministic_algorithms_warn_only_enabled(),
                                 lib.get_deterministic_debug_mode()))
    finally:
        for lib in (ember, torch):
            lib.use_deterministic_algorithms(False)
    try:
        assert both(lambda lib: (lib.set_float32_matmul_precision("high"), lib.get_float32_matmul_precision(),
                                 lib.set_float32_matmul_precision("fast"), lib.get_float32_matmul_precision()))
    finally:
        for lib in (ember, torch):
            lib.set_float32_matmul_precision("highest")


def test_set_default_device_moves_factories():
    ember.set_default_device("meta")
    try:
        assert ember.get_default_device() == ember.device("meta")
    finally:
        ember.set_default_device(None)
    assert ember.zeros(1).device == ember.device("cpu")


def test_devices_equal_devices_only_as_in_torch():
    # accelerate's normalize_device asks `device == "npu"`: a string never equals a device (nor raises)
    for lib in (ember, torch):
        cpu = lib.device("cpu")
        assert [cpu == "cpu", cpu == "npu", cpu != "cpu", cpu == 0, cpu == None, cpu in ["cpu"]] == [  # noqa: E711
            False, False, True, False, False, False]
        assert cpu == lib.device("cpu", None) and cpu != lib.device("meta") and cpu in [lib.device("cpu")]
        assert hash(cpu) == hash(lib.device("cpu"))


def test_device_as_context_manager_sets_the_default_for_factories_and_modules():
    def run(lib):
        seen = []
        outer = lib.device("cpu", 0) if lib is ember else torch.device("cpu", 0)
        with outer as entered:
            seen += [entered is outer, str(lib.get_default_device())]
            with lib.device("cpu"):
                seen += [str(lib.get_default_device()), str(lib.zeros(1).device)]
            seen += [str(lib.get_default_device()), str(lib.nn.Linear(2, 2).weight.device),
                     str(lib.tensor([1.0]).device), str(lib.zeros(1, device="cpu").device)]
        return seen + [str(lib.get_default_device())]
    assert run(ember) == run(torch)


def test_accelerator_and_backends_modules():
    assert both(lambda lib: (lib.accelerator.is_available(), lib.accelerator.device_count(),
                             lib.accelerator.current_accelerator(), lib.backends.mps.is_available(),
                             lib.backends.cudnn.is_available() and torch.cuda.is_available()))
    if not ember.cuda.is_available():
        check_error(lambda lib: lib.accelerator.synchronize())
    for name in ("cudnn", "mps", "cpu", "cuda"):
        assert importlib.import_module(f"ember.backends.{name}") is getattr(ember.backends, name)
    assert ember.backends.cpu.get_cpu_capability() in ("DEFAULT", "AVX2", "AVX512")
    ember.backends.cudnn.benchmark = True
    assert importlib.import_module("ember.backends.cudnn").benchmark
    ember.backends.cudnn.benchmark = False


_FROZEN_FLAGS = textwrap.dedent("""
    import sys
    lib = __import__(sys.argv[1])
    seen = [lib.backends.flags_frozen()]
    with lib.backends.__allow_nonbracketed_mutation():   # MONAI's set_determinism sets cuDNN flags in this block
        lib.backends.cudnn.deterministic = True
    lib.backends.disable_global_flags()
    seen.append(lib.backends.flags_frozen())
    for module, name in ((lib.backends.cudnn, "benchmark"), (lib.backends.mkldnn, "enabled")):
        try:
            setattr(module, name, True)
        except RuntimeError as error:
            seen.append(str(error))
    with lib.backends.cudnn.flags(enabled=False, deterministic=False):
        seen.append((lib.backends.cudnn.enabled, lib.backends.cudnn.deterministic))
    with lib.backends.__allow_nonbracketed_mutation():
        lib.backends.cudnn.benchmark = True
        seen.append(lib.backends.flags_frozen())
    seen += [lib.backends.cudnn.enabled, lib.backends.cudnn.deterministic, lib.backends.cudnn.benchmark,
             lib.backends.flags_frozen()]
    print(seen)
""")


def test_disable_global_flags_freezes_cudnn_and_mkldnn_switches():
    # in a fresh process per library: PyTorch has no way back from disable_global_flags()
    runs = [subprocess.run([sys.executable, "-c", _FROZEN_FLAGS, name], capture_output=True, text=True, timeout=120)
            for name in ("ember", "torch")]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout


@pytest.mark.parametrize("name, args", [("sym_int", (3.7,)), ("sym_int", (-3.7,)), ("sym_int", (5,)),
                                        ("sym_float", (2,)), ("sym_max", (2, 3.0)), ("sym_max", (True, 2)),
                                        ("sym_max", (4, 3)), ("sym_min", (2.0, 1)), ("sym_min", (2, 3)),
                                        ("sym_not", (True,)), ("sym_ite", (False, 1, 2)), ("sym_sqrt", (4,)),
                                        ("sym_sum", ([1.0, 2],)), ("sym_sum", ([],)), ("sym_sum", ((1, 2, 3),))])
def test_sym_functions_on_plain_numbers(name, args):
    ours, theirs = getattr(ember, name)(*args), getattr(torch, name)(*args)
    assert type(ours) is type(theirs) and ours == theirs


def test_symbolic_number_types_hold_no_plain_number():
    # kornia tests isinstance(data, (int, float, torch.SymInt, torch.SymFloat)) on eager values
    for name in ("SymInt", "SymFloat", "SymBool"):
        ours, theirs = getattr(ember, name), getattr(torch, name)
        assert isinstance(ours, type) and isinstance(theirs, type)
        for value in (1.5, True, 3, ember.tensor(1.0)):
            assert isinstance(value, ours) is isinstance(value, theirs) is False, (name, value)


def test_tensor_type_is_the_type_of_traced_tensor_values():
    # open_clip's hf_model imports torch.TensorType for its annotations
    for lib in (ember, torch):
        assert isinstance(lib.TensorType, type) and not isinstance(lib.ones(1), lib.TensorType)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # PyTorch 2.13 deprecates jit.trace
        ours = ember.jit.trace(lambda x: x * 2, ember.ones(2)).graph.inputs
        theirs = list(torch.jit.trace(lambda x: x * 2, torch.ones(2)).graph.inputs())
    assert [isinstance(v.type, ember.TensorType) for v in ours] == [isinstance(v.type(), torch.TensorType)
                                                                     for v in theirs] == [True]


def test_sym_max_refuses_what_is_not_a_number():
    check_error(lambda lib: lib.sym_max("a", 2))


def test_top_level_aliases_of_grad_scaler_and_out_of_memory_error():
    assert ember.GradScaler is ember.amp.GradScaler and torch.GradScaler is torch.amp.GradScaler
    assert ember.OutOfMemoryError is ember.cuda.OutOfMemoryError
    assert issubclass(ember.OutOfMemoryError, RuntimeError) == issubclass(torch.OutOfMemoryError, RuntimeError)
