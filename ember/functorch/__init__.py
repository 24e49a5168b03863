"""``functorch``, the deprecated predecessor of ``torch.func`` (``ember run`` maps ``import functorch`` here): its
transforms are ``ember.func``'s behind PyTorch's FutureWarning, and ``make_functional`` /
``make_functional_with_buffers`` / ``combine_state_for_ensemble`` return a ``FunctionalModule`` that calls a copy
of the model with the parameters (and buffers) it is given."""
import copy
import warnings

from .. import nn
from .. import func as _func
from .._alias import API_VERSIONS

__all__ = ["combine_state_for_ensemble", "functionalize", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev",
           "jvp", "make_functional", "make_functional_with_buffers", "vjp", "vmap", "FunctionalModule",
           "FunctionalModuleWithBuffers"]
__version__ = API_VERSIONS["torch"]


def _warn_deprecated(api, new_api=None):
    new_api = new_api or f"torch.func.{api}"
    warnings.warn(f"We've integrated functorch into PyTorch. As the final step of the integration, `functorch.{api}` "
                  f"is deprecated as of PyTorch 2.0 and will be deleted in a future version of PyTorch >= 2.3. Please "
                  f"use `{new_api}` instead; see the PyTorch 2.0 release notes and/or the `torch.func` migration guide "
                  f"for more details https://pytorch.org/docs/main/func.migrating.html", FutureWarning, stacklevel=3)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``torch.vmap``, with functorch's deprecation warning."""
    _warn_deprecated("vmap", "torch.vmap")
    return _func.vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


def grad(func, argnums=0, has_aux=False):
    """``torch.func.grad``, with functorch's deprecation warning."""
    _warn_deprecated("grad")
    return _func.grad(func, argnums, has_aux)


def grad_and_value(func, argnums=0, has_aux=False):
    """``torch.func.grad_and_value``, with functorch's deprecation warning."""
    _warn_deprecated("grad_and_value")
    return _func.grad_and_value(func, argnums, has_aux)


def vjp(func, *primals, has_aux=False):
    """``torch.func.vjp``, with functorch's deprecation warning."""
    _warn_deprecated("vjp")
    return _func.vjp(func, *primals, has_aux=has_aux)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``torch.func.jvp``, with functorch's deprecation warning."""
    _warn_deprecated("jvp")
    return _func.jvp(func, primals, tangents, strict=strict, has_aux=has_aux)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """``torch.func.jacrev``, with functorch's deprecation warning."""
    _warn_deprecated("jacrev")
    return _func.jacrev(func, argnums, has_aux=has_aux, chunk_size=chunk_size,
                        _preallocate_and_copy=_preallocate_and_copy)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """``torch.func.jacfwd``, with functorch's deprecation warning."""
    _warn_deprecated("jacfwd")
    return _func.jacfwd(func, argnums, has_aux, randomness=randomness)


def hessian(func, argnums=0):
    """``torch.func.hessian``, with functorch's deprecation warning."""
    _warn_deprecated("hessian")
    return _func.hessian(func, argnums=argnums)


def functionalize(func, *, remove="mutations"):
    """``torch.func.functionalize``, with functorch's deprecation warning."""
    _warn_deprecated("functionalize")
    return _func.functionalize(func, remove=remove)


class FunctionalModule(nn.Module):
    """What ``make_functional`` returns: ``func(params, *args)`` runs the model's copy with ``params`` (in the order
    of its unique ``named_parameters``)."""

    def __init__(self, stateless_model, param_names, names_map):
        super().__init__()
        self.stateless_model = stateless_model
        self.param_names = param_names
        self.names_map = names_map

    @staticmethod
    def _create_from(model, disable_autograd_tracking=False):
        model_copy = copy.deepcopy(model)
        names, params = _unique(model_copy.named_parameters())
        if disable_autograd_tracking:
            for param in params:
                param.requires_grad_(False)
        return FunctionalModule(model_copy, names, _names_map(model_copy.named_parameters)), params

    def forward(self, params, *args, **kwargs):
        return _func.functional_call(self.stateless_model, dict(zip(self.param_names, params)), args, kwargs)


class FunctionalModuleWithBuffers(nn.Module):
    """What ``make_functional_with_buffers`` returns: ``func(params, buffers, *args)`` runs the model's copy with
    them."""

    def __init__(self, stateless_model, param_names, buffer_names, param_names_map, buffer_names_map):
        super().__init__()
        self.stateless_model = stateless_model
        self.param_names = param_names
        self.buffer_names = buffer_names
        self.all_names_map = dict(param_names_map)
        self.all_names_map.update(buffer_names_map)

    @staticmethod
    def _create_from(model, disable_autograd_tracking=False):
        model_copy = copy.deepcopy(model)
        param_names, params = _unique(model_copy.named_parameters())
        buffer_names, buffers = _unique(model_copy.named_buffers())
        if disable_autograd_tracking:
            for param in params:
                param.requires_grad_(False)
        module = FunctionalModuleWithBuffers(model_copy, param_names, buffer_names,
                                             _names_map(model_copy.named_parameters),
                                             _names_map(model_copy.named_buffers))
        return module, params, buffers

    def forward(self, params, buffers, *args, **kwargs):
        state = dict(zip(self.param_names, params))
        state.update(zip(self.buffer_names, buffers))
        return _func.functional_call(self.stateless_model, state, args, kwargs)


def _unique(named):
    pairs = tuple(named)
    return (tuple(n for n, _ in pairs), tuple(t for _, t in pairs)) if pairs else ((), ())


def _names_map(named_members):
    """Each unique member's name -> every name it has in the module (tied members have several)."""
    first = {}
    names = {}
    for name, tensor in named_members(remove_duplicate=False):
        names.setdefault(first.setdefault(id(tensor), name), []).append(name)
    return names


def make_functional(model, disable_autograd_tracking=False):
    """(func, params) for a model without buffers: ``func(params, *args)`` calls a copy of ``model`` with
    ``params`` (deprecated: use ``torch.func.functional_call``)."""
    _warn_deprecated("make_functional", "torch.func.functional_call")
    if len(list(model.buffers())) > 0:
        raise RuntimeError("make_functional(model): `model` has buffers. Please use "
                           "make_functional_with_buffers(model) instead.")
    return FunctionalModule._create_from(model, disable_autograd_tracking=disable_autograd_tracking)


def make_functional_with_buffers(model, disable_autograd_tracking=False):
    """(func, params, buffers): ``func(params, buffers, *args)`` calls a copy of ``model`` with them (deprecated: use
    ``torch.func.functional_call``)."""
    _warn_deprecated("make_functional_with_buffers", "torch.func.functional_call")
    return FunctionalModuleWithBuffers._create_from(model, disable_autograd_tracking=disable_autograd_tracking)


def combine_state_for_ensemble(models):
    """(func, params, buffers) for ``vmap``-ing one of ``models`` over all their parameters and buffers, stacked along
    a new first dim (deprecated: use ``torch.func.stack_module_state``)."""
    _warn_deprecated("combine_state_for_ensemble", "torch.func.stack_module_state")
    from .. import stack
    if len(models) == 0:
        raise RuntimeError("combine_state_for_ensemble: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("combine_state_for_ensemble: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("combine_state_for_ensemble: Expected all models to be of the same class.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        funcs, params, buffers = zip(*[make_functional_with_buffers(model) for model in models])
    params = tuple(stack(shards).detach() for shards in zip(*params))
    buffers = tuple(stack(shards).detach() for shards in zip(*buffers))
    return funcs[0], params, buffers
