"""Sequential's evaluation chains (``nn/modules/_conv_eval.py``): Conv2d -> BatchNorm2d (-> ReLU/ReLU6/Hardtanh) with
nothing recorded, the batch norm and clamp written into the convolution's output. PyTorch's values over strides,
padding, dilation, groups (depthwise, 1x1), odd sizes, batch 1 and an empty batch; the same bits as the modules
called one by one, on 1 and 3 threads; and every case that must see the modules one by one (hooks, recording,
training, no running statistics, other dtypes and layouts, torch-function modes and subclasses, a module's own
forward) does, with PyTorch's results."""
import numpy
import pytest
import torch

import ember
from ember.nn.modules import _conv_eval
from tests.oracle import assert_same, count_calls, sample

F32, F64 = numpy.float32, numpy.float64
FUSED = ("_epilogue", "_pointwise_chain", "_depthwise_chain")   # after any convolution, 1x1 ones, depthwise ones


def _kernel(shape, conv_args):
    """The chain's kernel for a convolution."""
    if not shape[0]:
        return "_epilogue"
    if conv_args["kernel_size"] == 1:
        return "_pointwise_chain"
    return "_depthwise_chain" if conv_args.get("groups", 1) == conv_args["in_channels"] else "_epilogue"

CONVS = [   # (input shape, Conv2d arguments)
    ((2, 3, 9, 11), dict(in_channels=3, out_channels=5, kernel_size=3, padding=1)),
    ((1, 4, 8, 7), dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, bias=False)),           # batch 1
    ((3, 6, 10, 9), dict(in_channels=6, out_channels=6, kernel_size=3, padding=2, dilation=2, groups=6)),
    ((2, 8, 6, 6), dict(in_channels=8, out_channels=16, kernel_size=3, stride=2, padding=1, groups=8)),  # dw x2
    ((3, 5, 7, 9), dict(in_channels=5, out_channels=7, kernel_size=1, bias=False)),                      # 1x1
    ((2, 4, 6, 5), dict(in_channels=4, out_channels=6, kernel_size=(3, 2), padding="same", groups=2)),
    ((0, 3, 6, 6), dict(in_channels=3, out_channels=4, kernel_size=3, padding=1)),                       # empty
    ((2, 6, 5, 8), dict(in_channels=6, out_channels=4, kernel_size=1, groups=2)),                        # 1x1, bias
    ((0, 5, 7, 9), dict(in_channels=5, out_channels=7, kernel_size=1)),                                  # empty
]
ACTIVATIONS = [None, ("ReLU", {}), ("ReLU", {"inplace": True}), ("ReLU6", {"inplace": True}),
               ("Hardtanh", {"min_val": -0.5, "max_val": 0.25})]
ACT_IDS = ["none", "relu", "relu_", "relu6_", "hardtanh"]


def _chain(lib, conv_args, act, dtype, affine=True, seed=0):
    """Sequential(Conv2d, BatchNorm2d[, activation]) in ``lib`` with the same random parameters and running
    statistics, in eval mode."""
    rng = numpy.random.default_rng(seed)
    layers = [lib.nn.Conv2d(**conv_args), lib.nn.BatchNorm2d(conv_args["out_channels"], affine=affine)]
    if act is not None:
        layers.append(getattr(lib.nn, act[0])(**act[1]))
    model = lib.nn.Sequential(*layers).to(getattr(lib, numpy.dtype(dtype).name)).eval()
    with lib.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if tensor.dtype.is_floating_point:
                values = rng.standard_normal(tuple(tensor.shape)) * 0.5 + (1.2 if "running_var" in name else 0)
                if "running_var" in name:
                    values[0] = -2   # a channel of NaN (its invstd), through the affine map and the clamp
                tensor.copy_(lib.from_numpy(values.astype(dtype)))
    return model


