"""autocast regions: state functions, nesting, enabled=False, the decorator, grad mode, the weight-cast cache,
custom_fwd/custom_bwd, the deprecated aliases and PyTorch's CUDA list; checked against PyTorch 2.13 where it runs."""
import importlib.util
import inspect
import threading
import warnings

import numpy as np
import pytest

import ember
from ember.amp import autocast_mode, policy
from ember.autograd.function import Composite, dispatch_hooks, registry

torch = pytest.importorskip("torch")


def _mm_dtype(T, a, b):
    return str(T.mm(a, b).dtype).split(".")[-1]


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_state_functions_follow_regions(T):
    assert not T.is_autocast_enabled("cpu") and T.get_autocast_dtype("cpu") is T.bfloat16
    assert T.get_autocast_dtype("cuda") is T.float16 and T.is_autocast_cache_enabled()
    x, w = T.ones(2, 3), T.ones(3, 2)
    with T.autocast("cpu"):
        assert T.is_autocast_enabled("cpu") and not T.is_autocast_enabled()   # no argument: CUDA
        assert _mm_dtype(T, x, w) == "bfloat16"
        with T.autocast("cpu", enabled=False):
            assert not T.is_autocast_enabled("cpu") and _mm_dtype(T, x, w) == "float32"
            with T.autocast("cpu", dtype=T.float16):
                assert _mm_dtype(T, x, w) == "float16" and T.get_autocast_dtype("cpu") is T.float16
            assert _mm_dtype(T, x, w) == "float32"
        assert _mm_dtype(T, x, w) == "bfloat16" and T.get_autocast_dtype("cpu") is T.bfloat16
        with T.autocast("cpu", cache_enabled=False):
            assert not T.is_autocast_cache_enabled()
        assert T.is_autocast_cache_enabled()
    assert not T.is_autocast_enabled("cpu") and _mm_dtype(T, x, w) == "float32"


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_out_and_in_place_calls_are_not_autocast(T):
    a, b = T.ones(2, 2), T.ones(2, 2)
    out = T.empty(2, 2)
    with T.autocast("cpu"):
        T.mm(a, b, out=out)
        c = a.clone().addmm_(a, b)
        assert out.dtype is T.float32 and out.tolist() == [[2.0, 2.0]] * 2 and c.dtype is T.float32
        assert a.addmm(a, b).dtype is T.bfloat16


def test_the_hook_sits_at_the_dispatch_point_only_while_a_region_is_enabled():
    original = ember.mm, ember.Tensor.matmul, ember.nn.functional.linear
    assert autocast_mode._hook not in dispatch_hooks
    with ember.autocast("cpu"):
        assert dispatch_hooks.count(autocast_mode._hook) == 1
        with ember.autocast("cpu", enabled=False):
            assert autocast_mode._hook not in dispatch_hooks
        with ember.autocast("cpu", dtype=ember.float16):
            assert dispatch_hooks.count(autocast_mode._hook) == 1
    assert (ember.mm, ember.Tensor.matmul, ember.nn.functional.linear) == original   # nothing swapped
    assert autocast_mode._hook not in dispatch_hooks


def test_an_exception_inside_still_closes_the_region():
    with pytest.raises(ZeroDivisionError), ember.autocast("cpu"):
        _ = 1 / 0
    assert not ember.is_autocast_enabled("cpu") and autocast_mode._hook not in dispatch_hooks


PUBLIC_NAMES = {"cross_entropy_loss": "cross_entropy", "grid_sampler": "grid_sample"}
FORWARDING_METHODS = {ember.Tensor.norm}   # a Python method in PyTorch too (torch/_tensor.py), calling torch.norm


