"""Opt-in behaviours of coming releases, as PyTorch's ``torch.__future__``: how ``Module`` conversions (``to``,
``double``, ``_apply``...) give a parameter its converted value."""
_overwrite_module_params_on_conversion = False
_swap_module_params_on_conversion = False


def set_overwrite_module_params_on_conversion(value):
    """With True, module conversions replace each parameter (and gradient) by a new one instead of setting its
    ``.data``, so references held elsewhere (an optimizer's) keep the old tensors."""
    global _overwrite_module_params_on_conversion
    _overwrite_module_params_on_conversion = value


def get_overwrite_module_params_on_conversion():
    """Whether module conversions replace parameters (see ``set_overwrite_module_params_on_conversion``)."""
    return _overwrite_module_params_on_conversion


def set_swap_module_params_on_conversion(value):
    """With True, module conversions swap each converted parameter (and gradient) into the existing object with
    ``ember.utils.swap_tensors``, keeping its identity; this takes precedence over the overwrite setting."""
    global _swap_module_params_on_conversion
    _swap_module_params_on_conversion = value


def get_swap_module_params_on_conversion():
    """Whether module conversions swap parameters in place (see ``set_swap_module_params_on_conversion``)."""
    return _swap_module_params_on_conversion
