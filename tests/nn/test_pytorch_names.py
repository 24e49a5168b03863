"""Smaller PyTorch names against torch: the max-pooling ``*_with_indices`` forms, the deprecated ``upsample``
functions, ``lp_pool*`` (including p = +-inf) and ``LPPool3d``, ``triplet_margin_with_distance_loss`` and its module,
and ``NLLLoss2d``."""
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_error

X4 = numpy.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(numpy.float32)
X5 = numpy.random.default_rng(1).standard_normal((2, 2, 4, 6, 6)).astype(numpy.float32)
X3 = numpy.random.default_rng(2).standard_normal((2, 3, 8)).astype(numpy.float32)


@pytest.mark.parametrize("name,x,args", [("max_pool1d_with_indices", X3, (2,)),
                                         ("max_pool2d_with_indices", X4, (3, 2, 1)),
                                         ("max_pool3d_with_indices", X5, (2,)),
                                         ("adaptive_max_pool1d_with_indices", X3, (3,)),
                                         ("adaptive_max_pool2d_with_indices", X4, ((4, 2),)),
                                         ("adaptive_max_pool3d_with_indices", X5, (2,))])
def test_with_indices_forms(name, x, args):
    got = getattr(ember.nn.functional, name)(ember.tensor(x, requires_grad=True), *args)
    want = getattr(torch.nn.functional, name)(torch.tensor(x, requires_grad=True), *args)
    assert isinstance(got, tuple) and len(got) == 2
    numpy.testing.assert_array_equal(got[0].detach().numpy(), want[0].detach().numpy())
    numpy.testing.assert_array_equal(got[1].numpy(), want[1].numpy())
    assert got[1].dtype == ember.int64


@pytest.mark.parametrize("name,kwargs", [("upsample", {"scale_factor": 2}),
                                         ("upsample", {"size": 9, "mode": "bilinear"}),
                                         ("upsample_nearest", {"size": (4, 8)}),
                                         ("upsample_bilinear", {"scale_factor": 2})])
