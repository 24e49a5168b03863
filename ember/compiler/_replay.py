"""Replay: a captured Program turned into flat lists of array kernels over one value list, and the single autograd
node a compiled forward records, whose backward runs the forward's own nodes (``_array_backward``, their contexts
kept in slots past the program's) or the captured backward program.

Each primitive step calls the op's own ``forward(ctx, *arrays)`` with a fresh ctx (so the same kernels run as in
eager ember, bit for bit), then exports into slots what that ctx kept for the backward program. Random fills call
the same Tensor method on the slot's array, so the generator's stream advances exactly as in eager code.
"""
import operator

import numpy

from .._tensor import Tensor, _make, _wrap
from ..ops import _buffers
from . import _array_backward, _capture
from ..autograd.function import Node, _as_array, _edge
from ..autograd.grad_mode import no_grad, state

_ndarray = numpy.ndarray


def _arguments(specs, kwspecs, convert, constant=None):
    """``fill(env) -> (args, kwargs)`` for an op's recorded argument specs; ``convert`` turns a slot's value into
    the argument (``_wrap`` for an array as a tensor, or nothing); ``constant`` a constant's."""
    constant = constant or _same
    specs = [("const", constant(spec[1])) if spec[0] == "const" else spec for spec in specs]
    kwspecs = {name: ("const", constant(spec[1])) if spec[0] == "const" else spec for name, spec in kwspecs.items()}
    template = [spec[-1] for spec in specs]
    fill = tuple((i, spec[1]) for i, spec in enumerate(specs) if spec[0] == "slot")
    sequences = tuple((i, spec) for i, spec in enumerate(specs) if spec[0] == "seq")
    keywords = {name: spec[1] for name, spec in kwspecs.items() if spec[0] == "const"}
    keyword_slots = tuple((name, spec) for name, spec in kwspecs.items() if spec[0] != "const")
    if sequences or any(spec[0] == "seq" for _, spec in keyword_slots):
        def arguments(env):
            return ([_resolve(spec, env, convert) for spec in specs],
                    {name: _resolve(spec, env, convert) for name, spec in kwspecs.items()})
        return arguments
    keyword_slots = tuple((name, spec[1]) for name, spec in keyword_slots)

    def arguments(env):
        args = template[:]
        for i, slot in fill:
            args[i] = convert(env[slot])
        kw = keywords
        if keyword_slots:
            kw = dict(keywords)
            for name, slot in keyword_slots:
                kw[name] = convert(env[slot])
        return args, kw
    return arguments


def _tape_arguments(specs, kwspecs):
    """``fill(env) -> (args, kwargs)`` for a replay through autograd: a slot's tensor is passed detached where the
    recorded argument took no gradient (``detach()``, ``.data``, made under ``no_grad``), so that gradients flow
    only where they did when recorded."""
    def arguments(env):
        return ([_resolve(spec, env, _same, True) for spec in specs],
                {name: _resolve(spec, env, _same, True) for name, spec in kwspecs.items()})
    return arguments


def _resolve(spec, env, convert, detach=False):
    kind = spec[0]
    if kind == "slot":
        value = convert(env[spec[1]])
        if detach and len(spec) > 2 and spec[2] and isinstance(value, Tensor) and value.requires_grad:
            return value.detach()
        return value
    if kind == "seq":
        return spec[1](_resolve(item, env, convert, detach) for item in spec[2])
    return spec[1]


def _composite_kernel(step, tape):
    """A composite op recorded whole: its Python code runs again on tensors (through autograd in a tape)."""
    _, cls, specs, kwspecs, outs, multiple = step
    arguments = _tape_arguments(specs, kwspecs) if tape else _arguments(specs, kwspecs, _wrap)
    apply = cls._apply

    def run(env):
        args, kw = arguments(env)
        result = apply(args, kw)
        results = result if multiple else (result,)
        for slot, tensor in zip(outs, results):
            env[slot] = tensor if tape else tensor._data
    return run


