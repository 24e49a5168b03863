"""The Autograd kernel of an operator with ``register_autograd`` (and of every ``custom_op``): the op runs below
autograd inside an ``autograd.Function`` that ember's dispatch point records, whose backward is the registered
one (or raises PyTorch's error when none is). Lists of tensors are flattened into the Function's inputs."""
from .._tensor import Tensor
from ..autograd.function import Function
from ._dispatch import below_autograd, requires_grad


class _Metadata:
    """The Function's last input: keyword-only arguments, the list structure of the inputs, and (after
    forward) of the outputs."""

    def __init__(self, kwargs, input_spec, is_tensor):
        self.kwargs, self.input_spec, self.is_tensor = kwargs, input_spec, is_tensor
        self.output_spec = self.single = None


def _flatten(values):
    """Values with lists of tensors spread out, and the spec (None, or a list's length, per value) to undo it."""
    flat, spec = [], []
    for value in values:
        if isinstance(value, list) and any(isinstance(v, Tensor) for v in value):
            flat.extend(value)
            spec.append(len(value))
        else:
            flat.append(value)
            spec.append(None)
    return flat, spec


def _unflatten(flat, spec):
    values, i = [], 0
    for length in spec:
        if length is None:
            values.append(flat[i])
            i += 1
        else:
            values.append(list(flat[i:i + length]))
            i += length
    return values


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
    name = f"GeneratedBackwardFor_{op.namespace}_{op._opname}_{op._overloadname}"
    schema = op._schema
    has_kwarg_only = any(a.kwarg_only for a in schema.arguments)

    def forward(ctx, *flat):
        metadata = ctx._library_metadata = flat[-1]
        args = tuple(_unflatten(flat[:-1], metadata.input_spec))
        result = below_autograd(op, args, metadata.kwargs)
        if info._setup_context_fn:
            inputs, kwargs = fill_defaults(schema, args, metadata.kwargs)
            if has_kwarg_only:
                info._setup_context_fn(ctx=ctx, inputs=inputs, keyword_only_inputs=kwargs, output=result)
            else:
                info._setup_context_fn(ctx=ctx, inputs=inputs, output=result)
        outputs = result if isinstance(result, tuple) else (result,)
        flat_outputs, metadata.output_spec = _flatten(outputs)
        metadata.single = not isinstance(result, tuple)
        return tuple(flat_outputs) if len(flat_outputs) != 1 else flat_outputs[0]

    def backward(ctx, *grads):
        if not info._backward_fn:
            raise RuntimeError(f"Trying to backward through {op} but no autograd formula was registered. Please "
                               f"use register_autograd to add one.")
        metadata = ctx._library_metadata
        grads = _unflatten(grads, metadata.output_spec)
        previous = ctx.needs_input_grad
        ctx.needs_input_grad = tuple(_unflatten(previous[:-1], metadata.input_spec))
        try:
            result = info._backward_fn(ctx, *grads)
        finally:
            ctx.needs_input_grad = previous
        flat, _ = _flatten(result if isinstance(result, tuple) else (result,))
        for i, grad in enumerate(flat):
            if grad is not None and (i >= len(metadata.is_tensor) or not metadata.is_tensor[i]):
                raise RuntimeError(f"function {name}Backward returned a gradient different than None at position "
                                   f"{i + 1}, but the corresponding forward input was not a Variable")
        return (*flat[:len(metadata.is_tensor)], None)

    generated = type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward),
                                         "__module__": __name__})

    def autograd_impl(*args, **kwargs):
        if not requires_grad(args, {}):
            return below_autograd(op, args, kwargs)
        flat, spec = _flatten(args)
        metadata = _Metadata(kwargs, spec, [isinstance(v, Tensor) for v in flat])
        result = generated.apply(*flat, metadata)
        outputs = _unflatten(result if isinstance(result, tuple) else (result,), metadata.output_spec)
        return outputs[0] if metadata.single else tuple(outputs)
    return autograd_impl