def _one_by_one(model, x):
    for module in model:
        x = module(x)
    return x


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("act", ACTIVATIONS, ids=ACT_IDS)
@pytest.mark.parametrize("shape,conv_args", CONVS, ids=[str(i) for i in range(len(CONVS))])
def test_matches_torch_and_the_modules_one_by_one(shape, conv_args, act, dtype, monkeypatch):
    calls = count_calls(monkeypatch, _conv_eval, FUSED)
    x = sample(shape, dtype, seed=1)
    with torch.no_grad():
        expected = _chain(torch, conv_args, act, dtype)(torch.from_numpy(x.copy()))
    model = _chain(ember, conv_args, act, dtype)
    with ember.no_grad():
        got = model(ember.from_numpy(x.copy()))
        general = _one_by_one(model, ember.from_numpy(x.copy()))
    assert calls == {_kernel(shape, conv_args): 1}
    assert_same(got, expected, rtol=1e-5 if dtype == F32 else 1e-12, atol=1e-5 if dtype == F32 else 1e-12)
    numpy.testing.assert_array_equal(got.numpy(), general.numpy())
    assert got._version == (1 if act is not None and act[1].get("inplace") else 0) == expected._version


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("act", ACTIVATIONS[1:], ids=ACT_IDS[1:])
def test_large_outputs_in_parts_keep_the_bits(threads, act):
    """Outputs cut in parts on the intra-op threads (maps over and under REPEAT_WIDTH positions): the modules'
    bits one by one, and PyTorch's values."""
    before = ember.get_num_threads()
    for shape, conv_args in (((5, 4, 40, 40), dict(in_channels=4, out_channels=48, kernel_size=1, bias=False)),
                             ((5, 64, 12, 12), dict(in_channels=64, out_channels=128, kernel_size=1)),
                             # (1x1 over few positions, in parts of the batch by its multiply-adds)
                             ((3, 8, 66, 66), dict(in_channels=8, out_channels=8, kernel_size=3, padding=1,
                                                   groups=8)),   # wider than a band: per kernel offset
                             ((4, 64, 30, 30), dict(in_channels=64, out_channels=64, kernel_size=3, padding=1,
                                                    groups=64, bias=True)),   # banded, in parts of the channels
                             ((4, 64, 31, 30), dict(in_channels=64, out_channels=64, kernel_size=3, stride=2,
                                                    padding=1, groups=64)),
                             ((1, 3, 96, 96), dict(in_channels=3, out_channels=32, kernel_size=3, padding=1))):
                             # (the last: a batch of 1, its output cut along the channels)
        x = sample(shape, F32, seed=2)
        model = _chain(ember, conv_args, act, F32, seed=3)
        try:
            ember.set_num_threads(threads)
            with ember.no_grad():
                got = model(ember.from_numpy(x.copy())).numpy()
                general = _one_by_one(model, ember.from_numpy(x.copy())).numpy()
        finally:
            ember.set_num_threads(before)
        numpy.testing.assert_array_equal(got, general)
        with torch.no_grad():
            expected = _chain(torch, conv_args, act, F32, seed=3)(torch.from_numpy(x)).numpy()
        numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_chains_inside_longer_sequentials_and_without_affine(monkeypatch):
    """Two chains, a pooling layer between and a trailing conv without batch norm; batch norm without weight and
    bias: PyTorch's values, the chains fused."""
    calls = count_calls(monkeypatch, _conv_eval, FUSED)

    def build(lib):
        first = _chain(lib, dict(in_channels=3, out_channels=4, kernel_size=3, padding=1), ("ReLU", {}), F32)
        second = _chain(lib, dict(in_channels=4, out_channels=4, kernel_size=3), ("ReLU6", {}), F32, False, 1)
        return lib.nn.Sequential(*first, lib.nn.MaxPool2d(2), *second, lib.nn.Conv2d(4, 2, 1)).eval()
    x = sample((2, 3, 12, 12), F32, seed=4)
    torch.manual_seed(0)
    expected = build(torch)
    model = build(ember)
    model.load_state_dict({k: ember.from_numpy(v.numpy()) for k, v in expected.state_dict().items()})
    with torch.no_grad():
        want = expected(torch.from_numpy(x))
    with ember.no_grad():
        got = model(ember.from_numpy(x))
    assert calls == {"_epilogue": 2}
    assert_same(got, want, rtol=1e-5, atol=1e-5)


