"""Indexing keys as a differential sweep against PyTorch 2.13 found them: lists and NumPy arrays of any number type
as indices (floats truncated, uint8 a deprecated mask, 0-d arrays read as numbers), the index tensor dtypes PyTorch
takes, and its errors for bad keys; each case run on both, values, dtypes, errors and warnings compared."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.oracle import listing, same_listing


def _warned(lib, fn):
    """``listing(lib, fn)`` with the warnings ``fn`` raised (PyTorch's 'Triggered internally' suffix cut off; the
    Tensor types messages name, such as ember.FloatTensor, read as torch's)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(lib)
        except Exception as error:   # noqa: BLE001 (the type and message are what is compared)
            result = type(error).__name__, str(error).replace("ember.", "torch.")
        else:
            result = listing(lib, lambda _: result)
    return result, [str(w.message).split(" (Triggered internally")[0] for w in caught]


def same_with_warnings(fn):
    """Asserts ``fn(ember)`` and ``fn(torch)`` give the same values or error, and the same warnings."""
    assert _warned(ember, fn) == _warned(torch, fn)


def _x(L):
    return L.arange(12.).reshape(3, 4)


ARRAY_KEYS = {
    "float_list": lambda L: [0., 1.], "truncated_floats": lambda L: [1.7, -1.5], "mixed_list": lambda L: [0, 1.5],
    "float_array": lambda L: np.array([0., 1.]), "float_array_1": lambda L: np.array([1.7]),
"int16_array": lambda L: np.array([1, 0, 1], dtype=np.int16),
    "int8_array": lambda L: np.array([1, 2], dtype=np.int8), "uint16_array": lambda L: np.array([2, 0], np.uint16),
    "uint8_array": lambda L: np.array([1, 0, 1], dtype=np.uint8), "uint8_list": lambda L: [np.uint8(1), np.uint8(0),
                                                                                            np.uint8(1)],
    "uint8_array_bad": lambda L: np.array([1, 0], dtype=np.uint8), "0d_int": lambda L: np.array(1),
    "0d_float": lambda L: np.array(2.7), "0d_negative": lambda L: np.array(-1), "0d_bool": lambda L: np.array(True),
    "0d_uint8": lambda L: np.array(1, dtype=np.uint8), "0d_out_of_range": lambda L: np.array(5),
    "second_dim_floats": lambda L: (slice(None), [0., 1.]), "second_dim_int16": lambda L: (slice(None), np.array(
        [3, 0], dtype=np.int16)), "complex_list": lambda L: [1 + 0j], "str_array": lambda L: np.array(["a"]),
    "str": lambda L: "ab", "bytes": lambda L: b"a", "nan_array": lambda L: np.array([np.nan]),
}


@pytest.mark.parametrize("key", ARRAY_KEYS)
def test_sequence_and_array_keys(key):
    same_with_warnings(lambda L: _x(L)[ARRAY_KEYS[key](L)])


def test_a_complex_array_key_is_read_by_its_real_part():   # (PyTorch warns once a process: warnings not compared)
    same_listing(lambda L: _x(L)[np.array([1 + 1j, 2.5 - 1j])])


@pytest.mark.parametrize("key", ["float_list", "uint8_array", "0d_int", "0d_float", "int16_array", "0d_bool"])
def test_sequence_and_array_keys_in_setitem(key):
    def write(L):
        x = _x(L)
        x[ARRAY_KEYS[key](L)] = -1.
        return x
    same_with_warnings(write)


def test_a_0d_array_key_gives_a_view():
    def through_view(L):
        x = _x(L)
        x[np.array(1)][0] = 100.
        return x
    same_with_warnings(through_view)


INDEX_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool", "float32",
                "float16", "complex64"]


