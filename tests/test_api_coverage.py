"""The op names issue #2 asks for exist in ember wherever PyTorch has them: on the namespace and as Tensor methods,
plus the in-place namespace functions and method aliases PyTorch offers (``torch.exp_``, ``Tensor.multiply``)."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check

ISSUE_OPS = """
tensor as_tensor from_numpy zeros ones full empty zeros_like ones_like full_like empty_like arange linspace logspace
eye rand randn randint randperm normal bernoulli multinomial manual_seed Generator set_default_dtype from_dlpack
numpy item tolist add_ mul_ clamp_ zero_ fill_ copy_ normal_ uniform_
exp exp2 log log2 log10 log1p expm1 sqrt rsqrt abs sign neg negative reciprocal pow sin cos tan asin acos atan atan2
sinh cosh tanh sigmoid logit relu erf erfc floor ceil round trunc frac clamp clip lerp where maximum minimum fmod
remainder nan_to_num
sum mean prod max min amax amin argmax argmin std var norm logsumexp cumsum cumprod cummax all any count_nonzero
median mode quantile
matmul mm bmm mv dot outer addmm einsum tensordot
view reshape flatten unflatten squeeze unsqueeze permute transpose t expand expand_as narrow unfold chunk split
tensor_split unbind movedim diagonal as_strided repeat repeat_interleave tile cat stack hstack vstack flip roll
contiguous
gather scatter scatter_add scatter_reduce index_select index_add index_copy index_fill masked_fill masked_select take
take_along_dim nonzero
sort argsort topk kthvalue unique unique_consecutive searchsorted bucketize
eq ne lt le gt ge equal isclose allclose isnan isinf isfinite
clone detach to type type_as float double half bfloat16 long int bool numel size dim stride is_contiguous
element_size data_ptr tril triu diag diag_embed trace meshgrid cartesian_prod bincount histc cdist broadcast_to
broadcast_tensors atleast_1d atleast_2d atleast_3d kron cross
backward retain_grad requires_grad_ register_hook
""".split()

EXTRA_INPLACE_FUNCTIONS = ["abs_", "exp_", "sigmoid_", "relu_", "clamp_min_", "sqrt_", "neg_", "xlogy_"]
METHOD_ALIASES = ["subtract", "multiply", "divide", "true_divide", "negative", "is_signed", "bitwise_left_shift",
                  "bitwise_right_shift", "bitwise_left_shift_", "__lshift__", "__rrshift__", "__ilshift__"]


@pytest.mark.parametrize("name", [n for n in ISSUE_OPS + EXTRA_INPLACE_FUNCTIONS if hasattr(torch, n)])
def test_namespace_function_exists(name):
    assert hasattr(ember, name), f"ember.{name} is missing"
    assert callable(getattr(ember, name)) == callable(getattr(torch, name))


@pytest.mark.parametrize("name", [n for n in ISSUE_OPS + METHOD_ALIASES if hasattr(torch.Tensor, n)])
def test_tensor_method_exists(name):
    assert hasattr(ember.Tensor, name), f"Tensor.{name} is missing"


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
                                  "set_anomaly_enabled", "rsub", "bitwise_left_shift", "bitwise_right_shift"])
def test_names_added_for_parity_exist(name):
    assert hasattr(torch, name) and hasattr(ember, name)


@pytest.mark.parametrize("call", [lambda lib, x: lib.clamp_(x, -1, 0.5), lambda lib, x: lib.zero_(x),
                                  lambda lib, x: lib.fill_(x, 2.5), lambda lib, x: lib.exp_(x),
                                  lambda lib, x: x.negative(), lambda lib, x: x.subtract(x, alpha=2),
                                  lambda lib, x: x.multiply(3), lambda lib, x: x.divide(2, rounding_mode="floor"),
                                  lambda lib, x: x.true_divide(4), lambda lib, x: lib.rsub(x, 2, alpha=3)])
def test_aliases_and_namespace_inplace_functions_match_torch(call):
    check(call, numpy.array([1.5, -2.0, 0.25]), grad=False)


# Issue 15: the everyday surface around the core that public PyTorch programs use.
ISSUE_15_NAMES = """
set_num_threads get_num_threads set_num_interop_threads get_num_interop_threads use_deterministic_algorithms
are_deterministic_algorithms_enabled is_deterministic_algorithms_warn_only_enabled set_deterministic_debug_mode
get_deterministic_debug_mode set_float32_matmul_precision get_float32_matmul_precision set_default_device
get_default_device accelerator backends dropout_ alpha_dropout_ feature_dropout conv_tbc embedding_bag
""".split()
ISSUE_15_MODULES = {
    "accelerator": ["is_available", "current_accelerator", "device_count", "set_device_index", "synchronize",
                    "current_device_index"],
    "serialization": ["add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals"],
    "backends.cudnn": ["benchmark", "deterministic", "enabled", "allow_tf32", "is_available", "version"],
    "backends.mps": ["is_available", "is_built"], "backends.cpu": ["get_cpu_capability"],
    "backends.cuda": ["matmul", "is_built"], "autograd": ["Variable"], "torch_version": ["TorchVersion"],
    "nn": ["Softmax2d", "CosineSimilarity", "PairwiseDistance"],
    "multiprocessing": ["spawn", "start_processes", "ProcessContext", "ProcessRaisedException",
                        "ProcessExitedException", "get_sharing_strategy", "set_sharing_strategy",
                        "get_all_sharing_strategies", "Process", "Queue", "get_context", "set_start_method"],
    "version": ["__version__", "cuda", "hip", "debug"]}
ISSUE_15_METHODS = ["resize_", "resize_as_", "is_xpu", "get_device", "pin_memory", "is_pinned", "share_memory_",
                    "is_shared"]


@pytest.mark.parametrize("name", ISSUE_15_NAMES)
def test_issue_15_namespace_names_exist(name):
    assert hasattr(torch, name) and hasattr(ember, name), f"ember.{name} is missing"


@pytest.mark.parametrize("module, name", [(m, n) for m, names in ISSUE_15_MODULES.items() for n in names])
def test_issue_15_module_names_exist(module, name):
    import importlib
    assert hasattr(importlib.import_module(f"torch.{module}"), name)
    assert hasattr(importlib.import_module(f"ember.{module}"), name), f"ember.{module}.{name} is missing"


@pytest.mark.parametrize("name", ISSUE_15_METHODS)
def test_issue_15_tensor_methods_exist(name):
    assert hasattr(torch.Tensor, name) and hasattr(ember.Tensor, name)

SPECIAL_FUNCTIONS = "lgamma digamma polygamma mvlgamma i0 sinc igamma igammac".split()


@pytest.mark.parametrize("name", SPECIAL_FUNCTIONS)
def test_special_functions_on_namespace_and_tensor(name):
    assert hasattr(ember, name) and hasattr(ember.Tensor, name) and hasattr(ember.Tensor, name + "_")


MODULE_NAMES = {
    "special": "bessel_j0 bessel_j1 digamma entr erf erfc erfcx erfinv exp2 expit expm1 gammainc gammaincc gammaln i0 "
               "i0e i1 i1e log1p log_ndtr log_softmax logit logsumexp multigammaln ndtr ndtri polygamma psi round sinc "
               "softmax spherical_bessel_j0 xlog1py xlogy zeta airy_ai bessel_y0 bessel_y1 modified_bessel_i0 "
               "modified_bessel_i1 modified_bessel_k0 modified_bessel_k1 scaled_modified_bessel_k0 "
               "scaled_modified_bessel_k1 chebyshev_polynomial_t chebyshev_polynomial_u chebyshev_polynomial_v "
               "chebyshev_polynomial_w shifted_chebyshev_polynomial_t shifted_chebyshev_polynomial_u "
               "shifted_chebyshev_polynomial_v shifted_chebyshev_polynomial_w hermite_polynomial_h "
               "hermite_polynomial_he laguerre_polynomial_l legendre_polynomial_p",
    "distributions": "Bernoulli Beta Binomial Categorical Cauchy Chi2 Dirichlet Distribution Exponential Gamma "
                     "Geometric Independent Laplace LogNormal LowRankMultivariateNormal MixtureSameFamily Multinomial "
                     "MultivariateNormal Normal OneHotCategorical Poisson RelaxedBernoulli StudentT "
                     "TransformedDistribution Uniform kl_divergence register_kl constraints transforms ExpTransform "
                     "AffineTransform SigmoidTransform TanhTransform PowerTransform AbsTransform SoftmaxTransform "
                     "StickBreakingTransform SoftplusTransform ComposeTransform IndependentTransform "
                     "identity_transform",
    "testing": "assert_close make_tensor",
}


@pytest.mark.parametrize("module,name", [(m, n) for m, names in MODULE_NAMES.items() for n in names.split()])
def test_module_names_exist_as_in_torch(module, name):
    assert hasattr(getattr(torch, module), name), f"torch.{module}.{name} is not in PyTorch"
    assert hasattr(getattr(ember, module), name), f"ember.{module}.{name} is missing"


@pytest.mark.parametrize("name", "grad grad_and_value vjp jvp jacrev jacfwd hessian functional_call".split())
def test_func_names_exist_as_in_torch(name):
    assert hasattr(torch.func, name) and hasattr(ember.func, name)


LAZY_NAMES = ("LazyLinear LazyConv1d LazyConv2d LazyConv3d LazyConvTranspose1d LazyConvTranspose2d "
              "LazyConvTranspose3d LazyBatchNorm1d LazyBatchNorm2d LazyBatchNorm3d LazyInstanceNorm1d "
              "LazyInstanceNorm2d LazyInstanceNorm3d UninitializedParameter UninitializedBuffer").split()


@pytest.mark.parametrize("name", LAZY_NAMES + ["LazyModuleMixin"])
def test_lazy_module_names_exist_as_in_torch(name):
    holder = "modules.lazy" if name == "LazyModuleMixin" else None
    torch_owner = torch.nn.modules.lazy if holder else torch.nn
    ember_owner = ember.nn.modules.lazy if holder else ember.nn
    assert hasattr(torch_owner, name) and hasattr(ember_owner, name)


@pytest.mark.parametrize("module,name", [("profiler", n) for n in "profile record_function ProfilerActivity "
                                         "ProfilerAction schedule".split()] +
                         [("autograd.profiler", n) for n in ("profile", "record_function")])
def test_profiler_names_exist_as_in_torch(module, name):
    import functools
    owner = functools.reduce(getattr, module.split("."), torch)
    mine = functools.reduce(getattr, module.split("."), ember)
    assert hasattr(owner, name) and hasattr(mine, name)


@pytest.mark.parametrize("name", ["load_state_dict_from_url", "download_url_to_file", "get_dir", "set_dir"])
def test_hub_names_exist_as_in_torch(name):
    assert hasattr(torch.hub, name) and hasattr(ember.hub, name)


# Issue 15, more ops (ops/indices, tensor_utilities, calculus, statistics, integer_math, floating_point).
MORE_OPS_FUNCTIONS = ("diff gradient isin tril_indices triu_indices combinations unravel_index is_same_size is_signed "
                      "get_device cov corrcoef dist renorm trapezoid trapz cumulative_trapezoid vander histogram "
                      "histogramdd gcd gcd_ lcm lcm_ heaviside ldexp ldexp_ frexp nextafter is_inference lu lu_unpack "
                      "lu_solve triangular_solve frombuffer typename is_conj index_reduce alias_copy as_strided_copy "
                      "diagonal_copy expand_copy permute_copy select_copy slice_copy split_copy "
                      "split_with_sizes_copy squeeze_copy t_copy transpose_copy unbind_copy unfold_copy "
                      "unsqueeze_copy view_copy view_as_real_copy view_as_complex_copy").split()
MORE_OPS_METHODS = ("diff fill_diagonal_ new sum_to_size cumsum_ cumprod_ hardshrink prelu is_same_size cov corrcoef "
                    "dist renorm renorm_ histogram gcd gcd_ lcm lcm_ heaviside heaviside_ ldexp ldexp_ frexp "
                    "nextafter nextafter_ is_inference lu lu_solve triangular_solve apply_ map_ "
                    "index_reduce index_reduce_").split()


@pytest.mark.parametrize("name", MORE_OPS_FUNCTIONS)
def test_more_ops_functions_exist_as_in_torch(name):
    assert hasattr(torch, name) and callable(getattr(ember, name, None)), f"ember.{name} is missing"


@pytest.mark.parametrize("name", MORE_OPS_METHODS)
def test_more_ops_methods_exist_as_in_torch(name):
    assert hasattr(torch.Tensor, name) and hasattr(ember.Tensor, name), f"Tensor.{name} is missing"


@pytest.mark.parametrize("name", ["lu", "lu_factor", "lu_factor_ex", "lu_solve"])
def test_more_ops_linalg_names_exist_as_in_torch(name):
    assert hasattr(torch.linalg, name) and hasattr(ember.linalg, name), f"ember.linalg.{name} is missing"