def _fallback(make, x, dtype=F32, act=("ReLU", {"inplace": True}), grad=False, **conv_extra):
    """Runs the chain changed by ``make(lib, model, x)`` (which returns the input to use) in PyTorch and ember;
    returns both outputs."""
    conv_args = dict(in_channels=3, out_channels=4, kernel_size=3, padding=1, **conv_extra)
    results = []
    for lib in (torch, ember):
        model = _chain(lib, conv_args, act, dtype)
        inp = make(lib, model, lib.from_numpy(x.copy()))
        if grad:
            results.append(model(inp))
        else:
            with lib.no_grad():
                results.append(model(inp))
    return results


@pytest.mark.parametrize("case", ["forward_hook_on_bn", "pre_hook_on_act", "global_hook", "grad_enabled",
                                  "training", "no_running_stats", "float16", "channels_last", "instance_forward",
                                  "subclass_conv", "compiled_bn"])
def test_cases_that_run_module_by_module(case, monkeypatch):
    calls = count_calls(monkeypatch, _conv_eval, FUSED)
    seen = []
    dtype = F64 if case == "float16" else F32
    x = sample((2, 3, 6, 5), dtype, seed=5)

    def make(lib, model, inp):
        conv, bn, act = model
        if case == "forward_hook_on_bn":   # the hook sees batch norm's input: the convolution's output, untouched
            bn.register_forward_hook(lambda m, args, out: seen.append((args[0].clone(), out.clone())))
        elif case == "pre_hook_on_act":
            act.register_forward_pre_hook(lambda m, args: seen.append(args[0].clone()))
        elif case == "global_hook":
            handle = lib.nn.modules.module.register_module_forward_hook(lambda m, a, o: seen.append(type(m)))
            monkeypatch.setattr(model, "_handle", handle, raising=False)
        elif case == "grad_enabled":
            inp.requires_grad_()
        elif case == "training":
            model.train()
        elif case == "no_running_stats":
            bn.track_running_stats = False
            bn.running_mean = bn.running_var = None
        elif case == "float16":
            model.to(lib.float16)
            return inp.to(lib.float16)
        elif case == "channels_last":
            return inp.contiguous(memory_format=lib.channels_last)
        elif case == "instance_forward":
            original = act.forward
            act.forward = lambda t: original(t) * 2
        elif case == "subclass_conv":
            class Conv(lib.nn.Conv2d):
                def forward(self, t):
                    return super().forward(t) + 1
            replacement = Conv(3, 4, 3, padding=1).to(inp.dtype)
            replacement.load_state_dict(conv.state_dict())
            model[0] = replacement
        elif case == "compiled_bn" and lib is ember:
            bn.compile()
        return inp
    grad = case in ("grad_enabled", "training")
    want, got = _fallback(make, x, dtype=dtype, grad=grad)
    if case == "global_hook":
        ember.nn.modules.module._global_forward_hooks.clear()
        torch.nn.modules.module._global_forward_hooks.clear()
    # a hooked or replaced activation runs alone after the fused convolution and batch norm
    assert calls == ({"_epilogue": 1} if case in ("pre_hook_on_act", "instance_forward") else {})
    tolerance = 1e-3 if case == "float16" else 1e-5
    assert_same(got.detach(), want.detach(), rtol=tolerance, atol=tolerance)
    if grad:
        assert got.grad_fn is not None and want.grad_fn is not None
    if case == "forward_hook_on_bn":
        (t_in, t_out), (e_in, e_out) = seen
        assert_same(e_in, t_in, rtol=1e-5, atol=1e-5)
        assert_same(e_out, t_out, rtol=1e-5, atol=1e-5)
    elif case == "pre_hook_on_act":   # the batch norm's output, as PyTorch's
        assert_same(seen[1], seen[0], rtol=1e-5, atol=1e-5)
    elif case == "global_hook":
        assert [k.__name__ for k in seen[len(seen) // 2:]] == [k.__name__ for k in seen[:len(seen) // 2]]


def test_torch_function_modes_and_subclasses_see_each_op(monkeypatch):
    """A TorchFunctionMode sees the convolution and the activation as in PyTorch (ember's batch_norm does not reach
    modes yet); a tensor subclass's input runs module by module too."""
    calls = count_calls(monkeypatch, _conv_eval, FUSED)
    x = sample((2, 3, 6, 5), F32, seed=6)
    names = {}
    for lib in (torch, ember):
        class Recorder(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                seen.append(getattr(func, "__name__", str(func)))
                return func(*args, **(kwargs or {}))
        seen = []
        model = _chain(lib, dict(in_channels=3, out_channels=4, kernel_size=3), ("ReLU", {}), F32)
        with lib.no_grad(), Recorder():
            model(lib.from_numpy(x))
        names[lib] = [n for n in seen if n in ("conv2d", "relu")]
    assert names[ember] == names[torch] and names[torch]
    assert calls == {}

    class Sub(ember.Tensor):
        pass
    model = _chain(ember, dict(in_channels=3, out_channels=4, kernel_size=3), ("ReLU", {}), F32)
    with ember.no_grad():
        out = model(ember.from_numpy(x).as_subclass(Sub))
    assert calls == {} and out.shape == (2, 4, 4, 3)


def test_a_replaced_functional_conv2d_is_called(monkeypatch):
    """Conv2d looks F.conv2d up when called (a tracer's stand-in records there): the 1x1 chain then runs the
    module's forward, which calls it."""
    seen = []
    original = ember.nn.functional.conv2d
    monkeypatch.setattr(ember.nn.functional, "conv2d", lambda *args, **kwargs: seen.append(1) or original(*args,
                                                                                                          **kwargs))
    model = _chain(ember, dict(in_channels=5, out_channels=7, kernel_size=1), ("ReLU", {}), F32)
    x = sample((2, 5, 7, 9), F32, seed=7)
    with ember.no_grad():
        got = model(ember.from_numpy(x))
    with torch.no_grad():
        want = _chain(torch, dict(in_channels=5, out_channels=7, kernel_size=1), ("ReLU", {}), F32)(
            torch.from_numpy(x))
    assert seen == [1]
    assert_same(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel,groups", [(1, 1), (3, 4), (3, 1)], ids=["1x1", "depthwise", "3x3"])
def test_a_batch_norm_of_other_channels_raises_torchs_error(kernel, groups):
    for lib in (torch, ember):
        model = lib.nn.Sequential(lib.nn.Conv2d(4, 4, kernel, groups=groups), lib.nn.BatchNorm2d(6)).eval()
        with lib.no_grad(), pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 6"):
            model(lib.ones(2, 4, 9, 9))


def test_chains_stay_direct_once_torch_function_dispatch_is_installed():
    """Once the __torch_function__ wrappers are installed (by any earlier use of the protocol in the process),
    F.conv2d is a dispatching wrapper around the same function: the chain still computes the convolution itself."""
    import subprocess
    import sys
    code = ("import ember, numpy\n"
            "from ember import overrides\n"
            "from ember.nn.modules import _conv_eval\n"
            "overrides.enable_torch_function_dispatch()\n"
            "seen = []\n"
            "original = _conv_eval._depthwise_chain\n"
            "_conv_eval._depthwise_chain = lambda *a: seen.append(1) or original(*a)\n"
            "conv = ember.nn.Conv2d(4, 4, 3, padding=1, groups=4)\n"
            "model = ember.nn.Sequential(conv, ember.nn.BatchNorm2d(4)).eval()\n"
            "x = ember.randn(2, 4, 6, 6)\n"
            "with ember.no_grad():\n"
            "    got = model(x)\n"
            "    one_by_one = model[1](model[0](x))\n"
            "print(len(seen), bool(numpy.array_equal(got.numpy(), one_by_one.numpy())))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "True"]
