"""The Autograd kernel of an operator with ``register_autograd`` (and of every ``custom_op``): the op runs below
autograd inside an ``autograd.Function`` that ember's dispatch point records, whose backward is the registered
one (or raises PyTorch's error when none is). Lists of tensors are flattened into the Function's inputs."""
from .._tensor import Tensor
from ..autograd.function import Function
from ._dispatch import below_autograd, requires_grad


class _Metadata:
    """The Function's last input: keyword-only arguments, the structure of the inputs, and (after forward) of
    the outputs."""

    def __init__(self, kwargs, flat, input_spec, gradient_spec):
        self.kwargs, self.input_spec, self.gradient_spec = kwargs, input_spec, gradient_spec
        self.is_tensor = [isinstance(v, Tensor) for v in flat]
        self.output_spec = self.single = None


def _not_list_of_tensor(tree):
    """PyTorch's leaf rule for a custom op's inputs and outputs: a list is spread out when it holds only tensors."""
    if isinstance(tree, tuple):
        return False
    if isinstance(tree, list):
        return any(not isinstance(t, Tensor) for t in tree)
    return True


def _not_list_of_optional_tensor(tree):
    """The same rule for gradients, where None stands for a zero gradient."""
    if isinstance(tree, tuple):
        return False
    if isinstance(tree, list):
        return any(t is not None and not isinstance(t, Tensor) for t in tree)
    return True


def fill_defaults(schema, args, kwargs):
    """The call's arguments with every omitted default filled in: positional ones, and keyword-only ones."""
    args, kwargs = list(args), dict(kwargs)
    for i, arg in enumerate(schema.arguments):
        if arg.kwarg_only:
            kwargs.setdefault(arg.name, arg.default_value)
        elif i >= len(args):
            args.append(arg.default_value)
    return tuple(args), kwargs


def make_autograd_impl(op, info):
    """The Autograd kernel of ``op``; ``info`` holds ``_backward_fn`` and ``_setup_context_fn`` (read at each
    call, so registering later takes effect)."""
    from ..utils._pytree import tree_flatten, tree_unflatten   # ember.utils loads the data stack: on first use
    name = f"GeneratedBackwardFor_{op.namespace}_{op._opname}_{op._overloadname}"
    schema = op._schema
    has_kwarg_only = any(a.kwarg_only for a in schema.arguments)
    has_tensor_lists = any(a.is_tensor_like and a.is_list for a in (*schema.arguments, *schema.returns))

    def forward(ctx, *flat):
        metadata = ctx._library_metadata = flat[-1]
        args = tree_unflatten(list(flat[:-1]), metadata.input_spec)
        result = below_autograd(op, args, metadata.kwargs)
        if info._setup_context_fn:
            inputs, kwargs = fill_defaults(schema, args, metadata.kwargs)
            if has_kwarg_only:
                info._setup_context_fn(ctx=ctx, inputs=inputs, keyword_only_inputs=kwargs, output=result)
            else:
                info._setup_context_fn(ctx=ctx, inputs=inputs, output=result)
        metadata.single = not isinstance(result, tuple)
        flat_outputs, metadata.output_spec = tree_flatten((result,) if metadata.single else result,
                                                          is_leaf=_not_list_of_tensor)
        return tuple(flat_outputs) if len(flat_outputs) != 1 else flat_outputs[0]

    def backward(ctx, *grads):
        if not info._backward_fn:
            raise RuntimeError(f"Trying to backward through {op} but no autograd formula was registered. Please "
                               f"use register_autograd to add one.")
        metadata = ctx._library_metadata
        previous = ctx.needs_input_grad
        ctx.needs_input_grad = tree_unflatten(list(previous[:-1]), metadata.input_spec)
        try:
            result = info._backward_fn(ctx, *tree_unflatten(list(grads), metadata.output_spec))
        finally:
            ctx.needs_input_grad = previous
        result = result if isinstance(result, tuple) else (result,)
        if has_tensor_lists:
            flat, spec = tree_flatten((*result, None), is_leaf=_not_list_of_optional_tensor)
            if spec != metadata.gradient_spec:
                raise RuntimeError(f"Expected the return from backward to be of the same structure as the inputs. "
                                   f"Got: {spec} (return from backward), {metadata.gradient_spec} (inputs)")
            result = flat[:-1]
        for i, grad in enumerate(result):
            if grad is not None and (i >= len(metadata.is_tensor) or not metadata.is_tensor[i]):
                raise RuntimeError(f"function {name}Backward returned a gradient different than None at position "
                                   f"{i + 1}, but the corresponding forward input was not a Variable")
        return (*result[:len(metadata.is_tensor)], None)

    generated = type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward),
                                         "__module__": __name__})

    def autograd_impl(*args, **kwargs):
        if not requires_grad(args, {}):
            return below_autograd(op, args, kwargs)
        flat, spec = tree_flatten(args, is_leaf=_not_list_of_tensor)
        # gradient_spec: what backward's gradients (and a None for the metadata) must look like, as PyTorch checks
        metadata = _Metadata(kwargs, flat, spec, tree_flatten((*args, None), is_leaf=_not_list_of_tensor)[1])
        result = generated.apply(*flat, metadata)
        outputs = tree_unflatten(list(result) if isinstance(result, tuple) else [result], metadata.output_spec)
        return outputs[0] if metadata.single else outputs
    return autograd_impl