def test_deprecated_upsample_functions_warn_and_interpolate(name, kwargs):
    messages = []
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = getattr(lib.nn.functional, name)(lib.tensor(X4), **kwargs).numpy()
            messages.append(([str(w.message) for w in caught if "deprecated" in str(w.message)], out))
    assert messages[0][0] == messages[1][0] and len(messages[0][0]) == 1
    numpy.testing.assert_allclose(messages[0][1], messages[1][1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("p", [1, 2, 3.5, float("inf"), -float("inf")])
@pytest.mark.parametrize("n,x", [(1, X3), (2, X4), (3, X5)])
def test_lp_pool_matches_torch(n, x, p):
    x = numpy.abs(x) if p == 3.5 else x   # a fractional power of a negative number is nan in both
    check(lambda lib, t: getattr(lib.nn.functional, f"lp_pool{n}d")(t, p, 2), x, atol=1e-5, rtol=1e-5)
    check(lambda lib, t: getattr(lib.nn, f"LPPool{n}d")(p, 2, stride=1, ceil_mode=True)(t), x, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("options", [{}, {"swap": True, "margin": 0.5}, {"reduction": "none"}, {"reduction": "sum"},
                                     {"distance_function": "cosine"}])
def test_triplet_margin_with_distance_loss(options):
    rng = numpy.random.default_rng(3)
    a, p, n = (rng.standard_normal((5, 4)).astype(numpy.float32) for _ in range(3))

    def build(lib, a, p, n):
        kwargs = dict(options)
        if kwargs.get("distance_function") == "cosine":
            kwargs["distance_function"] = lambda x, y: 1 - lib.nn.functional.cosine_similarity(x, y)
        functional = lib.nn.functional.triplet_margin_with_distance_loss(a, p, n, **kwargs)
        module = lib.nn.TripletMarginWithDistanceLoss(**kwargs)(a, p, n)
        return functional + module
    check(build, a, p, n, atol=1e-5, rtol=1e-5)


def test_errors_and_old_names():
    a = numpy.ones((2, 3), numpy.float32)
    check_error(lambda lib, a: lib.nn.functional.triplet_margin_with_distance_loss(a, a, a, margin=0), a)
    check_error(lambda lib, a: lib.nn.functional.triplet_margin_with_distance_loss(a, a, a, reduction="avg"), a)
    check_error(lambda lib, a: lib.nn.functional.triplet_margin_with_distance_loss(a, a, a[0], reduction="sum"), a)
    check_error(lambda lib, a: lib.nn.TripletMarginWithDistanceLoss(margin=-1.0), a)
    logits = numpy.random.default_rng(4).standard_normal((2, 3, 4, 4)).astype(numpy.float32)
    target = numpy.random.default_rng(5).integers(0, 3, (2, 4, 4))
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead"):
        check(lambda lib, x, t: lib.nn.NLLLoss2d()(lib.nn.functional.log_softmax(x, 1), t), logits, target)
    assert issubclass(ember.nn.NLLLoss2d, ember.nn.NLLLoss)


@pytest.mark.parametrize("name,shape", [("uniform", (3,)), ("normal", (3,)), ("xavier_uniform", (3, 4)),
                                        ("kaiming_normal", (3, 4)), ("orthogonal", (3, 4)), ("eye", (3, 4)),
                                        ("dirac", (2, 2, 3)), ("sparse", (4, 4))])
def test_deprecated_init_names_warn_as_torch_and_fill_alike(name, shape):
    filled = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        tensor = lib.empty(*shape)
        args = (0.5,) if name == "sparse" else ()
        with pytest.warns(FutureWarning, match=f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`."):
            getattr(lib.nn.init, name)(tensor, *args)
        filled.append(tensor.numpy())
    numpy.testing.assert_allclose(*filled, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_of_a_zero_element_tensor_warns_as_torch(name):
    for lib in (ember, torch):
        tensor = lib.empty(0, 4)
        with pytest.warns(UserWarning, match="^Initializing zero-element tensors is a no-op$"):
            assert getattr(lib.nn.init, name)(tensor) is tensor


@pytest.mark.parametrize("family", ["padding", "pooling", "activation"])
def test_module_classes_subclass_as_torch(family):
    # thop (which ultralytics uses to count FLOPs) keys its table on nn.modules.padding._ReflectionPadNd,
    # nn.modules.pooling._AdaptiveAvgPoolNd and the other private bases; isinstance must answer as in PyTorch
    # (a ReLU6 is a Hardtanh, a CELU is not an ELU)
    import importlib
    theirs, ours = (importlib.import_module(f"{lib}.nn.modules.{family}") for lib in ("torch", "ember"))
    classes = {name: cls for name, cls in vars(theirs).items()
               if isinstance(cls, type) and issubclass(cls, torch.nn.Module) and cls.__module__ == theirs.__name__}
    for name, cls in classes.items():
        assert hasattr(ours, name), name
        torch_bases = [base.__name__ for base in cls.__mro__ if base.__name__ in classes]
        ember_bases = [base.__name__ for base in getattr(ours, name).__mro__ if base.__name__ in classes]
        assert ember_bases == torch_bases, name
    build = {"padding": lambda lib: lib.nn.ZeroPad2d((1, 2, 0, 1)),
             "pooling": lambda lib: lib.nn.AvgPool3d(2, stride=1, padding=1),
             "activation": lambda lib: lib.nn.ReLU6()}[family]
    x = numpy.random.default_rng(3).standard_normal((1, 2, 3, 4, 5)).astype(numpy.float32)
    layers = [build(lib) for lib in (ember, torch)]
    assert repr(layers[0]) == repr(layers[1])
    assert [{k: v for k, v in vars(layer).items() if not k.startswith("_")} for layer in layers] == \
        [{k: v for k, v in vars(layers[1]).items() if not k.startswith("_")}] * 2
    numpy.testing.assert_allclose(layers[0](ember.tensor(x[0])).numpy(), layers[1](torch.tensor(x[0])).numpy(),
                                  rtol=1e-6, atol=1e-7)   # an average of unit-sized numbers: float32 round-off