@pytest.mark.parametrize("dtype", INDEX_DTYPES)
@pytest.mark.parametrize("use", ["getitem", "setitem", "index_put", "second_dim"])
def test_index_tensor_dtypes(dtype, use):
    def index(L):
        x, i = _x(L), L.tensor([1, 0, 1], dtype=getattr(L, dtype))
        if use == "getitem":
            return x[i]
        if use == "second_dim":
            return x[:, i]
        if use == "setitem":
            x[i] = 5.
            return x
        return x.index_put((i,), L.tensor(5.))
    same_with_warnings(index)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64"])
@pytest.mark.parametrize("op", ["take", "put_"])
def test_take_and_put_want_long_indices(dtype, op):
    def flat(L):
        x, i = L.arange(5.), L.tensor([1, 3], dtype=getattr(L, dtype))
        return L.take(x, i) if op == "take" else x.put_(i, L.tensor([7., 8.]))
    same_with_warnings(flat)


BAD_KEYS = {
    "step_0": lambda L: slice(None, None, 0), "step_negative": lambda L: slice(None, None, -1),
    "numpy_float": lambda L: np.float64(1), "numpy_bool": lambda L: np.bool_(True), "int64_max_plus_1": lambda L: 2 ** 63,
    "int64_min": lambda L: -2 ** 63, "below_int64": lambda L: -2 ** 63 - 1, "huge": lambda L: 2 ** 64,
    "huge_second": lambda L: (slice(None), 2 ** 63), "numpy_uint64": lambda L: np.uint64(2 ** 63),
    "object": lambda L: object(), "float": lambda L: 1.5,
}


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys(key):
    same_with_warnings(lambda L: _x(L)[BAD_KEYS[key](L)])


def _written(L, key, value, dtype="float32"):
    x = L.arange(60).reshape(3, 4, 5).to(getattr(L, dtype))
    version = x._version
    x[key(L)] = value(L)
    return x, L.tensor(x._version - version)


SETITEM_CASES = {
    "huge_int": (lambda L: 0, lambda L: 2 ** 70), "huge_numpy_int": (lambda L: 0, lambda L: np.uint64(2 ** 63)),
    "below_int64": (lambda L: slice(None), lambda L: -2 ** 63 - 1),
    "list_value_bad_key": (lambda L: 3, lambda L: [1., 2.]), "none_value_bad_key": (lambda L: [0, 3], lambda L: None),
    "complex_value_bad_key": (lambda L: 3, lambda L: 1 + 2j), "false_key": (lambda L: False, lambda L: L.ones(7)),
    "false_key_scalar": (lambda L: False, lambda L: 1.), "0d_false_key": (lambda L: L.tensor(False), lambda L: 1.),
    "0d_mask_other_dtype": (lambda L: L.tensor(True), lambda L: L.tensor(5., dtype=L.float64)),
    "0d_array_key_other_dtype": (lambda L: np.array(1), lambda L: L.tensor(5.)),
    "uint8_mask_one_value": (lambda L: L.tensor([1, 0, 1], dtype=L.uint8), lambda L: 5.),
    "uint8_mask_row": (lambda L: L.tensor([1, 0, 1], dtype=L.uint8), lambda L: L.arange(5.)),
    "mask_complex_value": (lambda L: L.tensor([True, False, True]), lambda L: L.tensor(1 + 1j)),
    "mask_real_complex_value": (lambda L: L.tensor([True, False, True]), lambda L: L.tensor(2 + 0j)),
    "int8_index_other_dtype": (lambda L: L.tensor([0, 1], dtype=L.int8), lambda L: L.tensor(1.)),
    "bad_shape_other_dtype": (lambda L: ([0, 1], slice(None), [1, 2]), lambda L: L.arange(5.)),
    "leading_ones_stripped": (lambda L: (None, [0, 1]), lambda L: L.ones(1, 1, 3, 4, 5)),
    "leading_ones_bad": (lambda L: L.tensor(True), lambda L: L.ones(1, 2, 4, 5)),
}


