"""``nn.functional.linear_cross_entropy``, ``nn.LinearCrossEntropyLoss`` and ``nn.LinearCrossEntropyOptions`` against
torch: values and gradients (input, linear_weight, linear_bias) on the reference and the chunked paths, errors and
warnings, the module's parameters, state_dict and repr, and that the chunked path never holds the (N, C) logits."""
import tracemalloc
import warnings

import numpy
import pytest
import torch

import ember
from ember.ops import _buffers
from tests.oracle import check, check_error

RNG = numpy.random.default_rng(0)
N, F_, C = 9, 5, 7


def _sample(dtype, n=N, classes=C, out=()):
    rng = numpy.random.default_rng(1)
    x = rng.standard_normal((n, F_)).astype(dtype)
    w = rng.standard_normal((classes, *out, F_)).astype(dtype)
    b = rng.standard_normal((classes, *out)).astype(dtype)
    t = rng.integers(0, classes, (n, *out))
    return x, w, b, t


def _options(lib, spec):
    return None if spec is None else lib.nn.LinearCrossEntropyOptions(**spec)


OPTIONS = [None, {}, {"batch_chunk_size": 1}, {"batch_chunk_size": 4}, {"chunking_method": "aspect_ratio"},
           {"batch_chunk_size": 100}, {"acc_policy": "accurate"}]