def _public_functions(op):
    """ember's public functions for the ATen op ``op``: ``linalg_x``/``fft_x`` in ember.linalg/fft, else the name in
    ember, ember.nn.functional and on Tensor (where each exists)."""
    name = PUBLIC_NAMES.get(op, op)
    for prefix, namespace in (("linalg_", ember.linalg), ("fft_", ember.fft)):
        if name.startswith(prefix):
            return [getattr(namespace, name[len(prefix):], None)]
    return [getattr(owner, name, None) for owner in (ember, ember.nn.functional, ember.Tensor)]


def test_every_listed_op_ember_has_is_one_composite_of_that_name():
    checked = 0
    for op in sorted(policy.LISTED):
        for function in _public_functions(op):
            function = ember.overrides.unwrapped(function)   # behind __torch_function__ dispatch, if installed
            if function is None or inspect.unwrap(function).__module__ == "ember.ops.functional_aliases" \
                    or function in FORWARDING_METHODS:
                continue   # torch.softmax & co. (ATen's signatures) call the functional op, which is the composite
            assert function.op is registry[op], op
            checked += 1
    assert checked > 150
    clashes = [name for name in policy.LISTED if name in registry and not issubclass(registry[name], Composite)]
    assert clashes == []   # no primitive shares a listed name (the hook keys on it)


def test_a_second_op_of_a_registered_name_is_refused():
    from ember.autograd.function import composite
    with pytest.raises(RuntimeError, match="an op named 'ctc_loss' is already registered by ember.ops.ctc"):
        composite("ctc_loss")(lambda x: x)
    assert registry["ctc_loss"] is ember.nn.functional.ctc_loss.op


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_decorator_and_bad_arguments(T):
    @T.autocast("cpu")
    def forward(a, b):
        return T.is_autocast_enabled("cpu"), T.mm(a, b).dtype
    assert forward(T.ones(2, 2), T.ones(2, 2)) == (True, T.bfloat16)
    assert not T.is_autocast_enabled("cpu")
    with pytest.raises(TypeError, match="requires a callable, but got int"):
        T.autocast("cpu")(3)
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        T.autocast(1)
    with pytest.raises(RuntimeError, match="device type at start of device string: xyz"):
        T.autocast("xyz")
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported"):
        region = T.autocast("cpu", dtype=T.float64)
    with region:
        assert not T.is_autocast_enabled("cpu")


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_other_device_types_keep_autocast_state(T):
    # kornia asks is_autocast_enabled for cpu, cuda, mps and xpu: PyTorch keeps state for every autocast device type
    defaults = {"mps": T.float16, "xpu": T.float16, "hpu": T.bfloat16, "xla": T.bfloat16, "ipu": T.float16,
                "mtia": T.float16, "maia": T.bfloat16}
    for kind, dtype in defaults.items():
        assert not T.is_autocast_enabled(kind) and T.get_autocast_dtype(kind) is dtype
        assert T.amp.is_autocast_available(kind)
    with T.autocast("mps", dtype=T.bfloat16):
        assert T.is_autocast_enabled("mps") and T.get_autocast_dtype("mps") is T.bfloat16
        assert not T.is_autocast_enabled("cpu") and T.mm(T.ones(2, 2), T.ones(2, 2)).dtype is T.float32
    assert not T.is_autocast_enabled("mps") and T.get_autocast_dtype("mps") is T.float16
    assert not T.amp.is_autocast_available("hip")
    with pytest.raises(RuntimeError, match="unknown device type for autocast in get_autocast_dispatch_key"):
        T.is_autocast_enabled("hip")
    with pytest.raises(RuntimeError, match="unknown device type for autocast in get_autocast_dispatch_key"):
        T.set_autocast_enabled("meta", True)
    with pytest.raises(RuntimeError, match="User specified an unsupported autocast device_type 'hip'"):
        T.autocast("hip")


def test_cuda_region_without_a_gpu_warns_and_disables():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.warns(UserWarning, match="CUDA is not available or torch_xla is imported. Disabling autocast."), \
            ember.autocast("cuda"):
        assert not ember.is_autocast_enabled("cuda")