@pytest.mark.parametrize("case", SETITEM_CASES)
def test_setitem_checks_in_pytorchs_order(case):
    key, value = SETITEM_CASES[case]
    same_with_warnings(lambda L: _written(L, key, value, "int64" if "other_dtype" in case else "float32"))


LEAF_KEYS = {"list": lambda L: [0, 1], "int_then_list": lambda L: (1, slice(None), [0, 2]), "true": lambda L: True,
             "none_then_list": lambda L: (None, [0, 1]), "0d_mask": lambda L: L.tensor(True),
             "int8_index": lambda L: L.tensor([0], dtype=L.int8), "uint8_mask": lambda L: L.tensor([1, 0, 1], dtype=L.uint8),
             "full_slice_then_list": lambda L: (slice(None), [0, 1]), "out_of_range": lambda L: [0, 3]}


@pytest.mark.parametrize("key", LEAF_KEYS)
def test_setitem_on_a_leaf_refuses_before_reading_the_key(key):
    def write(L):
        x = L.zeros(3, 4, 5, requires_grad=True)
        x[LEAF_KEYS[key](L)] = 1.
    same_with_warnings(write)


INDEX_PUT_CALLS = {
    "none_index": lambda L, x: x.index_put((None, L.tensor([0])), L.tensor(1.)),
    "none_index_function": lambda L, x: L.index_put(x, (None, L.tensor([0])), L.tensor(1.)),
    "int_index": lambda L, x: x.index_put_((1,), L.tensor(1.)), "list_index": lambda L, x: L.index_put_(x, [[1]], L.tensor(1.)),
    "tensor_indices": lambda L, x: x.index_put(L.tensor([0]), L.tensor(1.)),
    "float_values": lambda L, x: L.index_put(x, (L.tensor([0]),), 1.),
    "float_values_method": lambda L, x: x.index_put_((L.tensor([0]),), 1.),
    "too_many": lambda L, x: x.index_put((L.tensor([0]), L.tensor([0]), L.tensor([0])), L.tensor(1.)),
    "uint8_mask_one_value": lambda L, x: x.index_put((L.tensor([1, 0, 1], dtype=L.uint8),), L.tensor(5.)),
    "keywords": lambda L, x: x.index_put(values=L.tensor(1.), indices=(L.tensor([1]),)),
    "transposed_self": lambda L, x: x.t().index_put((L.tensor([1, 2]),), L.tensor(7.)).stride(),
    "transposed_self_accumulate": lambda L, x: x.t().index_put((L.tensor([1, 1]),), L.tensor(7.), True).stride(),
}


@pytest.mark.parametrize("call", INDEX_PUT_CALLS)
def test_index_put_arguments(call):
    same_with_warnings(lambda L: INDEX_PUT_CALLS[call](L, L.arange(12.).reshape(3, 4)))


NONE_KEYS = {"front": lambda L: None, "second": lambda L: (slice(None), None), "last": lambda L: (..., None),
             "before_an_int": lambda L: (None, None, 1), "between": lambda L: (0, None, slice(None), None),
             "stepped": lambda L: (1, None, slice(None, None, 2), None, 2), "after_ellipsis": lambda L: (..., None, 1),
             "both_ends": lambda L: (None, ..., None), "with_a_list": lambda L: (None, [0, 1])}


@pytest.mark.parametrize("key", NONE_KEYS)
@pytest.mark.parametrize("transposed", [False, True])
def test_none_dims_are_strided_as_pytorchs_unsqueeze(key, transposed):
    def strides(L):
        x = L.arange(60.).reshape(3, 4, 5)
        x = x.mT if transposed else x
        view = x[NONE_KEYS[key](L)]
        view[(0,) * view.ndim] = -1.   # still a view to write through
        return repr((tuple(view.stride()), x.sum().item()))
    same_with_warnings(strides)