@pytest.mark.parametrize("spec", OPTIONS, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_values_and_gradients(spec, reduction, dtype):
    x, w, b, t = _sample(dtype)

    def run(lib, x, w, b, t):
        return lib.nn.functional.linear_cross_entropy(x, w, t, linear_bias=b, reduction=reduction,
                                                      options=_options(lib, spec))
    check(run, x, w, b, t)
    check(lambda lib, x, w, t: lib.nn.functional.linear_cross_entropy(x, w, t, reduction=reduction,
                                                                       options=_options(lib, spec)), x, w, t)


@pytest.mark.parametrize("spec", [None, {}, {"batch_chunk_size": 2}], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [None, -100, 3, 50, -1])
def test_class_weights_and_ignore_index(spec, reduction, ignore_index):
    x, w, b, t = _sample(numpy.float64)
    t = t.copy()
    t[[1, 4]] = -100 if ignore_index is None else ignore_index
    cw = numpy.random.default_rng(2).uniform(0.5, 2, C)

    def run(lib, x, w, b, t):   # the class weights are a constant: neither path differentiates them
        return lib.nn.functional.linear_cross_entropy(x, w, t, linear_bias=b, weight=lib.tensor(cw),
                                                      reduction=reduction, ignore_index=ignore_index,
                                                      options=_options(lib, spec))
    check(run, x, w, b, t)
    check(lambda lib, x, w, b, t: lib.nn.functional.linear_cross_entropy(
        x, w, t, linear_bias=b, reduction=reduction, ignore_index=ignore_index, options=_options(lib, spec)),
        x, w, b, t)


@pytest.mark.parametrize("spec", [None, {}], ids=str)
def test_every_target_ignored_and_empty_batches(spec):
    x, w, b, t = _sample(numpy.float32)
    ignored = numpy.full(N, -100)
    for reduction in ("mean", "sum", "none"):
        check(lambda lib, x, w, t: lib.nn.functional.linear_cross_entropy(x, w, t, reduction=reduction,
                                                                           options=_options(lib, spec)),
              x, w, ignored)
        check(lambda lib, x, w, t: lib.nn.functional.linear_cross_entropy(x, w, t, reduction=reduction,
                                                                           options=_options(lib, spec)),
              x[:0], w, t[:0])


@pytest.mark.parametrize("spec", [None, {}, {"batch_chunk_size": 1}], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_unbatched(spec, reduction):
    x, w, b, t = _sample(numpy.float32)
    check(lambda lib, x, w, b, t: lib.nn.functional.linear_cross_entropy(x, w, t, linear_bias=b, reduction=reduction,
                                                                          options=_options(lib, spec)),
          x[0], w, b, numpy.asarray(t[0]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_k_dimensional_and_probabilities(reduction, smoothing):
    x, w, b, t = _sample(numpy.float64, out=(2, 3))
    probabilities = numpy.random.default_rng(3).dirichlet(numpy.ones(C), (N, 2, 3)).transpose(0, 3, 1, 2).copy()
    cw = numpy.random.default_rng(4).uniform(0.5, 2, C)
    for target in (t, probabilities):
        check(lambda lib, x, w, b, t: lib.nn.functional.linear_cross_entropy(
            x, w, t, linear_bias=b, weight=lib.tensor(cw), reduction=reduction, label_smoothing=smoothing),
            x, w, b, target)
    x, w, b, t = _sample(numpy.float64)
    probabilities = numpy.random.default_rng(5).dirichlet(numpy.ones(C), N)
    check(lambda lib, x, w, t: lib.nn.functional.linear_cross_entropy(x, w, t, reduction=reduction,
                                                                       label_smoothing=smoothing),
          x, w, probabilities)
    check(lambda lib, x, w, t: lib.nn.functional.linear_cross_entropy(x, w, t, reduction=reduction,
                                                                       label_smoothing=smoothing),
          x[0], w, probabilities[0])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_half_precision_accumulates_in_float32(dtype, reduction):
    x, w, b, t = _sample(numpy.float32)
    outs = []
    for lib in (ember, torch):
        xs, ws, bs = (lib.tensor(a).to(getattr(lib, dtype)).requires_grad_() for a in (x, w, b))
        loss = lib.nn.functional.linear_cross_entropy(xs, ws, lib.tensor(t), linear_bias=bs, reduction=reduction,
                                                      options=lib.nn.LinearCrossEntropyOptions(batch_chunk_size=4))
        assert str(loss.dtype).split(".")[-1] == dtype
        loss.sum().backward()
        outs.append([v.detach().float().numpy() for v in (loss, xs.grad, ws.grad, bs.grad)])
    for got, want in zip(*outs):
        numpy.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-2)


def test_options_fall_back_with_torchs_warning():
    x, w, b, t = _sample(numpy.float32, out=(2,))
    cases = [lambda lib, x, w, b, t: dict(target=t, linear_bias=b),
             lambda lib, x, w, b, t: dict(target=t[:, 0], weight_shape=True),
             lambda lib, x, w, b, t: dict(target=t[:, 0].int(), weight_shape=True)]
    for case in cases:
        messages, values = [], []
        for lib in (ember, torch):
            args = case(lib, *(lib.tensor(a) for a in (x, w, b, t)))
            weight = lib.tensor(w[:, 0]) if args.pop("weight_shape", False) else lib.tensor(w)
            kwargs = {"label_smoothing": 0.1} if args["target"].dtype == lib.int64 and weight.ndim == 2 else {}
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    values.append(lib.nn.functional.linear_cross_entropy(
                        lib.tensor(x), weight, args.pop("target"), options=lib.nn.LinearCrossEntropyOptions(),
                        **args, **kwargs).detach().numpy())
                except RuntimeError as error:
                    values.append(type(error))
            messages.append([(w_.category, str(w_.message).replace("ember.", "torch."), w_.filename)
                             for w_ in caught])
        assert messages[0] == messages[1] and len(messages[0]) == 1
        if isinstance(values[1], type):
            assert values[0] is values[1]
        else:
            numpy.testing.assert_allclose(values[0], values[1], rtol=1e-5)


def test_errors():
    x, w, b, t = _sample(numpy.float32)

    def call(spec=None, **kwargs):
        def run(lib, x, w, t, b=None):
            return lib.nn.functional.linear_cross_entropy(x, w, t, linear_bias=b, options=_options(lib, spec),
                                                          **kwargs)
        return run
    check_error(call(), x[None], w, t, match="expected input with dimensionality 1 or 2, got 3")
    check_error(call(), x, w[0], t, match="expected linear_weight with dimensionality at least 2, got 1")
    check_error(call(), x[:, :3], w, t, match=r"expected equal input .* got 3 and 5, respectively")
    check_error(call(), x, w, t, b[:3], match=r"expected linear_bias shape \(7,\), got \(3,\)")
    check_error(call(), x[0], w[:, None], t, match="requires batched input")
    probabilities = numpy.full((N, C), 1 / C, numpy.float32)
    check_error(call(ignore_index=1), x, w, probabilities, match="ignore_index cannot be specified")
    bad = t.copy()
    bad[3] = C
    for spec in (None, {}):
        check_error(call(spec=spec), x, w, bad)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the options' fallback warning, checked above
            check_error(call(spec=spec, reduction="avg"), x, w, t, match="avg is not a valid value for reduction")
    check_error(call(spec={}), x, w, bad, match="index 7 is out of bounds for dimension 1 with size 7")
    bad[3] = -1
    check_error(call(spec={}), x, w, bad, match="index -1 is out of bounds for dimension 1 with size 7")
    check_error(call(spec={}), x, w.astype(numpy.float64), t, match="expected m1 and m2 to have the same dtype")
    check_error(lambda lib, x, w, t: lib.nn.functional.linear_cross_entropy(
        x, w, t, weight=lib.ones(3), options=lib.nn.LinearCrossEntropyOptions()), x, w, t,
        match="index out of range in self")
    check_error(lambda lib, x, w, t: lib.nn.functional.linear_cross_entropy(
        x, w, t, options=lib.nn.LinearCrossEntropyOptions(acc_dtype=lib.float64)), x, w, t,
        match="supports float32 acc_dtype with float16/bfloat16 inputs, but got")
    check_error(lambda lib, x, w, t: lib.nn.functional.linear_cross_entropy(
        x, w, t, options=lib.nn.LinearCrossEntropyOptions(batch_chunk_size=3, chunking_method="aspect_ratio")),
        x, w, t, match=r"batch_chunk_size \(=3\) and chunking_method \('aspect_ratio'\) give different chunk sizes")


@pytest.mark.parametrize("kwargs,message", [({"acc_policy": "fast"}, "invalid acc_policy: 'fast'"),
                                            ({"chunking_method": "rows"}, "invalid chunking_method: 'rows'"),
                                            ({"chunking_method": "aspect_ratio:0"}, "invalid chunking_method"),
                                            ({"chunking_method": "aspect_ratio:x"}, "invalid chunking_method"),
                                            ({"batch_chunk_size": 0}, "batch_chunk_size must be positive int"),
                                            ({"batch_chunk_size": 2.0}, "got 2.0"),
                                            ({"acc_dtype": "int32"}, r"acc_dtype must be one of \{None, ")])
def test_options_validation(kwargs, message):
    def build(lib):
        return lib.nn.LinearCrossEntropyOptions(**{k: getattr(lib, v) if k == "acc_dtype" else v
                                                   for k, v in kwargs.items()})
    check_error(build, match=message)


def test_options_fields_and_resolution():
    for lib in (ember, torch):
        options = lib.nn.LinearCrossEntropyOptions()
        assert (options.allow_retain_graph, options.batch_chunk_size, options.chunking_method, options.acc_policy,
                options.acc_dtype) == (False, None, "auto", "auto", None)
        with pytest.raises(Exception, match="cannot assign to field"):
            options.batch_chunk_size = 2
        same = lib.nn.LinearCrossEntropyOptions()
        assert options == same and hash(options) == hash(same)
    specs = [{}, {"batch_chunk_size": 3}, {"chunking_method": "aspect_ratio:4"}, {"chunking_method": None},
             {"acc_policy": "balanced", "chunking_method": "aspect_ratio"}, {"acc_dtype": "float32"}]
    shapes = [(7, 4, 10), (1000, 64, 50000), (5, 100, 10), (0, 3, 4), (33, 8, 8)]
    for spec in specs:
        for shape in shapes:
            for dtype in ("float32", "float16", "bfloat16", "float64"):
                got = []
                for lib in (ember, torch):
                    kw = {k: getattr(lib, v) if k == "acc_dtype" else v for k, v in spec.items()}
                    adjusted = lib.nn.LinearCrossEntropyOptions(**kw)._adjust(*shape, getattr(lib, dtype),
                                                                             lib.device("cpu"))
                    got.append(repr(adjusted).replace("ember.", "torch."))
                assert got[0] == got[1]
    assert repr(ember.nn.LinearCrossEntropyOptions()) == repr(torch.nn.LinearCrossEntropyOptions())


def test_backward_twice():
    x, w, b, t = _sample(numpy.float32)
    for lib in (ember, torch):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        options = lib.nn.LinearCrossEntropyOptions()
        for retain in (False, True):
            loss = lib.nn.functional.linear_cross_entropy(xs, ws, lib.tensor(t), options=options)
            loss.backward(retain_graph=retain)
            with pytest.raises(RuntimeError, match="linear_cross_entropy chunked backward called twice; "
                                                   r"retain_graph=True / double backward are not supported\."):
                loss.backward()
        xs.grad = None
        loss = lib.nn.functional.linear_cross_entropy(
            xs, ws, lib.tensor(t), options=lib.nn.LinearCrossEntropyOptions(allow_retain_graph=True))
        loss.backward()
        loss.backward()
        first = xs.grad.clone()
        loss = lib.nn.functional.linear_cross_entropy(xs, ws, lib.tensor(t), reduction="none", options=options)
        loss.sum().backward(retain_graph=True)
        loss.sum().backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            loss.sum().backward()
        if lib is ember:
            mine = (first.numpy(), xs.grad.numpy())
        else:
            numpy.testing.assert_allclose(mine[0], first.numpy(), rtol=1e-5, atol=1e-6)
            numpy.testing.assert_allclose(mine[1], xs.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_node_names_and_no_grad():
    x, w, b, t = _sample(numpy.float32)
    for reduction in ("mean", "none"):
        names = []
        for lib in (ember, torch):
            loss = lib.nn.functional.linear_cross_entropy(lib.tensor(x, requires_grad=True), lib.tensor(w),
                                                          lib.tensor(t), reduction=reduction,
                                                          options=lib.nn.LinearCrossEntropyOptions())
            names.append(loss.grad_fn.name())
            with lib.no_grad():
                value = lib.nn.functional.linear_cross_entropy(lib.tensor(x, requires_grad=True), lib.tensor(w),
                                                               lib.tensor(t), reduction=reduction,
                                                               options=lib.nn.LinearCrossEntropyOptions())
            assert not value.requires_grad
            numpy.testing.assert_allclose(value.numpy(), loss.detach().numpy(), rtol=1e-6)
        assert names[0] == names[1]


def _peak_bytes(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_chunked_path_never_holds_the_full_logits(reduction, monkeypatch):
    # an empty array pool: arrays an earlier test left there would be reused unseen by tracemalloc
    monkeypatch.setattr(_buffers, "_pool", type(_buffers._pool)())
    n, f, c = 2048, 16, 2048   # the logits are 16 MiB; input 128 KiB, weight 128 KiB
    rng = numpy.random.default_rng(6)
    x = ember.tensor(rng.standard_normal((n, f)).astype(numpy.float32), requires_grad=True)
    w = ember.tensor(rng.standard_normal((c, f)).astype(numpy.float32) * 0.1, requires_grad=True)
    t = ember.tensor(rng.integers(0, c, n))
    full = n * c * 4

    def run(options):
        def step():
            loss = ember.nn.functional.linear_cross_entropy(x, w, t, reduction=reduction, options=options)
            loss.sum().backward()
        return step
    chunked = _peak_bytes(run(ember.nn.LinearCrossEntropyOptions(batch_chunk_size=64)))
    reference = _peak_bytes(run(None))
    assert chunked < full / 8 < full <= reference


def test_module_matches_torch():
    for kwargs in [{}, {"bias": True}, {"out_features": (2, 3), "bias": True}, {"reduction": "sum",
                                                                                "ignore_index": 2},
                   {"label_smoothing": 0.3, "reduction": "none"}]:
        modules = []
        for lib in (ember, torch):
            lib.manual_seed(5)
            modules.append(lib.nn.LinearCrossEntropyLoss(4, 6, **kwargs))
        mine, theirs = modules
        assert repr(mine) == repr(theirs)
        assert mine.extra_repr() == theirs.extra_repr()
        assert list(mine.state_dict()) == list(theirs.state_dict())
        for (name, p), (name_t, q) in zip(mine.named_parameters(), theirs.named_parameters(), strict=True):
            assert name == name_t and tuple(p.shape) == tuple(q.shape)
            numpy.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        out = kwargs.get("out_features", ())
        target = numpy.random.default_rng(7).integers(0, 6, (5, *out))
        x = numpy.random.default_rng(8).standard_normal((5, 4)).astype(numpy.float32)
        check(lambda lib, x, t: (mine if lib is ember else theirs)(x, t), x, target)
    weighted = [lib.nn.LinearCrossEntropyLoss(3, 4, weight=lib.ones(4), dtype=lib.float64) for lib in (ember, torch)]
    assert list(weighted[0].state_dict()) == list(weighted[1].state_dict()) == ["weight", "linear.weight"]
    assert weighted[0].linear.weight.dtype == ember.float64


def test_module_chunked_and_errors():
    import inspect
    x = numpy.random.default_rng(9).standard_normal((6, 4)).astype(numpy.float32)
    t = numpy.random.default_rng(10).integers(0, 5, 6)
    modules = {}
    for lib in (ember, torch):
        lib.manual_seed(0)
        modules[lib] = lib.nn.LinearCrossEntropyLoss(4, 5, bias=True,
                                                     options=lib.nn.LinearCrossEntropyOptions(batch_chunk_size=2))
    check(lambda lib, x, t: modules[lib](x, t), x, t)
    assert "options=LinearCrossEntropyOptions(allow_retain_graph=False, batch_chunk_size=2" in repr(modules[ember])
    check_error(lambda lib: lib.nn.LinearCrossEntropyLoss(4, 5, weight=lib.ones(3)),
                match=r"expected weight shape to be \(5,\), got \(3,\)")
    check_error(lambda lib: lib.nn.LinearCrossEntropyLoss(4, 5, label_smoothing=1.5),
                match=r"expected label_smoothing to be in range \[0, 1\], got 1.5")
    check_error(lambda lib: lib.nn.LinearCrossEntropyLoss(4, 5, 3), match="positional argument")
    signatures = [[(p.name, p.kind, p.default) for p in inspect.signature(lib.nn.LinearCrossEntropyLoss).parameters
                   .values()] for lib in (ember, torch)]
    assert signatures[0] == signatures[1]
    signatures = [[(p.name, p.kind, p.default) for p in inspect.signature(lib.nn.functional.linear_cross_entropy)
                   .parameters.values()] for lib in (ember, torch)]
    assert signatures[0] == signatures[1]
