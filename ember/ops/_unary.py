"""The one-input primitive most elementwise ops are: a forward that applies an array function and saves the input,
the result or both, and a backward that is a function of the gradient and what was saved."""
from ..autograd.function import Primitive
from ._util import quiet


def is_reduced(array):
    """Whether ``array`` holds 16-bit floats (float16, bfloat16: ml_dtypes' kind is 'V'), which PyTorch's CPU kernels
    compute on in float32 ("opmath"), rounding once at the end."""
    return array.dtype.itemsize == 2 and array.dtype.kind in "fV"


def in_float32(xp, function, a, *args):
    """``function(xp, a, *args)`` of a 16-bit float array computed in float32 and rounded once to its dtype, as
    PyTorch's kernels do (several 16-bit steps would round after each)."""
    return xp.asarray(function(xp, a.astype(xp.float32), *args)).astype(a.dtype)


def unary_primitive(name, module, array_function, gradient, saves="input", silent=True, on_arrays=False,
                    float32_gradient=False):
    """A Primitive named ``name`` (as a class statement in ``module`` would define it): forward returns
    ``array_function(xp, a)`` (NumPy's floating-point warnings off when ``silent``; for 16-bit floats in float32,
    rounded once), backward returns
    ``gradient(grad, *saved)`` where ``saved`` is the input, the result or both (input first). ``on_arrays``: the
    gradient is plain arithmetic, valid on arrays too, and also serves as the ``array_backward``.
    ``float32_gradient``: PyTorch has a backward kernel of its own for the op (tanh_backward), which computes 16-bit
    floats in float32 and rounds once; so does the gradient here."""
    if saves not in ("input", "result", "both"):
        raise ValueError(f"saves must be 'input', 'result' or 'both', got {saves!r}")
    compute = array_function

    def array_function(xp, a):
        return in_float32(xp, compute, a) if is_reduced(a) else compute(xp, a)

    def save_input(ctx, a):
        ctx.save_for_backward(a)
        return array_function(ctx.xp, a)

    def save_result(ctx, a):
        result = ctx.xp.asarray(array_function(ctx.xp, a))   # a 0-d input gives a NumPy scalar; saving needs an array
        ctx.save_for_backward(result)
        return result

    def save_both(ctx, a):
        result = ctx.xp.asarray(array_function(ctx.xp, a))
        ctx.save_for_backward(a, result)
        return result

    # ``gradient`` gives grad * f'(z); for complex z PyTorch's convention is grad * conj(f'(z)) (every function made
    # here is holomorphic), which is conj(gradient(conj(grad), ...)).
    def backward(ctx, grad):
        if grad.is_complex():
            return gradient(grad.conj(), *ctx.saved_tensors).conj()
        if float32_gradient and is_reduced(grad._data):
            return gradient(grad.float(), *(saved.float() for saved in ctx.saved_tensors)).to(grad.dtype)
        return gradient(grad, *ctx.saved_tensors)

    def array_backward(ctx, grad):
        if grad.dtype.kind == "c":
            return gradient(grad.conj(), *ctx.saved_arrays).conj()
        if float32_gradient and is_reduced(grad):
            wide = (saved.astype(ctx.xp.float32) for saved in ctx.saved_arrays)
            return ctx.xp.asarray(gradient(grad.astype(ctx.xp.float32), *wide)).astype(grad.dtype)
        return gradient(grad, *ctx.saved_arrays)

    forward = {"input": save_input, "result": save_result, "both": save_both}[saves]
    namespace = {"forward": staticmethod(quiet(forward) if silent else forward), "backward": staticmethod(backward),
                 "__module__": module, "saved_names": {"input": ("self",), "result": ("result",),
                                                       "both": ("self", "result")}[saves]}
    if on_arrays:   # quiet as the Tensor ops backward runs are
        namespace["array_backward"] = staticmethod(quiet(array_backward))
    return type(name, (Primitive,), namespace)
