"""Helpers shared by the model builders: the legacy ``pretrained=``/positional interface, checks of parameters
the weights fix, channel rounding, and ``IntermediateLayerGetter`` (a backbone's intermediate feature maps)."""
import functools
import inspect
import warnings
from collections import OrderedDict

from ember import nn

from ._api import WeightsEnum


class IntermediateLayerGetter(nn.ModuleDict):
    """``model``'s direct children up to the last one named in ``return_layers``, run in registration order; the
    forward returns an OrderedDict of the named children's outputs under their new names (``{"layer4": "out"}``).

    Only direct children can be returned, and the model must call its children in the order it registered them."""

    _version = 2
    __annotations__ = {"return_layers": dict[str, str]}

    def __init__(self, model, return_layers):
        if not set(return_layers).issubset([name for name, _ in model.named_children()]):
            raise ValueError("return_layers are not present in model")
        wanted = {str(k) for k in return_layers}
        layers = OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            wanted.discard(name)
            if not wanted:
                break
        super().__init__(layers)
        self.return_layers = return_layers

    def forward(self, x):
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out


def _sequence_to_str(seq, separate_last=""):
    if not seq:
        return ""
    if len(seq) == 1:
        return f"'{seq[0]}'"
    head = "'" + "', '".join([str(item) for item in seq[:-1]]) + "'"
    tail = f"{'' if separate_last and len(seq) == 2 else ','} {separate_last}'{seq[-1]}'"
    return head + tail


def kwonly_to_pos_or_kw(fn):
    """Lets ``fn``'s keyword-only parameters be passed positionally again, with torchvision's deprecation warning."""
    params = inspect.signature(fn).parameters
    try:
        keyword_only_start_idx = next(idx for idx, param in enumerate(params.values())
                                      if param.kind == param.KEYWORD_ONLY)
    except StopIteration:
        raise TypeError(f"Found no keyword-only parameter on function '{fn.__name__}'") from None
    keyword_only_params = tuple(params)[keyword_only_start_idx:]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args, keyword_only_args = args[:keyword_only_start_idx], args[keyword_only_start_idx:]
        if keyword_only_args:
            keyword_only_kwargs = dict(zip(keyword_only_params, keyword_only_args))
            warnings.warn(f"Using {_sequence_to_str(tuple(keyword_only_kwargs.keys()), separate_last='and ')} as "
                          f"positional parameter(s) is deprecated since 0.13 and may be removed in the future. Please "
                          f"use keyword parameter(s) instead.")
            kwargs.update(keyword_only_kwargs)
        return fn(*args, **kwargs)

    return wrapper


def handle_legacy_interface(**weights):
    """Decorates a builder so that ``pretrained=True/False`` (or a positional flag) still works: mapped to the
    default weights or None with torchvision's deprecation warnings. ``weights`` maps the weights parameter to
    ``(legacy_name, default)``; ``default`` may be a callable of the keyword arguments."""
    def outer_wrapper(builder):
        @kwonly_to_pos_or_kw
        @functools.wraps(builder)
        def inner_wrapper(*args, **kwargs):
            for weights_param, (pretrained_param, default) in weights.items():
                sentinel = object()
                weights_arg = kwargs.get(weights_param, sentinel)
                if ((weights_param not in kwargs and pretrained_param not in kwargs)
                        or isinstance(weights_arg, WeightsEnum)
                        or (isinstance(weights_arg, str) and weights_arg != "legacy") or weights_arg is None):
                    continue
                # a positional flag arrives under the weights name (the signature no longer has ``pretrained``)
                pretrained_positional = weights_arg is not sentinel
                if pretrained_positional:
                    kwargs[pretrained_param] = pretrained_arg = kwargs.pop(weights_param)
                else:
                    pretrained_arg = kwargs[pretrained_param]
                if pretrained_arg:
                    default_weights_arg = default(kwargs) if callable(default) else default
                    if not isinstance(default_weights_arg, WeightsEnum):
                        raise ValueError(f"No weights available for model {builder.__name__}")
                else:
                    default_weights_arg = None
                if not pretrained_positional:
                    warnings.warn(f"The parameter '{pretrained_param}' is deprecated since 0.13 and may be removed in "
                                  f"the future, please use '{weights_param}' instead.")
                msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are deprecated since 0.13 "
                       f"and may be removed in the future. The current behavior is equivalent to passing "
                       f"`{weights_param}={default_weights_arg}`.")
                if pretrained_arg:
                    msg = (f"{msg} You can also use `{weights_param}={type(default_weights_arg).__name__}.DEFAULT` "
                           f"to get the most up-to-date weights.")
                warnings.warn(msg)
                del kwargs[pretrained_param]
                kwargs[weights_param] = default_weights_arg
            return builder(*args, **kwargs)

        return inner_wrapper

    return outer_wrapper


def _ovewrite_named_param(kwargs, param, new_value):
    """Sets ``kwargs[param]``, refusing a different value the caller already gave (torchvision's spelling)."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _ovewrite_value_param(param, actual, expected):
    """``expected``, refusing a different ``actual`` value that is not None."""
    if actual is not None and actual != expected:
        raise ValueError(f"The parameter '{param}' expected value {expected} but got {actual} instead.")
    return expected


def _assert(condition, message):
    """Raises AssertionError with ``message`` unless ``condition`` (torch._assert; fx-wrap it where traced)."""
    if not condition:
        raise AssertionError(message)


def _load_weights(model, weights, progress):
    """Loads ``weights``' checkpoint (downloaded with its hash checked) into ``model``; returns the model."""
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


class _ModelURLs(dict):
    """The pre-0.13 ``model_urls`` dicts some modules keep: reading one warns to use the weights enums."""

    def __getitem__(self, item):
        warnings.warn("Accessing the model URLs via the internal dictionary of the module is deprecated since 0.13 "
                      "and may be removed in the future. Please access them via the appropriate Weights Enum "
                      "instead.")
        return super().__getitem__(item)


def _make_divisible(v, divisor, min_value=None):
    """Rounds a channel count to a multiple of ``divisor`` without dropping more than 10% (TensorFlow's rule)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v