def _same(value):
    return value


def _array(value):
    return value._data if isinstance(value, Tensor) else value


def _slots_of(specs, constants):
    """The slot of each argument, each constant given a slot of its own, filled once (``constants``: the list of
    (slot, value) to fill, whose first entry's slot is the first constant's); None where an argument is a
    sequence."""
    if any(spec[0] not in ("slot", "const") for spec in specs):
        return None
    slots = []
    for spec in specs:
        if spec[0] == "const":
            constants.append((constants[0][0] + len(constants) - 1, _array(spec[1])))
            slots.append(constants[-1][0])
        else:
            slots.append(spec[1])
    return tuple(slots)


def _kernel(step, ctx_slot=None, constants=None):
    """One step of a program as ``run(env)``; a primitive's ctx is kept in ``env[ctx_slot]`` when given, and its
    constant arguments in slots of their own where ``constants`` is given (see ``_slots_of``)."""
    kind = step[0]
    if kind == "composite":
        return _composite_kernel(step, False)
    if kind == "primitive":
        _, cls, specs, kwspecs, needs, outs, multiple, exports, _ = step
        forward, node_cls, out = cls.forward, cls._node_cls, outs[0]
        saved = tuple((k, slot) for k, name, slot in exports if k is not None)
        attributes = tuple((name, slot) for k, name, slot in exports if k is None)
        if constants is not None and not (multiple or saved or attributes or kwspecs):
            slots = _slots_of(specs, constants)
            if slots is not None:
                return _plain_kernel(forward, node_cls, needs, slots, out, ctx_slot)
        arguments = _arguments(specs, kwspecs, _same, _array)

        def run(env):
            args, kw = arguments(env)
            ctx = node_cls()
            ctx.needs_input_grad = needs
            result = forward(ctx, *args, **kw)
            if multiple:
                for slot, array in zip(outs, result):
                    env[slot] = array if type(array) is numpy.ndarray else _as_array(array, ctx.xp)
            else:
                env[out] = result if type(result) is numpy.ndarray else _as_array(result, ctx.xp)
            for k, slot in saved:
                value = ctx._saved[k]
                env[slot] = value if type(value) is numpy.ndarray else _as_array(value, ctx.xp)
            for name, slot in attributes:
                value = getattr(ctx, name)
                env[slot] = value._data if isinstance(value, Tensor) else value
            if ctx_slot is not None:
                env[ctx_slot] = _array_backward.keep(ctx)
        return run
    if kind == "create":   # from the buffer pool: a fresh large array faults its pages in at every run
        _, shape, fill, dtype, slot = step
        if fill is None:
            def run(env):
                env[slot] = _buffers.empty(numpy, shape, dtype)
        else:
            def run(env):
                array = env[slot] = _buffers.empty(numpy, shape, dtype)
                with numpy.errstate(over="ignore", invalid="ignore"):
                    numpy.copyto(array, fill, casting="unsafe")   # as numpy.full fills
        return run
    if kind == "fill":
        _, name, slot, args, kwargs = step
        method = getattr(Tensor, name)

        def run(env):
            with no_grad():
                method(_wrap(env[slot]), *args, **kwargs)
        return run
    _, target, (source_kind, source) = step   # "write": an in-place write into the target's memory
    if source_kind == "slot":
        def run(env):
            env[target][...] = env[source]
    else:
        source = source._data if isinstance(source, Tensor) else source

        def run(env):
            env[target][...] = source
    return run


def _plain_kernel(forward, node_cls, needs, slots, out, ctx_slot):
    """A primitive step of one output, no keywords, whose arguments are all slots (``_slots_of``) and whose ctx
    exports nothing: the arguments read by one ``itemgetter`` (the common step)."""
    get = operator.itemgetter(*slots) if len(slots) > 1 else None
    first = slots[0] if slots else None
    keep = _array_backward.keep

    def run(env):
        ctx = node_cls()
        ctx.needs_input_grad = needs
        result = forward(ctx, *get(env)) if get is not None else forward(ctx, env[first]) if slots else forward(ctx)
        env[out] = result if type(result) is _ndarray else _as_array(result, ctx.xp)
        if ctx_slot is not None:
            env[ctx_slot] = keep(ctx)
    return run


