"""A module's full backward hooks: the pre-hooks get the gradients of its outputs, the hooks those of its inputs,
packed as PyTorch packs them (one entry per argument or output; None where there is no tensor)."""
import os
import sys
import warnings

from ..._tensor import Tensor
from ...autograd.function import Function


class _BackwardHook(Function):
    """Identity on a group of tensors whose backward hands their gradients to a callback."""

    @staticmethod
    def forward(ctx, callback, materialize, *tensors):
        ctx.callback = callback
        ctx.set_materialize_grads(materialize)
        return tuple(t.detach() for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None, None) + tuple(ctx.callback(grads))


class BackwardHookState:
    """One call's backward hooks (PyTorch takes them when forward runs): ``pre_hooks(module, grad_output)`` and
    ``hooks(module, grad_input, grad_output)``, each of which may return replacements."""

    def __init__(self, module, pre_hooks, hooks):
        self.module, self.pre_hooks, self.hooks = module, pre_hooks, hooks
        self.grad_outputs = None
        self.inputs = ()
        self.input_positions = []
        self.output_positions = []
        self.n_outputs = 1

    def wrap_inputs(self, args):
        """``args`` with the tensors that require grad passed through the hook's identity."""
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.inputs, self.input_positions = args, positions
        if not positions:
            return args
        wrapped = _BackwardHook.apply(self._on_input_grads, True, *(args[i] for i in positions))
        args = list(args)
        for i, w in zip(positions, wrapped if isinstance(wrapped, tuple) else (wrapped,)):
            args[i] = w
        return tuple(args)

    def wrap_outputs(self, output):
        """``output`` (a tensor or a tuple of values) with its tensors that require grad passed through the hook's
        identity; PyTorch leaves other outputs (a list too) alone, with a warning."""
        single = isinstance(output, Tensor)
        if not (single or isinstance(output, tuple)):
            warnings.warn("For backward hooks to be called, module output should be a Tensor or a tuple of Tensors "
                          f"but received {type(output)}", stacklevel=_outside_ember())
            return output
        outputs = (output,) if single else output
        positions = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return output
        self.output_positions, self.n_outputs = positions, len(outputs)
        wrapped = _BackwardHook.apply(self._on_output_grads, False, *(outputs[i] for i in positions))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        outputs = list(outputs)
        for i, w in zip(positions, wrapped):
            outputs[i] = w
        if single:
            return outputs[0]
        return tuple(outputs) if type(output) is tuple else type(output)(*outputs)   # a namedtuple, as PyTorch

    def _on_output_grads(self, grads):
        given = dict(zip(self.output_positions, grads))
        packed = tuple(given.get(i) for i in range(self.n_outputs))   # None for an output unused or not a tensor
        for hook in self.pre_hooks:
            packed = _replaced(packed, hook(self.module, packed), "Backward pre hook", "grad_output")
        self.grad_outputs = packed
        if not self.input_positions:
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
                          "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.",
                          UserWarning, stacklevel=_outside_ember())
            nothing = (None,) * len(self.inputs)
            for hook in self.hooks:
                result = hook(self.module, nothing, packed)
                if result is not None and not (isinstance(result, tuple) and all(g is None for g in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
        return tuple(packed[i] for i in self.output_positions)

    def _on_input_grads(self, grads):
        if self.grad_outputs is None:   # the gradient reached the inputs without passing through the outputs
            return grads
        given = dict(zip(self.input_positions, grads))
        packed = tuple(given[i] if i in given else a.detach().new_zeros(a.shape) if isinstance(a, Tensor) else None
                       for i, a in enumerate(self.inputs))   # PyTorch's zeros for a tensor that needs no grad
        for hook in self.hooks:
            packed = _replaced(packed, hook(self.module, packed, self.grad_outputs), "Backward hook", "grad_input")
        self.inputs, self.grad_outputs = (), None
        return tuple(packed[i] for i in self.input_positions)


def _replaced(grads, result, what, name):
    """A hook's ``result`` in place of ``grads`` (None keeps them), of the same length."""
    if result is None:
        return grads
    result = tuple(result)
    if len(result) != len(grads):
        raise RuntimeError(f"{what} returned an invalid number of {name}, got {len(result)}, but expected "
                           f"{len(grads)}")
    return result


def _outside_ember():
    """The stacklevel of the first frame outside ember (the user's ``backward()`` call, where PyTorch's warnings
    from inside the engine point)."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(_EMBER_DIR):
        frame, level = frame.f_back, level + 1
    return level


_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep
