"""The forward pre-hook bookkeeping that weight norm, spectral norm and pruning share."""


def remove_pre_hook(module, kind, name, attribute="name"):
    """Undoes the forward pre-hook of class ``kind`` installed on ``module.<name>`` (its ``hook.remove(module)``)
    and unregisters it; False when there is none."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and getattr(hook, attribute) == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return True
    return False
