"""``torch.nn._reduction``: the reduction names' enum values and the deprecated ``size_average`` / ``reduce`` flags,
as custom losses written against PyTorch import them."""
import warnings

__all__ = []


def get_enum(reduction):
    """The enum value of a reduction name ('none' 0, 'mean' 1, 'sum' 2; 'elementwise_mean' is deprecated 'mean')."""
    if reduction == "none":
        return 0
    if reduction == "mean":
        return 1
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      stacklevel=2)
        return 1
    if reduction == "sum":
        return 2
    raise ValueError(f"{reduction} is not a valid value for reduction")


def legacy_get_string(size_average, reduce, emit_warning=True):
    """The reduction name the deprecated ``size_average`` and ``reduce`` flags stand for (None counts as True),
    warning that they are deprecated unless ``emit_warning`` is False."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      "instead.", stacklevel=2)
    return reduction


def legacy_get_enum(size_average, reduce, emit_warning=True):
    """``get_enum`` of ``legacy_get_string``."""
    return get_enum(legacy_get_string(size_average, reduce, emit_warning))
