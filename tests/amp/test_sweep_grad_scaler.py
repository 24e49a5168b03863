"""GradScaler and PyTorch's two loss-scaling kernels against PyTorch 2.13 (``torch.amp.GradScaler("cpu")``): sparse
gradients, ``torch._amp_foreach_non_finite_check_and_unscale_`` and ``torch._amp_update_scale_`` with their errors,
``update(new_scale)`` and ``load_state_dict`` as PyTorch's, and no NumPy warnings for extreme scales."""
import warnings

import pytest

import ember

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks are implicitly disabled")


def _plain(lib, value):
    """A result as plain Python values: tensors as (dtype name, values), errors as (type name, message)."""
    if isinstance(value, lib.Tensor):
        value = value.detach()
        if value.is_sparse:
            value = value.to_dense()
        return str(value.dtype).split(".")[1], value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(lib, v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(lib, v) for k, v in value.items()}
    return value


def _outcome(lib, fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)   # NumPy's overflow/divide warnings are differences too
            return _plain(lib, fn(lib))
    except Exception as error:   # noqa: BLE001 (the type and message are what is compared)
        return type(error).__name__, str(error)


def _same(fn):
    mine, theirs = _outcome(ember, fn), _outcome(torch, fn)
    assert repr(mine) == repr(theirs)   # (NaN equals NaN in repr)


def _sparse_training(T, factor, dtype_name="float32"):
    T.manual_seed(0)
    embedding = T.nn.Embedding(5, 2, sparse=True)
    optimizer = T.optim.SGD(embedding.parameters(), lr=0.1)
    scaler = T.amp.GradScaler("cpu", init_scale=4.0, growth_interval=1)
    history = []
    for step in range(3):
        optimizer.zero_grad()
        loss = embedding(T.tensor([1, 4, 3])).sum() * (factor if step == 1 else 1.0)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        grad = embedding.weight.grad
        history.append([grad.is_sparse, grad, scaler.step(optimizer)])
        scaler.update()
        history.append([embedding.weight, scaler.get_scale()])
    return history


@pytest.mark.parametrize("factor", [1.0, float("inf"), float("nan")])
def test_sparse_gradients_are_unscaled_checked_and_skipped(factor):
    _same(lambda T: _sparse_training(T, factor))


