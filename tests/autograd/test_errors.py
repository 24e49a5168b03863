"""Autograd errors against PyTorch: version counters, in-place on leaves, freed graphs, misuse, anomaly mode."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check_error

MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"


def raises_like_torch(scenario, match):
    """``scenario(lib)`` raises RuntimeError matching ``match`` on torch and on ember."""
    with pytest.raises(RuntimeError, match=match):
        scenario(torch)
    with pytest.raises(RuntimeError, match=match):
        scenario(ember)


def runs_like_torch(scenario):
    expected, got = scenario(torch), scenario(ember)
    numpy.testing.assert_allclose(numpy.asarray(got), numpy.asarray(expected), rtol=1e-6)


# --- version counters -----------------------------------------------------------------------------------------------
def test_modifying_a_saved_output_raises():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.add_(1)
        y.sum().backward()
    raises_like_torch(scenario, MODIFIED)


def test_modifying_a_saved_input_raises():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        b = a * a
        a.mul_(2)
        b.sum().backward()
    raises_like_torch(scenario, MODIFIED)


def test_modifying_a_saved_input_of_sigmoid_output_raises():
    def scenario(lib):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        s = x.sigmoid()
        s.mul_(3)
        s.sum().backward()
    raises_like_torch(scenario, MODIFIED)


def test_modifying_a_tensor_mul_by_constant_did_not_save_is_fine():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x + 1
        x2 = y * 2
        y.add_(1)
        (x2.sum() + y.sum()).backward()
        return x.grad.tolist()
    runs_like_torch(scenario)


def test_modifying_a_tensor_no_node_saved_is_fine():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x + 1
        x2 = (y - 2).exp()
        y.add_(1)
        (x2.sum() + y.sum()).backward()
        return x.grad.tolist()
    runs_like_torch(scenario)


def test_modifying_after_backward_is_fine():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1
        b = (a * a).sum()
        b.backward()
        a.mul_(2)
        return x.grad.tolist()
    runs_like_torch(scenario)


def version(t):
    """The version counter's value, an int in both libraries."""
    return t._version


def test_version_counter_bumps_on_inplace():
    def scenario(lib):
        x = lib.zeros(3)
        before = version(x)
        x.add_(1)
        x.mul_(2)
        return version(x) - before
    assert scenario(ember) == scenario(torch) == 2


def test_views_share_the_version_counter():
    def scenario(lib):
        x = lib.zeros(2, 3)
        v = x.view(6)
        v.add_(1)
        return version(x), version(v)
    assert scenario(ember) == scenario(torch)


# --- in-place on leaves ---------------------------------------------------------------------------------------------
def test_inplace_on_leaf_requiring_grad_raises():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.add_(1)
    raises_like_torch(scenario, "a leaf Variable that requires grad is being used in an in-place operation.")


def test_inplace_on_view_of_leaf_requiring_grad_raises():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.view(2, 1).mul_(2)
    raises_like_torch(scenario, "a view of a leaf Variable that requires grad is being used in an in-place operation.")


def test_inplace_on_leaf_under_no_grad_is_allowed():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.no_grad():
            x.mul_(3)
        (x * x).sum().backward()
        return x.grad.tolist()
    runs_like_torch(scenario)


# --- backward misuse ------------------------------------------------------------------------------------------------
def test_non_scalar_backward_without_gradient():
    def scenario(lib):
        (lib.ones(3, requires_grad=True) * 2).backward()
    raises_like_torch(scenario, "grad can be implicitly created only for scalar outputs")


def test_second_backward_through_freed_graph():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward()
        y.backward()
    raises_like_torch(scenario, "Trying to backward through the graph a second time")


def test_saved_tensors_after_backward_are_freed():
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.sum().backward()
        return y.grad_fn._saved_result if lib is torch else y.grad_fn.saved_tensors
    raises_like_torch(scenario, "Trying to backward through the graph a second time")


def test_backward_of_tensor_not_requiring_grad():
    def scenario(lib):
        lib.ones(2).sum().backward()
    raises_like_torch(scenario, "element 0 of tensors does not require grad and does not have a grad_fn")