def _tape_kernel(step):
    """One step of a forward program as ``run(env)`` on tensors, through autograd (each op records its node)."""
    kind = step[0]
    if kind == "composite":
        return _composite_kernel(step, True)
    if kind == "primitive":
        _, cls, specs, kwspecs, _, outs, multiple, _, _ = step
        arguments = _tape_arguments(specs, kwspecs)
        apply, out = cls._apply, outs[0]

        def run(env):
            args, kw = arguments(env)
            result = apply(args, kw)
            if multiple:
                for slot, tensor in zip(outs, result):
                    env[slot] = tensor
            else:
                env[out] = result
        return run
    if kind == "create":
        create = _kernel(step)
        slot = step[4]

        def run(env):
            create(env)
            env[slot] = _make(env[slot])
        return run
    if kind == "fill":
        _, name, slot, args, kwargs = step
        method = getattr(Tensor, name)

        def run(env):
            method(env[slot], *args, **kwargs)
        return run
    from ..ops._inplace import assign_inplace
    _, target, (source_kind, source) = step

    def run(env):
        assign_inplace(env[target], env[source] if source_kind == "slot" else source)
    return run


class Executable:
    """A Program ready to run: kernels for both directions, and the slots each side reads."""

    def __init__(self, program):
        self.program = program
        self.tape = program.tape is not None
        self.plan = program.array_plan
        self.size = program.size
        if self.tape:
            self.forward = [_tape_kernel(step) for step in program.forward]
        else:   # with a plan, each node's ctx is kept in a slot past the program's, and constants past those
            contexts = 0 if self.plan is None else len(self.plan.nodes)
            ctx_slots = {} if self.plan is None else {node[0]: self.size + k for k, node in enumerate(self.plan.nodes)}
            constants = [(self.size + contexts, None)]   # a marker: the first constant's slot
            self.forward = [_kernel(step, ctx_slots.get(index), constants)
                            for index, step in enumerate(program.forward)]
            self.template = [None] * (self.size + contexts) + [value for _, value in constants[1:]]
            self.contexts = slice(self.size, self.size + contexts)
        self.backward = None if program.backward is None else [_kernel(step) for step in program.backward]
        self.release = _last_uses(program, program.tape is not None)
        self.parameters = program.parameters
        self.inputs = program.inputs
        self.checks = list(program.checks.values())
        self.meta = None   # the compiled node's input and output metadata, from the first run

    def run(self, tensors):
        """Runs the forward on ``tensors`` (flattened tensor inputs); returns the output tensors, flattened."""
        program = self.program
        if self.tape:
            return self._run_tape(tensors)
        env = self.template[:]
        for slot, t in zip(self.inputs, tensors):
            env[slot] = t._data
        for slot, p in self.parameters:
            env[slot] = p._data
        with no_grad():
            for kernel, done in zip(self.forward, self.release):
                kernel(env)
                for slot in done:
                    env[slot] = None
        for t in program.written:
            t._version_counter[0] += 1
        wrapped = {}   # an output returned twice is one tensor, as in eager code (a detached copy apart)
        for key in zip(program.output_slots, program.output_detached):
            if key not in wrapped:
                wrapped[key] = _wrap(env[key[0]])
        outputs = [wrapped[key] for key in zip(program.output_slots, program.output_detached)]
        if self.backward is None and self.plan is None:
            return outputs
        wanted = [tensors[i] if kind == "input" else self.parameters[i][1] for kind, i in program.wanted]
        node = CompiledFunctionBackward()
        node._executable = self
        if self.plan is None:
            node._kept = [(slot, env[slot]) for slot in program.keep]
        else:
            node._kept = env[self.contexts]   # the nodes' contexts
        node._edges = [_edge(t) for t in wanted]
        grad_in = program.grad_in
        if self.meta is None:   # shapes and dtypes are part of the guard key: the same at every run
            self.meta = ([(t._data.shape, t._data.dtype) for t in wanted], (True,) * len(wanted),
                         [(outputs[leaf]._data.shape, outputs[leaf]._data.dtype) for leaf, _ in grad_in])
        node._input_meta, node.needs_input_grad, node._output_meta = self.meta
        node._num_outputs = len(grad_in)
        node._saved = ()   # released by a backward without retain_graph
        for nr, (leaf, _) in enumerate(grad_in):
            tensor = outputs[leaf]
            tensor.requires_grad, tensor.grad_fn = True, node
            if nr:
                tensor._output_nr = nr
        return outputs


    def _run_tape(self, tensors):
        env = [None] * self.size
        for slot, t in zip(self.inputs, tensors):
            env[slot] = t
        for slot, p in self.parameters:
            env[slot] = p
        for kernel, done in zip(self.forward, self.release):
            kernel(env)
            for slot in done:
                env[slot] = None
        return [env[slot].detach() if detached and env[slot].requires_grad else env[slot]
                for slot, detached in zip(self.program.output_slots, self.program.output_detached)]