ZERO_DIM_KEYS = {"int_0": lambda L: 0, "int_1": lambda L: 1, "int_negative": lambda L: -1, "numpy_int": lambda L: np.int64(2),
                 "slice": lambda L: slice(1, None), "slice_step_0": lambda L: slice(None, None, 0),
                 "tuple_int": lambda L: (0,), "two_ints": lambda L: (0, 1), "0d_tensor": lambda L: L.tensor(0),
                 "float": lambda L: 1.5, "object": lambda L: object(), "str": lambda L: "a",
                 "int8_tensor": lambda L: L.tensor([0], dtype=L.int8), "list": lambda L: [0],
                 "none_then_int": lambda L: (None, 0), "ellipsis": lambda L: ..., "true": lambda L: True}


@pytest.mark.parametrize("key", ZERO_DIM_KEYS)
def test_keys_of_a_0d_tensor(key):
    same_with_warnings(lambda L: L.tensor(3.5)[ZERO_DIM_KEYS[key](L)])


ORDER_KEYS = {
    "two_ellipses": lambda L: (..., ...), "ellipsis_int_ellipsis": lambda L: (..., 0, ...),
    "int_two_ellipses": lambda L: (0, ..., ...), "ellipses_around_none": lambda L: (..., None, ...),
    "ellipses_and_list": lambda L: ([0, 1], ..., [0, 1], ...),
    "broadcast_before_range": lambda L: (L.tensor([0, 1]), L.tensor([1, 2, 7])),
    "mask_before_range": lambda L: ([7, 0], L.tensor([True, False])),
    "step_before_count": lambda L: (0, 0, 0, 0, slice(None, None, 0)),
    "too_many_before_types": lambda L: (0, 0, 0, 1.5), "too_many_masks": lambda L: (L.ones(3, 4, dtype=L.bool), 0, 0),
}


@pytest.mark.parametrize("key", ORDER_KEYS)
def test_keys_checked_in_pytorchs_order(key):
    same_with_warnings(lambda L: L.arange(60.).reshape(3, 4, 5)[ORDER_KEYS[key](L)])


@pytest.mark.parametrize("key", [[0], (0, [0]), ([0, 1], [[0], [1]]), (slice(None), [])])
def test_index_arrays_into_an_empty_dim(key):
    same_with_warnings(lambda L: L.zeros(2, 0, 3).transpose(0, 1)[key])


VIEWS = {"int": lambda x: x[1], "slices": lambda x: x[1:, ::2], "ellipsis": lambda x: x[...], "none": lambda x: x[None],
         "list": lambda x: x[[0, 1]], "mask": lambda x: x[x > 3], "view": lambda x: x.view(-1), "t": lambda x: x.t(),
         "reshape_copy": lambda x: x.t().reshape(-1), "detach": lambda x: x.detach(), "clone": lambda x: x.clone(),
         "contiguous": lambda x: x.contiguous(), "select": lambda x: x.select(1, 0), "narrow": lambda x: x.narrow(0, 1, 1)}


@pytest.mark.parametrize("op", VIEWS)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_is_view(op, requires_grad):
    same_with_warnings(lambda L: repr(VIEWS[op](L.ones(3, 4, requires_grad=requires_grad))._is_view()))


SHARED_WRITES = {
    "basic_shifted": lambda x: x.__setitem__(slice(1, None), x[:-1]), "basic_whole": lambda x: x.__setitem__(
        slice(None), x), "basic_broadcast_element": lambda x: x.__setitem__(slice(None), x[0]),
    "basic_other_element": lambda x: x.__setitem__(slice(1, None), x[0]),
    "advanced_shifted": lambda x: x.__setitem__([1, 2, 3, 4, 5], x[:-1]),
    "advanced_whole": lambda x: x.__setitem__(list(range(6)), x), "advanced_element": lambda x: x.__setitem__(
        [0, 1], x[3]), "advanced_disjoint": lambda x: x.__setitem__([0, 1], x[3:5]),
    "rows": lambda x: x.view(2, 3).__setitem__(0, x.view(2, 3)[1]),
    "square_transposed": lambda x: x[:4].view(2, 2).__setitem__(slice(None), x[:4].view(2, 2).t()),
}