def test_float16_sparse_gradients_are_coalesced_before_the_check():
    def check(T):   # two entries of 60000 at one index: finite each, inf once summed (PyTorch coalesces first)
        param = T.nn.Parameter(T.zeros(2, dtype=T.float16))
        param.grad = T.sparse_coo_tensor(T.tensor([[0, 0]]), T.tensor([6e4, 6e4], dtype=T.float16), (2,))
        scaler = T.amp.GradScaler("cpu")
        scaler.scale(T.ones(1))
        found = scaler._check_inf_per_device(T.optim.SGD([param], lr=0.1))
        return [list(found.values()), param.grad.is_coalesced()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # ember's float16 coalesce overflows in NumPy
        assert _plain(ember, check(ember)) == _plain(torch, check(torch))


GRADS = [  # (the gradients' dtypes and values, found_inf, inv_scale)
    ([("float32", [1.0, 2.0]), ("float16", [float("nan")])], [0.0], [0.5]),
    ([("float32", [3.0, -2.0]), ("float64", [1.0, 2.0])], 5.0, 1.0),       # no inf: found_inf is left as it is
    ([("bfloat16", [3.0, float("-inf")]), ("float32", [7e4])], 0.0, 2.0),
    ([("float32", [7e4, 1.0])], 0.0, 1e-38),                                  # products below float32's normals
    ([("float16", [6e4])], 0.0, 4.0),                                         # overflows float16: inf, not found
    ([("float32", [1.0, 0.0])], 0.0, float("inf")),                           # 0 * inf: NaN
    ([], 0.0, 2.0),
]


@pytest.mark.parametrize("grads, found_inf, inv_scale", GRADS)
def test_amp_foreach_non_finite_check_and_unscale(grads, found_inf, inv_scale):
    def run(T):
        tensors = [T.tensor(values, dtype=getattr(T, dtype)) for dtype, values in grads]
        found, inv = T.tensor(found_inf), T.tensor(inv_scale)
        result = T._amp_foreach_non_finite_check_and_unscale_(tensors, found, inv)
        return [result, tensors, found]
    _same(run)


def test_amp_foreach_unscale_writes_through_views_and_leaves():
    def run(T):
        base = T.arange(8.0)
        leaf = T.ones(2, requires_grad=True)
        T._amp_foreach_non_finite_check_and_unscale_([base[::2], leaf], T.zeros(1), T.tensor(0.5))
        return [base, leaf]
    _same(run)


@pytest.mark.parametrize("call", [
    lambda T: T._amp_foreach_non_finite_check_and_unscale_([T.ones(2)], T.tensor([0.0, 1.0]), T.tensor([0.5])),
    lambda T: T._amp_foreach_non_finite_check_and_unscale_([T.ones(2)], T.tensor([0.0]), T.tensor([0.5, 1.0])),
    lambda T: T._amp_foreach_non_finite_check_and_unscale_([T.ones(2)], T.tensor([0]), T.tensor([0.5])),
    lambda T: T._amp_foreach_non_finite_check_and_unscale_([T.ones(2)], T.zeros(1), T.ones(1, dtype=T.float64)),
    lambda T: T._amp_foreach_non_finite_check_and_unscale_([T.ones(2, dtype=T.int64)], T.zeros(1), T.ones(1)),
    lambda T: T._amp_foreach_non_finite_check_and_unscale_([T.ones(2, dtype=T.complex64)], T.zeros(1), T.ones(1)),
    lambda T: T._amp_foreach_non_finite_check_and_unscale_(T.ones(2), T.zeros(1), T.ones(1)),
], ids=["found_inf size", "inv_scale size", "found_inf dtype", "inv_scale dtype", "int grads", "complex grads",
        "not a list"])
def test_amp_foreach_unscale_errors(call):
    _same(call)


UPDATES = [  # (scale, growth tracker, found_inf, growth factor, backoff factor, growth interval)
    (4.0, 1, 0.0, 2.0, 0.5, 2),
    (4.0, 0, 0.0, 2.0, 0.5, 2),
    (4.0, 1, 1.0, 2.0, 0.5, 2),
    (4.0, 1, float("nan"), 2.0, 0.5, 2),   # any non-zero found_inf backs off
    (4.0, 1, -1.0, 2, 0.5, 2),
    (3e38, 0, 0.0, 2.0, 0.5, 1),            # growth past float32's range keeps the scale
    (1e-45, 3, 1.0, 2.0, 0.1, 1),           # backoff below float32's range gives 0
    (7.0, 2, 0.0, 3.0, 0.3, 3),
]


@pytest.mark.parametrize("update", UPDATES)
def test_amp_update_scale(update):
    scale, tracker, found_inf, growth, backoff, interval = update

    def run(T):
        current, counted = T.tensor([scale]), T.tensor([tracker], dtype=T.int32)
        result = T._amp_update_scale_(current, counted, T.tensor(found_inf), growth, backoff, interval)
        return [result, result is current, current, counted]
    _same(run)


@pytest.mark.parametrize("call", [
    lambda T: T._amp_update_scale_(T.tensor([4.0]), T.tensor([1]), T.tensor([0.0]), 2.0, 0.5, 2),
    lambda T: T._amp_update_scale_(T.tensor([4.0]), T.tensor([1, 2], dtype=T.int32), T.tensor([0.0]), 2.0, 0.5, 2),
    lambda T: T._amp_update_scale_(T.tensor([4.0], dtype=T.float64), T.tensor([1], dtype=T.int32), T.tensor([0.0]),
                                   2.0, 0.5, 2),
    lambda T: T._amp_update_scale_(T.tensor([4.0]), T.tensor([1], dtype=T.int32), T.tensor([0.0, 1.0]), 2.0, 0.5, 2),
    lambda T: T._amp_update_scale_(T.tensor([4.0]), T.tensor([1], dtype=T.int32), T.tensor([0], dtype=T.int32),
                                   2.0, 0.5, 2),
    lambda T: T._amp_update_scale_(T.tensor(4.0), T.tensor(1, dtype=T.int32), T.tensor(0.0), 2.0, 0.5, 2.0),
], ids=["int64 tracker", "tracker size", "float64 scale", "found_inf size", "int found_inf", "float interval"])
def test_amp_update_scale_errors(call):
    _same(call)


def _stepped(T, **scaler_args):
    T.manual_seed(0)
    model = T.nn.Linear(3, 2)
    optimizer = T.optim.SGD(model.parameters(), lr=0.1)
    scaler = T.amp.GradScaler("cpu", **scaler_args)
    scaler.scale(model(T.ones(4, 3)).sum()).backward()
    scaler.step(optimizer)
    return scaler


@pytest.mark.parametrize("new_scale", [
    lambda T: 5.0, lambda T: T.tensor(7.0), lambda T: T.tensor([7.0]), lambda T: T.tensor([1.0, 2.0]),
    lambda T: T.tensor(1.0, requires_grad=True), lambda T: 3, lambda T: "x",
], ids=["float", "0-d tensor", "1-d tensor", "two elements", "requires grad", "int", "str"])
def test_update_with_a_new_scale(new_scale):
    def run(T):
        scaler = _stepped(T)
        scaler.update(new_scale(T))
        return scaler.get_scale()
    _same(run)


def test_load_state_dict_keeps_the_values_it_is_given():
    def run(T):
        scaler = T.amp.GradScaler("cpu")
        scaler.load_state_dict({"scale": T.tensor(4.0), "growth_factor": 3, "backoff_factor": 0.1,
                                "growth_interval": 5, "_growth_tracker": 2})
        return [scaler.get_scale(), scaler.state_dict()]
    _same(run)


@pytest.mark.parametrize("scaler_args", [{"init_scale": 1e-44, "backoff_factor": 0.1}, {"init_scale": 0.0}])
def test_extreme_scales_unscale_without_numpy_warnings(scaler_args):
    def run(T):
        history = []
        for _ in range(3):
            scaler = _stepped(T, **scaler_args)
            scaler.update()
            history.append(scaler.get_scale())
        return history
    _same(run)
