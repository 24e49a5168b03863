"""Finite-difference checks of gradients: ``gradcheck`` and ``gradgradcheck``, as in ``torch.autograd``.

Both compare the Jacobian that autograd computes (one vector-Jacobian product per output element) with the one
central differences give. Complex tensors are treated as pairs of reals: a complex input perturbed along its real
and imaginary parts, a complex output seen through ``grad_output = 1`` and ``grad_output = 1j``; under PyTorch's
convention for complex gradients this makes both Jacobians the real Jacobian of the real-ified function.
``check_forward_ad`` builds the Jacobian from forward-mode AD too (one tangent per input element), which needs no
convention: a complex input moves along 1 and 1j.
"""
import warnings

import numpy

from .._backend import xp_of
from .._tensor import Tensor, _make
from . import forward_ad
from .engine import grad as _grad
from .function import Function

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` and ``gradgradcheck`` when gradients do not match their finite differences."""


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """Checks the gradients of ``func`` at ``inputs`` against central finite differences; True when they match.

    Use float64 (or complex128) inputs. ``fast_mode`` compares one random projection ``v^T J u`` instead of the
    whole Jacobian. ``check_forward_ad`` checks the Jacobian forward-mode AD gives too (one Jacobian-vector product
    per input element, or along one random direction in ``fast_mode``). ``masked`` is accepted for PyTorch
    compatibility (ember has no sparse tensors).
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    inputs = _as_tuple(inputs)
    try:
        _gradcheck(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
                   check_batched_grad, check_backward_ad, fast_mode, check_forward_ad, check_batched_forward_grad)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """Checks second derivatives: runs ``gradcheck`` on the function ``(inputs, grad_outputs) -> input gradients``.

    Without ``grad_outputs``, random ones in [-1, 1) are drawn (requiring grad, so their gradients are checked too).
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _differentiable_outputs(func(*inputs))
        grad_outputs = tuple(_random_like(o, gen_non_contig_grad_outputs).requires_grad_() for o in outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    count = len(grad_outputs)
    differentiable_inputs = {i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad}

    def input_gradients(*args):
        input_args, output_grads = args[:-count], args[-count:]
        outputs = _differentiable_outputs(func(*input_args))
        wrt = tuple(x for i, x in enumerate(input_args) if i in differentiable_inputs)
        grads = _grad(outputs, wrt, output_grads, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(input_gradients, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, masked=masked)


# --- the checks -------------------------------------------------------------------------------------------------
def _gradcheck(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
               check_batched_grad, check_backward_ad, fast_mode, check_forward_ad, check_batched_forward_grad):
    wrt = _differentiable_inputs(inputs)
    all_outputs = _as_tuple(func(*inputs))
    outputs = _differentiable_outputs(all_outputs)
    if not outputs:
        _check_no_differentiable_outputs(func, inputs, wrt, eps)
        return
    selected = [i for i, o in enumerate(all_outputs) if isinstance(o, Tensor) and o.requires_grad]
    if check_forward_ad:
        _check_forward_ad(func, inputs, wrt, selected, eps, atol, rtol, fast_mode)
    if check_batched_forward_grad:
        _check_forward_ad_linear(func, inputs, wrt, selected)
    if not check_backward_ad:
        return
    wrt_tensors = [inputs[i] for i in wrt]
    if fast_mode:
        _check_projection(func, inputs, wrt, outputs, selected, eps, atol, rtol, nondet_tol)
    else:
        numerical = _numerical_jacobians(func, inputs, wrt, eps)
        first = _analytical_jacobians(outputs, wrt_tensors, check_grad_dtypes)
        second = _analytical_jacobians(outputs, wrt_tensors, False)
        for o, nr in enumerate(selected):
            for j in range(len(wrt)):
                _compare(first[o][j], numerical[nr][j], o, j, atol, rtol)
                _check_reentrant(first[o][j], second[o][j], nondet_tol)
    _check_backward_multiplies_grad_output(outputs, wrt_tensors)
    if check_undefined_grad:
        _check_undefined_grads(func, inputs, wrt_tensors)
    if check_batched_grad:
        _check_batched_grads(outputs, wrt_tensors)


def _compare(analytical, numerical, output_index, input_index, atol, rtol, mode=""):
    if numpy.allclose(analytical, numerical, rtol=rtol, atol=atol):
        return
    gap = numpy.abs(analytical - numerical)
    at = numpy.unravel_index(numpy.argmax(gap), gap.shape)
    raise GradcheckError(
        f"Jacobian {mode}mismatch for output {output_index} with respect to input {input_index},\n"
        f"numerical:{numerical}\nanalytical:{analytical}\n"
        f"largest difference {gap[at]:.6g} at (input element {at[0]}, output element {at[1]}) "
        f"(atol={atol}, rtol={rtol})")


def _check_reentrant(first, second, nondet_tol):
    if first.shape != second.shape or numpy.abs(first - second).max(initial=0.0) > nondet_tol:
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and grad_output multiple times gives "
            "different values, although analytical gradient matches numerical gradient. The tolerance for "
            f"nondeterminism was {nondet_tol}.")


def _check_no_differentiable_outputs(func, inputs, wrt, eps):
    for per_output in _numerical_jacobians(func, inputs, wrt, eps):
        for jacobian in per_output:
            if jacobian is not None and not numpy.allclose(jacobian, 0.0):
                raise GradcheckError("Numerical gradient for function expected to be zero")


def _check_backward_multiplies_grad_output(outputs, wrt_tensors):
    zeros = [_zeros_like(o) for o in outputs]
    grads = _grad(outputs, wrt_tensors, zeros, retain_graph=True, allow_unused=True)
    for g, x in zip(grads, wrt_tensors):
        if g is None:
            continue
        if bool((_host(g._data) != 0).any()):
            raise GradcheckError("backward not multiplied by grad_output")
        if g.dtype != x.dtype:
            raise GradcheckError("grad is incorrect type")
        if g.device != x.device:
            raise GradcheckError("grad is incorrect device")
        if g.shape != x.shape:
            raise GradcheckError("grad is incorrect size")


class _UndefinedGrad(Function):
    """Identity whose backward hands on no gradient at all, so the op before it sees an undefined output grad."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return None


def _check_undefined_grads(func, inputs, wrt_tensors):
    """Backwards must cope with undefined output grads: all at once, and (for several outputs) one at a time."""
    count = len(_differentiable_outputs(func(*inputs)))
    undefined_sets = [set(range(count))] + ([{i} for i in range(count)] if count > 1 else [])
    for undefined in undefined_sets:
        outputs = _differentiable_outputs(func(*inputs))
        outputs = [_UndefinedGrad.apply(o) if i in undefined else o for i, o in enumerate(outputs)]
        zeros = [_zeros_like(o) for o in outputs]
        try:
            grads = _grad(outputs, wrt_tensors, zeros, allow_unused=True)
        except RuntimeError as error:
            raise GradcheckError(f"Expected backward function to handle undefined output grads ({error})") from error
        if any(g is not None and bool((_host(g._data) != 0).any()) for g in grads):
            raise GradcheckError("Expected all input grads to be undefined or zero when all output grads are "
                                 "undefined or zero.")


def _check_batched_grads(outputs, wrt_tensors):
    """Gradients for a batch of grad_outputs (``is_grads_batched=True``) must match one backward per sample."""
    batch = 2
    for o, out in enumerate(outputs):
        samples = [_normal_like(out) for _ in range(batch)]
        expected = [_grad(out, wrt_tensors, s, retain_graph=True, allow_unused=True) for s in samples]
        stacked = _make(xp_of(out._data).stack([s._data for s in samples]))
        try:
            batched = _grad(out, wrt_tensors, stacked, retain_graph=True, allow_unused=True, is_grads_batched=True)
        except RuntimeError as error:
            raise GradcheckError(f"While computing batched gradients, got: {error}") from error
        for j, result in enumerate(batched):
            for b in range(batch):
                want = expected[b][j]
                got = None if result is None else _host(result._data)[b]
                want = None if want is None else _host(want._data)
                if (want is None) != (got is None) or (want is not None and not numpy.allclose(got, want)):
                    raise GradcheckError(f"For output {o} and input {j}: batched gradient (sample {b}) {got} "
                                         f"differs from the gradient computed on its own {want}.")


def _check_projection(func, inputs, wrt, outputs, selected, eps, atol, rtol, nondet_tol):
    """Fast mode: compares ``v^T J u`` for random ``u`` (per input) and ``v`` (per output) both ways."""
    directions = [_direction_like(inputs[i]) for i in wrt]
    weights = [_direction_like(o) for o in outputs]
    for j, (position, u) in enumerate(zip(wrt, directions)):
        derivatives = _directional_derivative(func, inputs, position, u._data, eps)
        for o, (nr, v) in enumerate(zip(selected, weights)):
            numerical = float(numpy.dot(_real_flat(v._data), derivatives[nr]))
            analytical = [_projected_vjp(outputs[o], [inputs[i] for i in wrt], v, j, u) for _ in range(2)]
            if not numpy.isclose(analytical[0], numerical, rtol=rtol, atol=atol):
                raise GradcheckError(
                    f"Jacobian mismatch for output {o} with respect to input {j},\nnumerical:{numerical}\n"
                    f"analytical:{analytical[0]}\n\nThe above quantities relating the numerical and analytical "
                    "jacobians are computed in fast mode (v^T J u for random u and v). Run with fast_mode=False to "
                    "see the full Jacobians.")
            if abs(analytical[0] - analytical[1]) > nondet_tol:
                _check_reentrant(numpy.array([analytical[0]]), numpy.array([analytical[1]]), nondet_tol)


def _projected_vjp(output, wrt_tensors, v, j, u):
    g = _grad(output, wrt_tensors, v, retain_graph=True, allow_unused=True)[j]
    return 0.0 if g is None else float(numpy.dot(_real_flat(g._data), _real_flat(u._data)))


def _check_forward_ad(func, inputs, wrt, selected, eps, atol, rtol, fast_mode):
    """The Jacobian forward-mode AD gives (or its product with a random direction) against central differences."""
    mode = "computed with forward mode "
    for j, position in enumerate(wrt):
        x = inputs[position]._data
        if fast_mode:
            direction = _direction_like(inputs[position])._data
            numerical = _directional_derivative(func, inputs, position, direction, eps)
            analytical = _tangents(func, inputs, position, direction)
            for o, nr in enumerate(selected):
                _compare(analytical[nr][None], numerical[nr][None], o, j, atol, rtol, mode)
            continue
        numerical = _numerical_jacobians(func, inputs, [position], eps)
        rows = []
        for index in numpy.ndindex(x.shape):
            for unit in ((1, 1j) if x.dtype.kind == "c" else (1,)):
                direction = xp_of(x).zeros_like(x)
                direction[index] = unit
                rows.append(_tangents(func, inputs, position, direction))
        for o, nr in enumerate(selected):
            _compare(_rows([r[nr] for r in rows], numerical[nr][0].shape[1]), numerical[nr][0], o, j, atol, rtol,
                     mode)


def _check_forward_ad_linear(func, inputs, wrt, selected):
    """``check_batched_forward_grad``: PyTorch vmaps the Jacobian-vector product over two directions; ember's
    vmap lives above autograd, so this checks what batching relies on, that the tangent along a combination of two
    random directions is that combination of their tangents."""
    for j, position in enumerate(wrt):
        first, second = (_normal_like(inputs[position])._data for _ in range(2))
        expected = [None if a is None else 2 * a - 3 * b for a, b in zip(_tangents(func, inputs, position, first),
                                                                         _tangents(func, inputs, position, second))]
        got = _tangents(func, inputs, position, 2 * first - 3 * second)
        for o, nr in enumerate(selected):
            if not numpy.allclose(got[nr], expected[nr]):
                raise GradcheckError(f"For output {o} and input {j}: the tangent along a combination of two "
                                     f"directions {got[nr]} differs from that combination of their tangents "
                                     f"{expected[nr]}.")


def _tangents(func, inputs, position, direction):
    """Per output of ``func``, its tangent as a flat real vector (None for outputs that are not float or complex)
    when input ``position`` moves along ``direction``; zeros where forward-mode AD gives none."""
    with forward_ad.dual_level():
        args = []
        for i, x in enumerate(inputs):
            if isinstance(x, Tensor):
                x = x.detach().requires_grad_(x.requires_grad)
                if i == position:
                    x = forward_ad.make_dual(x, _make(direction.copy()))   # in-place ops write into it
            args.append(x)
        results = []
        for out in _as_tuple(func(*args)):
            if not (isinstance(out, Tensor) and out._data.dtype.kind in "fc"):
                results.append(None)
                continue
            tangent = forward_ad.unpack_dual(out).tangent
            results.append(_real_flat(out._data) * 0 if tangent is None else _real_flat(tangent._data))
        return results


# --- Jacobians ----------------------------------------------------------------------------------------------------
def _numerical_jacobians(func, inputs, wrt, eps):
    """Per output, per differentiable input: the (input elements, output elements) central-difference Jacobian.

    Non-float outputs give None. Each input is perturbed in place, one element (and for complex, one part) at a
    time, and restored afterwards.
    """
    columns = []
    for position in wrt:
        data = inputs[position]._data
        steps = (eps, eps * 1j) if data.dtype.kind == "c" else (eps,)
        per_element = []
        for index in numpy.ndindex(data.shape):
            original = data[index].copy()
            for step in steps:
                data[index] = original + step
                plus = _evaluate(func, inputs)
                data[index] = original - step
                minus = _evaluate(func, inputs)
                data[index] = original
                per_element.append([None if p is None else (p - m) / (2 * eps) for p, m in zip(plus, minus)])
        columns.append(per_element)
    sizes = [None if o is None else o.size for o in _evaluate(func, inputs)]
    return [[None if size is None else _rows([c[nr] for c in per_input], size) for per_input in columns]
            for nr, size in enumerate(sizes)]


def _directional_derivative(func, inputs, position, direction, eps):
    """Central difference of every output along ``direction`` for one input."""
    data = inputs[position]._data
    original = data.copy()
    data[...] = original + eps * direction
    plus = _evaluate(func, inputs)
    data[...] = original - eps * direction
    minus = _evaluate(func, inputs)
    data[...] = original
    return [None if p is None else (p - m) / (2 * eps) for p, m in zip(plus, minus)]


def _rows(vectors, width):
    return numpy.stack(vectors) if vectors else numpy.zeros((0, width))


def _evaluate(func, inputs):
    """``func(*inputs)``'s float and complex outputs as flat real float64 vectors (None for the others)."""
    return [_real_flat(o._data) if isinstance(o, Tensor) and o._data.dtype.kind in "fc" else None
            for o in _as_tuple(func(*inputs))]


def _analytical_jacobians(outputs, wrt_tensors, check_grad_dtypes):
    """Per output, per input: the (input elements, output elements) Jacobian from one backward per output element."""
    jacobians = []
    for out in outputs:
        rows = [[] for _ in wrt_tensors]
        units = (1, 1j) if out._data.dtype.kind == "c" else (1,)
        for index in numpy.ndindex(out._data.shape):
            for unit in units:
                seed = xp_of(out._data).zeros_like(out._data)
                seed[index] = unit
                grads = _grad(out, wrt_tensors, _make(seed), retain_graph=True, allow_unused=True)
                for j, (g, x) in enumerate(zip(grads, wrt_tensors)):
                    rows[j].append(_gradient_vector(g, x, check_grad_dtypes))
        jacobians.append([_rows(r, _real_flat(x._data).size).T for r, x in zip(rows, wrt_tensors)])
    return jacobians


def _gradient_vector(g, x, check_grad_dtypes):
    if g is None:
        return numpy.zeros(_real_flat(x._data).size)
    if check_grad_dtypes and g.dtype != x.dtype:
        raise GradcheckError("Gradient has dtype mismatch")
    if g.shape != x.shape:
        raise GradcheckError("Analytical gradient has incorrect size")
    return _real_flat(g._data)


# --- helpers ----------------------------------------------------------------------------------------------------
def _as_tuple(value):
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return tuple(value)
    return (value,)


def _differentiable_inputs(inputs):
    """Positions of the inputs to differentiate, after PyTorch's checks (and its warning for low precision)."""
    positions = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        if x._data.dtype.name not in ("float64", "complex128"):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating point "
                          "or complex. ", UserWarning, stacklevel=4)
        if any(stride == 0 and size > 1 for stride, size in zip(x._data.strides, x._data.shape)):
            raise RuntimeError(f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs that "
                               "are non-overlapping to be able to compute the numerical gradients correctly. You "
                               "should call .contiguous on the input before passing it to gradcheck.")
        positions.append(i)
    if not positions:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them have "
                         "requires_grad=True.")
    return positions


def _differentiable_outputs(outputs):
    return tuple(o for o in _as_tuple(outputs) if isinstance(o, Tensor) and o.requires_grad)


def _random_like(tensor, noncontiguous=False):
    """Uniform values in [-1, 1) shaped like ``tensor`` (float64 unless it is floating or complex), drawn from the
    default generator as PyTorch's ``make_tensor`` draws them (a complex tensor's real and imaginary parts
    interleaved), so a seeded program's later draws match PyTorch's."""
    dtype = tensor._data.dtype if tensor._data.dtype.kind in "fc" else numpy.dtype(numpy.float64)
    shape = tensor._data.shape
    xp = xp_of(tensor._data)
    noncontiguous = noncontiguous and tensor._data.size > 1
    if noncontiguous:   # make_tensor draws twice the last dim and keeps every second element from the second on
        shape = shape[:-1] + (2 * shape[-1],)
    if dtype.kind == "c":
        parts = _make(xp.empty(shape + (2,), xp.finfo(dtype).dtype)).uniform_(-1, 1)._data
        values = parts.view(dtype)[..., 0]
    else:
        values = _make(xp.empty(shape, dtype)).uniform_(-1, 1)._data
    return _make(values[..., 1::2] if noncontiguous else values)


def _normal_like(tensor):
    """Standard normal values shaped and typed like ``tensor``, from the default generator (PyTorch's
    ``randn_like``, which its batched-gradient checks draw)."""
    return _make(xp_of(tensor._data).empty_like(tensor._data)).normal_()


def _direction_like(tensor):
    """Fast mode's random direction for ``tensor``: uniform in [-1, 1), from a generator of gradcheck's own (as
    PyTorch's fast mode uses a private generator), so neither the default generator nor NumPy's global state moves."""
    dtype = tensor._data.dtype if tensor._data.dtype.kind in "fc" else numpy.dtype(numpy.float64)
    shape = tensor._data.shape
    values = _directions.uniform(-1, 1, shape)
    if dtype.kind == "c":
        values = values + 1j * _directions.uniform(-1, 1, shape)
    return _make(xp_of(tensor._data).asarray(values, dtype))


_directions = numpy.random.default_rng(67280421310721)


def _zeros_like(tensor):
    return _make(xp_of(tensor._data).zeros_like(tensor._data))


def _host(array):
    return array.get() if hasattr(array, "get") and not isinstance(array, numpy.ndarray) else numpy.asarray(array)


def _real_flat(array):
    """A float64 copy of ``array`` as one flat vector; complex entries become consecutive (real, imaginary) pairs."""
    array = _host(array)
    if array.dtype.kind == "c":
        return numpy.stack([array.real, array.imag], axis=-1).reshape(-1).astype(numpy.float64)
    return array.reshape(-1).astype(numpy.float64)