def test_weight_cast_is_cached_within_a_region_and_not_across():
    def cast_nodes(T):
        w = T.nn.Parameter(T.ones(3, 2))
        x = T.ones(2, 3)
        with T.autocast("cpu"):
            a, b = T.mm(x, w), T.mm(x, w)
            same_region = a.grad_fn.next_functions[1][0] is b.grad_fn.next_functions[1][0]
        with T.autocast("cpu", cache_enabled=False):
            c, d = T.mm(x, w), T.mm(x, w)
            uncached = c.grad_fn.next_functions[1][0] is d.grad_fn.next_functions[1][0]
        with T.autocast("cpu"):
            e = T.mm(x, w)
        across = a.grad_fn.next_functions[1][0] is e.grad_fn.next_functions[1][0]
        view = T.nn.Parameter(T.ones(2, 3))
        with T.autocast("cpu"):   # views and non-leaves are never cached
            f, g = T.mm(x, view.t()), T.mm(x, view.t())
            views = f.grad_fn.next_functions[1][0] is g.grad_fn.next_functions[1][0]
        return same_region, uncached, across, views
    assert cast_nodes(ember) == cast_nodes(torch) == (True, False, False, False)


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_grad_mode_is_respected(T):
    w = T.nn.Parameter(T.ones(3, 2))
    x = T.ones(2, 3)
    with T.autocast("cpu"):
        with T.no_grad():
            y0 = T.mm(x, w)
        y = T.mm(x, w)   # the cast made under no_grad must not be reused: this one reaches w
    assert y0.dtype is T.bfloat16 and not y0.requires_grad and y0.grad_fn is None
    y.float().sum().backward()
    assert w.grad.dtype is T.float32 and w.grad.tolist() == [[2.0, 2.0]] * 3