def _last_uses(program, tape):
    """Per forward step, the slots it is the last to read or (never read) writes: dropped from the value list once
    it has run, so that an intermediate array is freed where eager code frees it (and the buffer pool can hand it
    out again in the same step). Inputs, parameters, outputs and what the backward program reads stay."""
    kept = set(program.output_slots) | set(program.inputs) | {slot for slot, _ in program.parameters}
    if not tape:
        kept |= set(program.keep)
    last = {}
    for index, step in enumerate(program.forward):
        for slot in _capture.outputs_of(step) + _capture.inputs_of(step):
            last[slot] = index
    release = [[] for _ in program.forward]
    for slot, index in last.items():
        if slot not in kept:
            release[index].append(slot)
    return release


class CompiledFunction:
    """Stands in for the ``_function`` of the compiled forward's node: its backward runs the captured program."""

    _array_level = False

    @staticmethod
    def backward(node, *grads):
        if state.enabled:
            _kept(node)
            raise RuntimeError("torch.compile with aot_autograd does not currently support double backward")
        return tuple(None if g is None else _make(g) for g in _gradients(node, [g._data for g in grads]))

    @staticmethod
    def array_backward(node, grad):
        """``backward`` on arrays, where the compiled forward has one differentiable output (the engine's path
        without ``create_graph``): the gradients stay arrays into the parameters' ``.grad``."""
        return _gradients(node, [grad])


def _kept(node):
    """The node's kept arrays or contexts; raises PyTorch's error after a backward has freed them."""
    kept = node._kept
    if kept is None:
        raise RuntimeError(
            "Trying to backward through the graph a second time (or directly access saved tensors after they "
            "have already been freed). Saved intermediate values of the graph are freed when you call "
            ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
            "graph a second time or if you need to access saved tensors after calling backward.")
    return kept


def _gradients(node, grads):
    """The compiled backward: the wanted gradients as arrays (or None) from the outputs' gradient arrays."""
    kept = _kept(node)
    executable = node._executable
    if executable.plan is not None:
        return _array_backward.run(executable.plan, kept, grads)
    program = executable.program
    env = [None] * executable.size
    for slot, array in kept:
        env[slot] = array
    for (_, slot), g in zip(program.grad_in, grads):
        env[slot] = g
    with no_grad():
        for kernel in executable.backward:
            kernel(env)
    return tuple(None if slot is None else env[slot] for slot in program.grad_out)


class CompiledFunctionBackward(Node):
    """The one node a compiled forward records (PyTorch's is ``CompiledFunctionBackward``)."""

    _function = CompiledFunction
    _backward_on_arrays = True   # with one output, the engine hands its gradient over as an array
    _kept = None

    def _release(self):
        self._kept, self._saved = None, None
