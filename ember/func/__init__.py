"""``ember.func``: composable function transforms as ``torch.func`` — grad, grad_and_value, vjp, jvp, linearize,
jacrev, jacfwd, hessian, functional_call, functionalize and vmap — built on ember's autograd (nested transforms
compose through higher-order gradients)."""
from ._functionalize import debug_unwrap, functionalize
from ._functional_call import functional_call, replace_all_batch_norm_modules_, stack_module_state
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from ._vmap import vmap

__all__ = ["debug_unwrap", "functional_call", "functionalize", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev",
           "jvp", "linearize", "replace_all_batch_norm_modules_", "stack_module_state", "vjp", "vmap"]