def test_backward_gradient_shape_mismatch():
    def scenario(lib):
        (lib.ones(3, requires_grad=True) * 2).backward(lib.ones(2))
    raises_like_torch(scenario, "Mismatch in shape: grad_output\\[0\\] has a shape of")


def test_grad_with_unused_input_without_allow_unused():
    def scenario(lib):
        x, unused = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        lib.autograd.grad((x * 2).sum(), [x, unused])
    raises_like_torch(scenario, "The differentiated Tensor at index 1 appears to not have been used in the graph")


def test_grad_wrt_tensor_not_requiring_grad():
    def scenario(lib):
        x = lib.ones(2, requires_grad=True)
        lib.autograd.grad((x * 2).sum(), lib.ones(2))
    raises_like_torch(scenario, "One of the differentiated Tensors does not require grad")


def test_grad_outputs_count_mismatch():
    def scenario(lib):
        x = lib.ones(2, requires_grad=True)
        lib.autograd.grad([(x * 2).sum(), x.sum()], x, grad_outputs=[lib.tensor(1.0)])
    raises_like_torch(scenario, "got 2 tensors and 1 gradients")


def test_backward_empty_inputs():
    def scenario(lib):
        x = lib.ones(2, requires_grad=True)
        (x * 2).sum().backward(inputs=[])
    raises_like_torch(scenario, "`inputs` argument to `backward\\(\\)` cannot be empty.")


def test_retain_grad_without_requires_grad():
    def scenario(lib):
        lib.ones(2).retain_grad()
    raises_like_torch(scenario, "can't retain_grad on Tensor that has requires_grad=False")


def test_requires_grad_on_integer_tensor():
    def scenario(lib):
        lib.ones(2, dtype=lib.int64).requires_grad_()
    raises_like_torch(scenario, "only Tensors of floating point dtype can require gradients")


def test_numpy_of_tensor_requiring_grad():
    def scenario(lib):
        lib.ones(2, requires_grad=True).numpy()
    raises_like_torch(scenario, "Can't call numpy\\(\\) on Tensor that requires grad")


# --- anomaly mode ---------------------------------------------------------------------------------------------------
def anomaly_enabled(lib):
    return lib.is_anomaly_enabled()


