"""Helpers shared by the model builders: the ``weights=`` policy, channel rounding and the model registry."""
import warnings

_MODELS = {}


def register_model(builder):
    """Records ``builder`` under its function name for ``get_model`` and ``list_models``."""
    _MODELS[builder.__name__] = builder
    return builder


def list_models():
    """The names of every registered model builder, sorted."""
    return sorted(_MODELS)


def get_model_builder(name):
    """The builder function registered under ``name``."""
    name = name.lower()
    if name not in _MODELS:
        raise ValueError(f"Unknown model {name}")
    return _MODELS[name]


def get_model(name, **config):
    """Builds the model registered under ``name`` with ``config`` passed to its builder."""
    return get_model_builder(name)(**config)


def _check_weights(name, weights, kwargs):
    """Refuses pretrained weights loudly: ember has no download hub, so a checkpoint is loaded explicitly.

    Also accepts torchvision's deprecated ``pretrained=`` flag with the same meaning."""
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
                      "please use 'weights' instead.", UserWarning, stacklevel=3)
        if pretrained and weights is None:
            weights = "DEFAULT"
    if weights is not None:
        raise ValueError(
            f"ember.vision.models.{name} cannot fetch pretrained weights (got weights={weights!r}): ember downloads "
            f"nothing. Build the model with weights=None and load a torchvision checkpoint into it: "
            f"model = {name}(); model.load_state_dict(ember.load(path_to_pth)).")


def _overwrite_named_param(kwargs, param, new_value):
    """Sets ``kwargs[param]``, refusing a conflicting value the caller already gave."""
    if param in kwargs and kwargs[param] != new_value:
        raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    kwargs[param] = new_value


def _make_divisible(v, divisor, min_value=None):
    """Rounds a channel count to a multiple of ``divisor`` without dropping more than 10% (TensorFlow's rule)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v