def test_regions_are_per_thread():
    seen = []
    with ember.autocast("cpu"):
        worker = threading.Thread(target=lambda: seen.append(
            (ember.is_autocast_enabled("cpu"), ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype)))
        worker.start()
        worker.join(timeout=30)
        inside = ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype
    assert seen == [(False, ember.float32)] and inside is ember.bfloat16


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_set_enabled_and_nesting_functions(T):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        T.set_autocast_enabled("cpu", True)
        try:
            assert T.mm(T.ones(1, 1), T.ones(1, 1)).dtype is T.bfloat16 and T.is_autocast_cpu_enabled()
        finally:
            T.set_autocast_enabled("cpu", False)
    assert T.autocast_increment_nesting() == 1 and T.autocast_decrement_nesting() == 0
    with pytest.warns(DeprecationWarning, match=r"get_autocast_gpu_dtype\(\) is deprecated"):
        assert T.get_autocast_gpu_dtype() is T.float16


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_deprecated_aliases_warn_and_work(T):
    with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is deprecated. Please use "
                                           r"`torch.amp.autocast\('cpu', args...\)` instead."):
        region = T.cpu.amp.autocast()
    with region:
        assert T.mm(T.ones(1, 1), T.ones(1, 1)).dtype is T.bfloat16
    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.autocast\(args...\)` is deprecated"):
        T.cuda.amp.autocast(enabled=False)
    assert T.amp.autocast is T.autocast


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_amp_definitely_not_available(T):
    # spaCy's thinc calls it through the package's attribute at import
    expected = not (T.cuda.is_available() or importlib.util.find_spec("torch_xla"))
    assert T.cuda.amp.common.amp_definitely_not_available() is expected
    assert T.cuda.amp.amp_definitely_not_available is T.cuda.amp.common.amp_definitely_not_available


class _Scaled:
    """A custom Function under custom_fwd(cast_inputs=float32) and custom_bwd, for ember and torch alike."""

    @staticmethod
    def build(T):
        class MyMM(T.autograd.Function):
            @staticmethod
            @T.amp.custom_fwd(device_type="cpu", cast_inputs=T.float32)
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                ctx.inner = (T.is_autocast_enabled("cpu"), a.dtype, b.dtype)
                return a.mm(b)

            @staticmethod
            @T.amp.custom_bwd(device_type="cpu")
            def backward(ctx, grad):
                a, b = ctx.saved_tensors
                ctx.backward_state = T.is_autocast_enabled("cpu")
                return grad.mm(b.t()), a.t().mm(grad)
        return MyMM


@pytest.mark.parametrize("T", [ember, torch], ids=["ember", "torch"])
def test_custom_fwd_casts_inputs_and_custom_bwd_restores_state(T):
    MyMM = _Scaled.build(T)
    a = T.ones(2, 3, dtype=T.bfloat16, requires_grad=True)
    b = T.ones(3, 2, requires_grad=True)
    with T.autocast("cpu"):
        out = MyMM.apply(a, b)
    assert out.dtype is T.float32 and out.grad_fn.inner == (False, T.float32, T.float32)
    out.sum().backward()
    assert out.grad_fn.backward_state is False and a.grad.dtype is T.bfloat16 and b.grad.dtype is T.float32

    class Plain(T.autograd.Function):
        @staticmethod
        @T.amp.custom_fwd(device_type="cpu")
        def forward(ctx, a, b):
            return a.mm(b)

        @staticmethod
        @T.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            ctx.backward_state = (T.is_autocast_enabled("cpu"), T.get_autocast_dtype("cpu"))
            return grad, grad
    x = T.ones(2, 2, requires_grad=True)
    with T.autocast("cpu", dtype=T.float16):
        y = Plain.apply(x, x)
    assert y.dtype is T.float16   # forward ran under autocast
    y.float().sum().backward()   # backward runs outside the region, yet under the forward's state
    assert y.grad_fn.backward_state == (True, T.float16)
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        T.amp.custom_fwd(device_type=None)


def test_binary_cross_entropy_is_banned_only_on_cuda():
    assert policy.POLICIES["cuda"]["binary_cross_entropy"] == "banned"
    assert policy.POLICIES["cpu"]["binary_cross_entropy"] == "fp32"


# PyTorch's documented CUDA autocast lists (docs/source/amp.rst, "CUDA Op-Specific Behavior"), by the names users
# call; DOC_TO_OP names the ATen op each one runs where the two differ.
CUDA_DOC = {
    "lower": "__matmul__ addbmm addmm addmv addr baddbmm bmm chain_matmul multi_dot conv1d conv2d conv3d "
             "conv_transpose1d conv_transpose2d conv_transpose3d GRUCell linear LSTMCell matmul mm mv prelu RNNCell",
    "fp32": "__pow__ __rdiv__ __rpow__ __rtruediv__ acos asin binary_cross_entropy_with_logits cosh "
            "cosine_embedding_loss cdist cosine_similarity cross_entropy cumprod cumsum dist erfinv exp expm1 "
            "group_norm hinge_embedding_loss kl_div l1_loss layer_norm log log_softmax log10 log1p log2 "
            "margin_ranking_loss mse_loss multilabel_margin_loss multi_margin_loss nll_loss norm normalize pdist "
            "poisson_nll_loss pow prod reciprocal rsqrt sinh smooth_l1_loss soft_margin_loss softmax softmin "
            "softplus sum renorm tan triplet_margin_loss",
    "promote": "addcdiv addcmul atan2 bilinear cross dot grid_sample index_put scatter_add tensordot",
}
DOC_TO_OP = {"__matmul__": "matmul", "multi_dot": "linalg_multi_dot", "GRUCell": "gru_cell", "LSTMCell": "lstm_cell",
             "RNNCell": "rnn_tanh_cell", "__pow__": "pow", "__rpow__": "pow", "__rdiv__": "reciprocal",
             "__rtruediv__": "reciprocal", "cross_entropy": "log_softmax", "normalize": "norm", "softmin": "softmax",
             "grid_sample": "grid_sampler"}
FLOAT32_POLICIES = {"fp32", "fp32_set_opt_dtype", "fp32_append_dtype"}


@pytest.mark.parametrize("kind", sorted(CUDA_DOC))
def test_cuda_policy_matches_pytorchs_documented_list(kind):
    table = policy.POLICIES["cuda"]
    for name in CUDA_DOC[kind].split():
        got = table.get(DOC_TO_OP.get(name, name))
        assert (got in FLOAT32_POLICIES) if kind == "fp32" else got == kind, name


def test_cpu_policy_matches_pytorchs_documented_lower_precision_list():
    documented = ["conv1d", "conv2d", "conv3d", "bmm", "mm", "linalg_vecdot", "baddbmm", "addmm", "addbmm", "linear", "matmul", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "prelu", "scaled_dot_product_attention", "mkldnn_rnn_layer"]
    documented += ["rnn_tanh", "rnn_relu"]   # the RNN layers' ops on the CPU (see policy.CPU); lstm is DECOMPOSED
    assert {op for op, kind in policy.POLICIES["cpu"].items() if kind == "lower"} == set(documented)


@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_autocast_on_a_gpu():
    a = ember.randn(4, 4, device="cuda")
    with ember.autocast("cuda"):
        assert ember.mm(a, a).dtype is ember.float16
        assert a.exp().dtype is ember.float32
        assert ember.nn.functional.softmax(a.half(), 1).dtype is ember.float32
        assert a.half().sum().dtype is ember.float32
        assert ember.cat([a, a.half()]).dtype is ember.float32   # cat is not listed on CUDA: type promotion
        assert ember.atan2(a, a.half()).dtype is ember.float32
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            ember.nn.functional.binary_cross_entropy(a.sigmoid(), a.sigmoid())
    np.testing.assert_allclose(ember.mm(a, a).cpu().numpy(), (a.cpu().numpy() @ a.cpu().numpy()), rtol=1e-4)


def test_cuda_policy_applied_with_cpu_arrays_standing_in_for_gpu_ones(monkeypatch):
    """The CUDA table's policies (fp32_set_opt_dtype, fp32_append_dtype, promote, banned) run through the same
    wrappers; without a GPU, CPU tensors stand in for CUDA ones. Expected dtypes: PyTorch's documented behaviour."""
    as_cuda = {"cpu": "cuda"}
    real_device_type, real_eligible = autocast_mode._device_type, policy.eligible
    monkeypatch.setattr(autocast_mode, "_device_type", lambda v: as_cuda.get(real_device_type(v)))
    monkeypatch.setattr(policy, "eligible", lambda v, d: real_eligible(v, "cpu") and d == "cuda")
    x, h = ember.ones(2, 3), ember.ones(2, 3, dtype=ember.float16)
    ember.set_autocast_enabled("cuda", True)
    try:
        assert ember.mm(x, x.t()).dtype is ember.float16 and ember.nn.functional.linear(x, x).dtype is ember.float16
        assert ember.einsum("ij,kj->ik", x, x).dtype is ember.float16          # listed by name on CUDA
        assert h.exp().dtype is ember.float32 and (h ** 2).dtype is ember.float32
        assert ember.nn.functional.softmax(h, 1).dtype is ember.float32       # fp32_set_opt_dtype
        assert h.sum().dtype is ember.float32 and h.cumsum(1).dtype is ember.float32
        assert h.sum(dtype=ember.float16).dtype is ember.float16               # an explicit dtype wins
        assert h.norm().dtype is ember.float32                                 # fp32_append_dtype
        assert ember.atan2(h, x).dtype is ember.float32 and ember.atan2(h, h).dtype is ember.float16   # promote
        assert ember.cat([h, h]).dtype is ember.float16                        # not listed on CUDA
        with pytest.raises(RuntimeError, match="binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast"):
            ember.nn.functional.binary_cross_entropy(x.sigmoid(), x.sigmoid())
    finally:
        ember.set_autocast_enabled("cuda", False)
