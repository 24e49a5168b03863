"""Gradient clipping: by total norm (``clip_grad_norm_``) or by value (``clip_grad_value_``)."""
import types
import warnings

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.creation import tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _public(name):
    """``torch.<name>`` as a program calls it (through ``__torch_function__`` once installed), so tensor subclasses
    such as DTensor norms stack and reduce by their own rules."""
    import ember
    return ember.linalg.vector_norm if name == "vector_norm" else getattr(ember, name)


def _takes_foreach(device, tensors, foreach):
    """Whether PyTorch's clipping takes the ``torch._foreach_*`` path for ``tensors`` on ``device``: when asked, or
    by default for plain tensors and parameters on a CPU or CUDA device (foreach=True elsewhere is refused)."""
    from ..parameter import Parameter
    supported = device.type in ("cpu", "cuda")
    if foreach is None:
        return supported and all(type(t) in (Tensor, Parameter) for t in tensors)
    if foreach and not supported:
        raise RuntimeError(f"foreach=True was passed, but can't use the foreach API on {device.type} tensors")
    return bool(foreach)


def _grouped(tensors):
    """``tensors`` grouped by (device, dtype) in first-seen order, as PyTorch's ``_group_tensors_by_device_and_dtype``
    (the norms are stacked in this order)."""
    groups = {}
    for t in tensors:
        groups.setdefault((t.device, t.dtype), []).append(t)
    return [(device, group) for (device, _), group in groups.items()]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` taken together as one vector (``torch.linalg.vector_norm`` of each,
    then of their norms)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    first_device = tensors[0].device
    vector_norm = _public("vector_norm")
    with no_grad():
        norms = []
        for device, group in _grouped(tensors):
            if _takes_foreach(device, group, foreach):
                norms.extend(_public("_foreach_norm")(group, norm_type))
            else:
                norms.extend(vector_norm(t, norm_type) for t in group)
        total_norm = vector_norm(_public("stack")([norm.to(first_device) for norm in norms]), norm_type)
    if error_if_nonfinite and bool(total_norm.isnan().logical_or(total_norm.isinf())):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    return total_norm


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the gradients of ``parameters`` by min(1, max_norm / (total_norm + 1e-6)) in place; ``total_norm`` is
    a tensor (a number gets ``torch.clamp``'s TypeError, as in PyTorch)."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    with no_grad():
        coefficient = _public("clamp")(max_norm / (total_norm + 1e-6), max=1.0)
        for device, group in _grouped(grads):
            if _takes_foreach(device, group, foreach):
                _public("_foreach_mul_")(group, coefficient.to(device))
            else:
                on_device = coefficient.to(device)
                for grad in group:
                    grad.mul_(on_device)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescales the gradients of ``parameters`` so that their total norm is at most ``max_norm``; returns the total
    norm before clipping."""
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = _as_list(parameters)
    if is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of :func:`clip_grad_norm_`."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient of ``parameters`` to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    with no_grad():
        for device, group in _grouped(grads):
            if _takes_foreach(device, group, foreach):
                _public("_foreach_clamp_min_")(group, -clip_value)
                _public("_foreach_clamp_max_")(group, clip_value)
            else:
                for grad in group:
                    grad.clamp_(min=-clip_value, max=clip_value)