def sqrt_at_zero(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    return (x.sqrt() * 0).sum()


def test_nan_gradient_without_anomaly_mode_passes_silently():
    def scenario(lib):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        (x.sqrt() * 0).sum().backward()
        return x.grad.tolist()
    runs_like_torch(scenario)


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_detect_anomaly_names_the_op_that_produced_nan(name):
    lib = torch if name == "torch" else ember
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with lib.autograd.detect_anomaly():
            y = sqrt_at_zero(lib)
            with pytest.warns(UserWarning, match="Error detected in SqrtBackward0. Traceback of forward call"):
                with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values in its 0th "
                                                       "output."):
                    y.backward()


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_set_detect_anomaly_as_switch(name):
    lib = torch if name == "torch" else ember
    lib.autograd.set_detect_anomaly(True)
    try:
        assert anomaly_enabled(lib)
        y = sqrt_at_zero(lib)
        with pytest.warns(UserWarning, match="sqrt"):   # the forward traceback shows the line that called sqrt
            with pytest.raises(RuntimeError, match="SqrtBackward0"):
                y.backward()
    finally:
        lib.autograd.set_detect_anomaly(False)
    assert not anomaly_enabled(lib)


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_anomaly_mode_reports_error_raised_inside_backward(name):
    lib = torch if name == "torch" else ember

    class Failing(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("broken backward")

    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with lib.autograd.detect_anomaly():
            y = Failing.apply(lib.ones(2, requires_grad=True)).sum()
            with pytest.warns(UserWarning, match="Error detected in FailingBackward"):
                with pytest.raises(ValueError, match="broken backward"):
                    y.backward()


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_anomaly_mode_check_nan_false_lets_nan_through(name):
    lib = torch if name == "torch" else ember
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with lib.autograd.detect_anomaly(check_nan=False):
            x = lib.tensor([0.0, 1.0], requires_grad=True)
            (x.sqrt() * 0).sum().backward()
    assert numpy.isnan(x.grad.tolist()[0])


def test_anomaly_mode_is_off_after_the_block():
    with pytest.warns(UserWarning):
        with ember.autograd.detect_anomaly():
            assert anomaly_enabled(ember)
    assert not anomaly_enabled(ember)
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()


@pytest.mark.parametrize("name", ["torch", "ember"])
def test_anomaly_state_queries(name):
    lib = torch if name == "torch" else ember
    assert (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()) == (False, True)
    with lib.autograd.set_detect_anomaly(True, check_nan=False):
        assert (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()) == (True, False)
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        (x.sqrt() * 0).sum().backward()   # traces are recorded, NaN passes
        assert numpy.isnan(x.grad.tolist()[0])
    assert (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()) == (False, True)
    lib.set_anomaly_enabled(True)
    try:
        assert (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()) == (True, True)
    finally:
        lib.set_anomaly_enabled(False)
    assert not lib.is_anomaly_enabled()


# --- misuse: the exception type and message PyTorch gives -----------------------------------------------------------
MISUSE = {
    "broadcast": lambda lib: lib.ones(2, 3) + lib.ones(2, 4),
    "broadcast_3d": lambda lib: lib.ones(5, 1, 3) * lib.ones(4, 2),
    "broadcast_inplace": lambda lib: lib.ones(2, 3).add_(lib.ones(2, 2, 3)),
    "backward_non_scalar": lambda lib: (lib.ones(3, requires_grad=True) * 2).backward(),
    "backward_twice": lambda lib: [y.backward() for y in [(lib.ones(3, requires_grad=True).exp()).sum()] * 2],
    "backward_no_grad": lambda lib: lib.ones(2).sum().backward(),
    "inplace_leaf": lambda lib: lib.ones(3, requires_grad=True).add_(1),
    "inplace_leaf_view": lambda lib: lib.ones(3, requires_grad=True)[:2].mul_(2),
    "index_out_of_range": lambda lib: lib.ones(3)[5],
    "index_negative_out_of_range": lambda lib: lib.ones(3)[-4],
    "index_dim1_out_of_range": lambda lib: lib.ones(2, 3)[:, 7],
    "index_tensor_out_of_range": lambda lib: lib.ones(2, 3)[lib.tensor([0, 5])],
    "too_many_indices": lambda lib: lib.ones(2)[0, 0],
    "setitem_out_of_range": lambda lib: lib.ones(3).__setitem__(3, 1.0),
    "select_out_of_range": lambda lib: lib.ones(3).select(0, 3),
    "gather_out_of_range": lambda lib: lib.ones(2, 3).gather(0, lib.tensor([[0, 5, 0]])),
    "index_select_out_of_range": lambda lib: lib.ones(2, 3).index_select(1, lib.tensor([3])),
    "index_select_float_index": lambda lib: lib.ones(2, 3).index_select(1, lib.tensor([0.0])),
    "dim_out_of_range": lambda lib: lib.ones(2, 3).sum(dim=5),
    "dim_out_of_range_negative": lambda lib: lib.ones(2, 3).softmax(dim=-3),
    "mm_dtype": lambda lib: lib.mm(lib.ones(2, 2, dtype=lib.int64), lib.ones(2, 2)),
    "matmul_dtype": lambda lib: lib.ones(2, 2, dtype=lib.float64) @ lib.ones(2, 2),
    "mm_shapes": lambda lib: lib.ones(64, 784) @ lib.ones(256, 10),
    "dot_sizes": lambda lib: lib.dot(lib.ones(2), lib.ones(3)),
    "view_size": lambda lib: lib.ones(2, 3).view(4),
    "view_two_inferred": lambda lib: lib.ones(2, 3).view(-1, -1),
    "view_non_contiguous": lambda lib: lib.ones(2, 3).t().view(6),
    "expand_size": lambda lib: lib.ones(2, 3).expand(4, 3),
    "cat_sizes": lambda lib: lib.cat([lib.ones(2, 3), lib.ones(2, 4)]),
    "stack_sizes": lambda lib: lib.stack([lib.ones(2, 3), lib.ones(2, 4)]),
    "cat_empty_list": lambda lib: lib.cat([]),
    "item_many": lambda lib: lib.ones(2, 3).item(),
    "bool_many": lambda lib: bool(lib.ones(2)),
    "len_0d": lambda lib: len(lib.tensor(1.0)),
    "iter_0d": lambda lib: iter(lib.tensor(1.0)),
    "requires_grad_int": lambda lib: lib.ones(2, dtype=lib.int64).requires_grad_(),
    "tensor_requires_grad_int": lambda lib: lib.tensor([1, 2], requires_grad=True),
    "ragged": lambda lib: lib.tensor([[1, 2], [3]]),
    "negative_dim": lambda lib: lib.zeros(-1),
    "arange_zero_step": lambda lib: lib.arange(0, 10, 0),
    "mean_of_ints": lambda lib: lib.ones(2, dtype=lib.int64).mean(),
    "neg_bool": lambda lib: -lib.ones(2, dtype=lib.bool),
    "sub_bool": lambda lib: lib.ones(2, dtype=lib.bool) - lib.ones(2, dtype=lib.bool),
    "add_string": lambda lib: lib.ones(2) + "a",
    "t_3d": lambda lib: lib.ones(2, 2, 2).t(),
    "permute_length": lambda lib: lib.ones(2, 3).permute(0),
    "squeeze_dim": lambda lib: lib.ones(2, 3).squeeze(2),
    "numpy_requires_grad": lambda lib: lib.ones(2, requires_grad=True).numpy(),
    "inplace_dtype": lambda lib: lib.ones(2, dtype=lib.int64).add_(1.5),
    "out_dtype": lambda lib: lib.add(lib.ones(2), 1, out=lib.ones(2, dtype=lib.int64)),
    "grad_unused": lambda lib: lib.autograd.grad(lib.ones(2, requires_grad=True).sum(),
                                                 lib.ones(2, requires_grad=True)),
    "grad_not_requires": lambda lib: lib.autograd.grad(lib.ones(2, requires_grad=True).sum(), [lib.ones(2)]),
    "grad_neither_requires": lambda lib: lib.autograd.grad(lib.ones(2).sum(), [lib.ones(2)]),   # outputs first
    "grad_not_scalar_not_requires": lambda lib: lib.autograd.grad(lib.ones(2, requires_grad=True) * 2, [lib.ones(2)]),
    "leaf_requires_grad_off": lambda lib: (lib.ones(2, requires_grad=True) * 2).requires_grad_(False),
    "masked_fill_mask_dtype": lambda lib: lib.ones(2).masked_fill(lib.tensor([1, 0]), 0.0),
    "where_shapes": lambda lib: lib.where(lib.ones(2, dtype=lib.bool), lib.ones(3), lib.ones(2)),
    "reshape_size": lambda lib: lib.ones(2, 3).reshape(5),
    "chunk_zero": lambda lib: lib.ones(2).chunk(0),
    "split_zero": lambda lib: lib.ones(2).split(0),
    "flatten_order": lambda lib: lib.ones(2, 3).flatten(1, 0),
    "max_empty": lambda lib: lib.ones(0).max(),
    "cross_entropy_target": lambda lib: lib.nn.functional.cross_entropy(lib.ones(2, 3), lib.tensor([0, 3])),
    "linear_shapes": lambda lib: lib.nn.functional.linear(lib.ones(2, 3), lib.ones(4, 5)),
    "embedding_index": lambda lib: lib.nn.functional.embedding(lib.tensor([5]), lib.ones(3, 2)),
    "one_hot_neg": lambda lib: lib.nn.functional.one_hot(lib.tensor([-1])),
}
TYPE_ONLY = {"add_string"}   # Python's own "unsupported operand" text in torch; ember names the bad operand


def _text(error):
    return str(error).replace("torch.", "").replace("ember.", "")


@pytest.mark.parametrize("name", list(MISUSE))
def test_misuse_errors_match_torch(name):
    error = check_error(MISUSE[name])
    with pytest.raises(Exception) as torch_error:
        MISUSE[name](torch)
    if name not in TYPE_ONLY:
        assert _text(error) == _text(torch_error.value)