# (writes between arrays with gaps, such as x[::2] = x[:3], are left out: PyTorch cannot tell their overlap and
# its result depends on the order it writes in)
@pytest.mark.parametrize("write", SHARED_WRITES)
@pytest.mark.parametrize("graph", [False, True])
def test_writes_from_self_as_pytorch(write, graph):
    def run(L):
        x = L.arange(6., requires_grad=graph) * 1 if graph else L.arange(6.)
        SHARED_WRITES[write](x)
        return x
    same_with_warnings(run)


def test_setitem_reads_the_value_before_a_sequence_key_warns():
    same_with_warnings(lambda L: L.zeros(3, 4).__setitem__([[0, 1], [2, 0]], [1.]))


def test_a_none_key_of_an_empty_tensor():
    same_with_warnings(lambda L: repr(L.zeros(2, 3)[:0][None].stride()))


WRITE_NODES = {"ellipsis_number": ((...,), "2.5"), "ellipsis_0d": ((...,), "L.tensor(1.)"),
               "whole_slice_number": ((slice(None),), "2.5"), "whole_slice_tensor": ((slice(None),), "L.ones(2)"),
               "int_then_list": ((1, slice(None), [0]), "2.5"), "0d_mask": (("L.tensor(True)",), "2.5"),
               "none_then_list": ((None, [0]), "2.5"), "list": (([0],), "2.5"), "slice_then_list": ((slice(None), [0]),
                                                                                                     "2.5"),
               "int": ((0,), "L.tensor(2.)"), "slice": ((slice(1, None),), "L.tensor(2.)"), "true": ((True,), "2.5"),
               "mask": (("L.tensor([True, False, True])",), "2.5")}


@pytest.mark.parametrize("case", WRITE_NODES)
def test_setitem_node_names(case):
    key, value = WRITE_NODES[case]

    def write(L):
        x = L.zeros(3, 4, 2, requires_grad=True) * 1
        items = tuple(eval(item, {"L": L}) if isinstance(item, str) else item for item in key)
        x[items if len(items) > 1 else items[0]] = eval(value, {"L": L})
        return x.grad_fn.name()
    same_with_warnings(write)


@pytest.mark.parametrize("key", [True, (True, 0), (0, True), (None, True), (True, [0])])
def test_values_that_do_not_fit_a_key_with_true(key):
    same_with_warnings(lambda L: L.zeros(3, 4, 5).__setitem__(key, L.ones(7)))


@pytest.mark.parametrize("key", [0, slice(None), [0], (..., 0)])
def test_setitem_of_a_meta_value(key):
    same_with_warnings(lambda L: L.zeros(3).__setitem__(key, L.ones((), device="meta")))


RANGE_LAST = {"bad_shape": ([0, 3], "L.ones(4)"), "good_shape": ([0, 3], "L.ones(5)"),
              "other_dtype": ([0, 3], "L.ones(5, dtype=L.float64)"), "separated": (([0, 9], slice(None), [1, 2]), "L.ones(3)"),
              "adjacent_bad_shape": ((slice(None), [0, 9], [1, 2]), "L.ones(3, 5)"), "mask_then_range": (
                  ("L.tensor([True, False, True])", [0, 7]), "L.ones(3)")}


@pytest.mark.parametrize("case", RANGE_LAST)
def test_setitem_checks_index_values_last(case):
    key, value = RANGE_LAST[case]

    def write(L):
        items = tuple(eval(item, {"L": L}) if isinstance(item, str) else item for item in key) \
            if isinstance(key, tuple) else key
        L.zeros(3, 4, 5).__setitem__(items, eval(value, {"L": L}))
    same_with_warnings(write)
