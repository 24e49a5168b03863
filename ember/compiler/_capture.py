"""Capture: runs a forward once eagerly with a hook at the single dispatch point and records it as a flat program
of array kernels (each primitive's own ``forward`` on slots of one value list), then drives autograd's engine over
the recorded graph with the same hook to record the backward as a second program.

Every array a step reads must have a known provenance: an input, a parameter or buffer (read at each run), the
output of an earlier step, something a forward step's ctx kept for its backward (re-exported at each run), a tensor
created by a recorded factory or random fill, or a tensor that existed before the call (a constant). Anything else
was computed outside the recorded ops, so the capture is refused (``Unsupported``) and the call runs eagerly; so is
a Python value read out of a traced tensor (``.item()``, ``bool()``: data-dependent control flow), an in-place write
into an input, a random draw outside a recorded fill, user ``autograd.Function``s and hooks.
"""
import numpy

from .. import _dynamo
from . import _array_backward, _guards
from .._tensor import Tensor, _make
from ..autograd import engine as _engine
from ..autograd import function as _function
from ..autograd.grad_mode import state
from ..ops import creation as _creation
from ..ops import random as _random

Unsupported = _dynamo.exc.Unsupported

_CONVERSIONS = ("__bool__", "__float__", "__int__", "__index__", "item", "tolist", "numpy")
_RANDOM_FILLS = ("bernoulli_", "uniform_", "normal_", "random_", "exponential_", "geometric_", "cauchy_",
                 "log_normal_")


class _Refused(Exception):
    """Raised inside the recorder when it stops recording; the op then runs eagerly."""


class Program:
    """What one capture produced: the forward steps, the backward steps (or None), and the slot bookkeeping."""

    def __init__(self):
        self.size = 0                # slots in the value list
        self.inputs = []             # slot per tensor input (flattened order)
        self.parameters = []         # (slot, tensor): module tensors, whose ``_data`` is read at every run
        self.forward = []            # steps: ("primitive" | "composite" | "create" | "fill" | "write", ...)
        self.outputs = None          # the output structure with slots for tensors
        self.output_slots = []       # flat slots of the tensor outputs
        self.output_detached = []    # per output: whether it took no gradient (a replay through autograd detaches it)
        self.backward = None         # steps of the backward program
        self.grad_in = []            # slot per differentiable output: its incoming gradient
        self.grad_out = []           # per wanted input (tensor inputs then parameters needing grad): slot or None
        self.wanted = []             # ("input", i) / ("parameter", i), the order of grad_out
        self.keep = ()               # slots the backward reads from the forward
        self.written = []            # module tensors written in place (their versions are bumped at each run)
        self.checks = {}             # id -> (read its place again, tensor) for each constant tensor read
        self.tape = None             # why the backward could not be captured: the forward then replays through
                                     # autograd, each op recording its node as in eager code
        self.array_plan = None       # the backward as the forward nodes' own backwards (_array_backward.Plan)


class Recorder:
    """The dispatch hook of one capture: maps live arrays (by identity, kept alive) to slots and appends steps."""

    def __init__(self, program, constants, fullgraph):
        self.program, self.fullgraph = program, fullgraph
        self.slots = {}              # id(array) -> slot
        self.alive = []              # every array seen, so ids stay unique during the capture
        self.constants = constants   # id -> getter of tensors that existed before the call (module attributes,
                                     # globals, closures)
        self.steps = program.forward
        self.phase = "forward"
        self.inside = 0              # > 0 inside a recorded random fill, whose own ops are not recorded
        self.protected = set()       # slots that must not be written in place (the inputs)
        self.reason = None
        self.composites = []         # per composite op being recorded: [first step, first slot, opaque]
        self.contexts = []           # the nodes the recorded forward made (a hook added later refuses the capture)

    def refuse(self, reason):
        """Stops recording: the call goes on eagerly (with fullgraph=True, raises Unsupported instead)."""
        if self.fullgraph:
            raise Unsupported(f"torch.compile(fullgraph=True) cannot capture this program: {reason}")
        if self.reason is None:
            self.reason = reason
        raise _Refused()

    def untracked(self, reason):
        """Something outside the recorded ops: inside a composite op, that op is recorded whole (an opaque step
        that reruns its Python code, draws and all); elsewhere the capture is refused."""
        if self.composites:
            self.composites[-1][2] = True
            raise _Refused()
        self.refuse(reason)

    def new_slot(self, array):
        slot = self.program.size
        self.program.size += 1
        self.slots[id(array)] = slot
        self.alive.append(array)
        return slot

    def argument(self, obj):
        """("slot", n) for an array, ("slot", n, took no gradient) for a tensor, ("const", obj) for anything else;
        refuses untracked arrays."""
        array = obj._data if isinstance(obj, Tensor) else obj if isinstance(obj, numpy.ndarray) else None
        if array is None:
            if type(obj) in (tuple, list) and _holds_arrays(obj):
                return ("seq", type(obj), tuple(self.argument(o) for o in obj))
            return ("const", obj)
        slot = self.slots.get(id(array))
        if slot is not None:   # a tensor also notes whether it took no gradient (detached, made under no_grad)
            return ("slot", slot, not obj.requires_grad) if isinstance(obj, Tensor) else ("slot", slot)
        if isinstance(obj, Tensor) and id(obj) in self.constants:
            self.program.checks[id(obj)] = (self.constants[id(obj)], obj)
            return ("const", obj)
        self.untracked(f"an array computed outside the recorded ops ({type(obj).__name__} of shape "
                    f"{tuple(array.shape)}) reached an op")

    # --- the dispatch hook ------------------------------------------------------------------------
    def hook(self, cls, args, kwargs, proceed):
        if self.inside or self.reason is not None or self.composites and self.composites[-1][2]:
            return proceed(args, kwargs)
        try:
            if cls.__name__ == "AssignInplace":
                return self._assign(args, kwargs, proceed)
            if issubclass(cls, _function.Composite):
                return self._composite(cls, args, kwargs, proceed)
            if not cls._array_level:
                self.refuse(f"a user autograd.Function ({cls.__name__})")
            specs = [self.argument(a) for a in args]
            kwspecs = {k: self.argument(v) for k, v in kwargs.items()}
        except _Refused:
            return proceed(args, kwargs)
        out = proceed(args, kwargs)
        try:
            self._record(cls, args, out, specs, kwspecs)
        except _Refused:
            pass
        return out

    def _composite(self, cls, args, kwargs, proceed):
        """Records the primitives inside a composite op, or the op whole when it computes outside them."""
        specs = [self.argument(a) for a in args]
        kwspecs = {k: self.argument(v) for k, v in kwargs.items()}
        frame = [len(self.steps), self.program.size, False]
        self.composites.append(frame)
        try:
            out = proceed(args, kwargs)
        finally:
            self.composites.pop()
        if frame[2] and self.reason is None:
            del self.steps[frame[0]:]
            self.slots = {k: v for k, v in self.slots.items() if v < frame[1]}
            outs = out if isinstance(out, tuple) else (out,)
            if not all(isinstance(o, Tensor) for o in outs):
                self.untracked(f"{cls.__name__} returned a non-tensor computed from tensors")
            self.steps.append(("composite", cls, specs, kwspecs, tuple(self.new_slot(o._data) for o in outs),
                               isinstance(out, tuple)))
        return out

    def _record(self, cls, args, out, specs, kwspecs):
        outs = out if isinstance(out, tuple) else (out,)
        ctx = None
        for o in outs:
            if isinstance(o, Tensor) and o.grad_fn is not None and o.grad_fn._function is cls:
                ctx = o.grad_fn
        needs = tuple(ctx.needs_input_grad) if ctx is not None else (False,) * len(args)
        out_slots = tuple(self.new_slot(o._data) for o in outs)
        exports, meta = [], None
        if ctx is not None and self.phase == "forward":
            meta = (ctx._input_meta, ctx._output_meta, ctx.materialize_grads, self._saved_slots(ctx))
            self.contexts.append(ctx)
            for k, entry in enumerate(ctx._saved or ()):
                if entry is not None and entry[0] in ("array", "value") and isinstance(entry[1], numpy.ndarray) \
                        and id(entry[1]) not in self.slots:
                    exports.append((k, None, self.new_slot(entry[1])))
            for name, value in vars(ctx).items():
                array = value._data if isinstance(value, Tensor) else value
                if isinstance(array, numpy.ndarray) and id(array) not in self.slots:
                    exports.append((None, name, self.new_slot(array)))
        self.steps.append(("primitive", cls, specs, kwspecs, needs, out_slots, isinstance(out, tuple), exports, meta))

    def _saved_slots(self, ctx):
        """The slots of the arrays a node saved (its inputs', its outputs'), which no in-place write may change."""
        slots = set()
        for entry in ctx._saved or ():
            if entry is None or entry[0] == "value":
                continue
            array = entry[1]._data if entry[0] == "tensor" else entry[1][1] if entry[0] == "output" else entry[1]
            slot = self.slots.get(id(array))
            if slot is not None:
                slots.add(slot)
        return frozenset(slots)

    def _assign(self, args, kwargs, proceed):
        target, result = args
        target_slot = self.slots.get(id(target._data))
        if target_slot is None:
            self.untracked("an in-place write into a tensor made outside the compiled region")
        if target_slot in self.protected:
            self.refuse("an in-place write into an input of the compiled region")
        value = self.argument(result)[:2]
        out = proceed(args, kwargs)
        try:
            if target._data is not out._data:
                self.refuse("an in-place write through a view of a tensor that requires grad")
        except _Refused:
            return out
        if value[0] != "slot" or value[1] != target_slot:
            self.steps.append(("write", target_slot, value))
        if any(slot == target_slot for slot, _ in self.program.parameters):
            self.program.written.append(target)
        return out

    # --- patched entry points while capturing ----------------------------------------------------
    def factory(self, original):
        def create(shape, fill, dtype, device, requires_grad, *layout):
            out = original(shape, fill, dtype, device, requires_grad, *layout)   # replayed row-major: same values
            if not self.inside and self.reason is None:
                self.steps.append(("create", tuple(int(s) for s in shape), fill, out._data.dtype,
                                   self.new_slot(out._data)))
            return out
        return create

    def random_fill(self, name, original):
        def fill(tensor, *args, **kwargs):
            if self.inside or self.reason is not None or self.composites and self.composites[-1][2]:
                return original(tensor, *args, **kwargs)
            try:
                if kwargs.get("generator") is not None:
                    self.refuse("a random fill from an explicit generator")
                spec = self.argument(tensor)
                if spec[0] != "slot" or spec[1] in self.protected:
                    self.refuse("a random fill of a tensor made outside the compiled region")
                values = [self.argument(a) for a in args] + [self.argument(v) for v in kwargs.values()]
                if any(value[0] == "slot" for value in values):
                    self.refuse("a random fill with tensor arguments")
            except _Refused:
                return original(tensor, *args, **kwargs)
            self.inside += 1
            try:
                out = original(tensor, *args, **kwargs)
            finally:
                self.inside -= 1
            self.steps.append(("fill", name, spec[1], args, kwargs))
            return out
        return fill

    def draw(self):
        if not self.inside and self.reason is None:
            try:
                self.untracked("a random draw outside a recorded random fill")
            except _Refused:
                pass

    def graph_break(self, reason):
        """Stops recording (a call the capture must not look into); with fullgraph=True, raises Unsupported."""
        if self.reason is None:
            try:
                self.refuse(reason)
            except _Refused:
                pass

    def conversion(self, name, original):
        def convert(tensor, *args, **kwargs):
            if id(tensor) not in self.constants and not self.inside and self.reason is None:
                try:
                    self.untracked(f"Tensor.{name}() reads a traced tensor's data into Python (data-dependent code)")
                except _Refused:
                    pass
            return original(tensor, *args, **kwargs)
        return convert


def _patches(recorder):
    """(owner, name, replacement) for everything patched while capturing."""
    patches = [(_creation, "_factory", recorder.factory(_creation._factory))]
    patches += [(Tensor, name, recorder.random_fill(name, Tensor.__dict__[name])) for name in _RANDOM_FILLS
                if name in Tensor.__dict__]
    patches += [(Tensor, name, recorder.conversion(name, Tensor.__dict__[name])) for name in _CONVERSIONS
                if name in Tensor.__dict__]
    return patches


_active = []


def active_recorder():
    """The recorder of the capture running now, or None."""
    return _active[-1] if _active else None


class _Patched:
    def __init__(self, recorder):
        self.recorder, self.saved = recorder, []

    def __enter__(self):
        for owner, name, replacement in _patches(self.recorder):
            self.saved.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)))
            setattr(owner, name, replacement)
        _random.draw_hooks.append(self.recorder.draw)
        _function.dispatch_hooks.append(self.recorder.hook)
        _active.append(self.recorder)
        return self.recorder

    def __exit__(self, *exc):
        _active.pop()
        _function.dispatch_hooks.remove(self.recorder.hook)
        _random.draw_hooks.remove(self.recorder.draw)
        for owner, name, original in reversed(self.saved):
            setattr(owner, name, original)


def _flatten(obj, leaves):
    """``obj`` (nested tuples/lists/dicts of tensors and other values) with each tensor replaced by its index in
    ``leaves``."""
    if isinstance(obj, Tensor):
        leaves.append(obj)
        return _Leaf(len(leaves) - 1)
    if isinstance(obj, (tuple, list)) and type(obj) in (tuple, list):
        return type(obj)(_flatten(o, leaves) for o in obj)
    if _guards.is_named_tuple(obj):   # built without its constructor, which may check its fields
        return tuple.__new__(type(obj), [_flatten(o, leaves) for o in obj])
    if isinstance(obj, dict) and type(obj) is dict:
        return {k: _flatten(v, leaves) for k, v in obj.items()}
    return obj


class _Leaf(int):
    """A tensor's position in a flattened structure."""


def rebuild(structure, leaves):
    """The structure ``_flatten`` made, with its tensors taken from ``leaves``."""
    if type(structure) is _Leaf:
        return leaves[structure]
    if type(structure) in (tuple, list):
        return type(structure)(rebuild(o, leaves) for o in structure)
    if _guards.is_named_tuple(structure):
        return tuple.__new__(type(structure), [rebuild(o, leaves) for o in structure])
    if type(structure) is dict:
        return {k: rebuild(v, leaves) for k, v in structure.items()}
    return structure


def capture(function, args, kwargs, tensors, parameters, constants, fullgraph):
    """Calls ``function(*args, **kwargs)`` eagerly while recording it; returns (output, Program or the reason the
    capture was refused). ``tensors`` are the tensor inputs (flattened), ``parameters`` the module tensors."""
    program = Program()
    recorder = Recorder(program, constants, fullgraph)
    for t in tensors:
        slot = recorder.new_slot(t._data)
        program.inputs.append(slot)
        recorder.protected.add(slot)
    for p in parameters:
        if id(p._data) not in recorder.slots:
            program.parameters.append((recorder.new_slot(p._data), p))
    with _Patched(recorder):
        output = function(*args, **kwargs)
    if recorder.reason is not None:
        return output, recorder.reason
    if any(ctx._hooked for ctx in recorder.contexts):   # retain_grad or register_hook inside the region
        return output, "a hook on a tensor inside the compiled region"
    leaves = []
    program.outputs = _flatten(output, leaves)
    for leaf in leaves:
        slot = recorder.slots.get(id(leaf._data))
        if slot is None or slot in program.inputs or any(slot == s for s, _ in program.parameters):
            return output, "an output that is not computed by the compiled region"
        program.output_slots.append(slot)
        program.output_detached.append(not leaf.requires_grad)
    differentiable = [t for t in leaves if t.requires_grad and t.grad_fn is not None]
    if state.enabled and differentiable:
        wanted = _wanted(program, tensors)
        if any(t._hooks or t._post_accumulate_grad_hooks for _, _, t in wanted):
            reason = "a gradient hook on an input or parameter"
        elif _plan_on_arrays(program, leaves, wanted):
            reason = None
        else:
            reason = _capture_backward(program, recorder, leaves, wanted)
        if reason is not None:   # replay the forward through autograd instead (the ops' own backwards)
            program.backward, program.tape = None, reason
    return output, program


def _wanted(program, tensors):
    """(kind, index, tensor) of each input, then each parameter, that requires grad: the gradients backward gives."""
    return [("input", i, t) for i, t in enumerate(tensors) if t.requires_grad] + \
           [("parameter", i, p) for i, (_, p) in enumerate(program.parameters) if p.requires_grad]


def _differentiable_outputs(leaves):
    """Each differentiable output once (a tensor returned twice has one gradient slot), by identity."""
    outputs = []
    for t in leaves:
        if t.requires_grad and t.grad_fn is not None and not any(t is o for o in outputs):
            outputs.append(t)
    return outputs


def _plan_on_arrays(program, leaves, wanted):
    """Whether the backward runs the forward's own nodes (``_array_backward``); sets the program's plan,
    ``grad_in`` (no seed slots) and ``wanted`` if so."""
    program.grad_in = [(next(i for i, leaf in enumerate(leaves) if leaf is t), None)
                       for t in _differentiable_outputs(leaves)]
    slots = [program.inputs[i] if kind == "input" else program.parameters[i][0] for kind, i, _ in wanted]
    plan = _array_backward.plan(program, slots)
    if plan is None:
        program.grad_in = []
        return False
    program.array_plan, program.wanted = plan, [(kind, i) for kind, i, _ in wanted]
    return True


def _capture_backward(program, recorder, leaves, wanted):
    """Records the engine's backward from the outputs to the ``wanted`` inputs and parameters (``_wanted``)."""
    if recorder.fullgraph:   # a backward that cannot be captured replays through autograd: no error for that
        recorder.fullgraph = False
    outputs = _differentiable_outputs(leaves)
    recorder.phase = "backward"
    recorder.steps = program.backward = []
    seeds = []
    for t in outputs:
        seed = _make(numpy.ones_like(t._data)) if isinstance(t._data, numpy.ndarray) else _make(t._data * 0 + 1)
        position = next(i for i, leaf in enumerate(leaves) if leaf is t)   # by identity: == compares values
        program.grad_in.append((position, recorder.new_slot(seed._data)))
        seeds.append(seed)
    with _Patched(recorder):
        grads = _engine.grad(outputs, [t for _, _, t in wanted], seeds, retain_graph=True, allow_unused=True)
    if recorder.reason is not None:
        return recorder.reason
    program.wanted = [(kind, i) for kind, i, _ in wanted]
    for g in grads:
        if g is None:
            program.grad_out.append(None)
            continue
        slot = recorder.slots.get(id(g._data))
        if slot is None:
            return "a gradient computed outside the recorded ops"
        program.grad_out.append(slot)
    produced = set(program.inputs) | {s for s, _ in program.parameters}
    for step in program.forward:
        produced.update(outputs_of(step))
    read = set()
    for step in program.backward:
        read.update(inputs_of(step))
    program.keep = tuple(sorted(read & produced))
    return None


def outputs_of(step):
    """The slots a step writes: its outputs, and what a primitive's ctx kept (exported)."""
    kind = step[0]
    if kind == "composite":
        return list(step[4])
    if kind == "primitive":
        return list(step[5]) + [slot for _, _, slot in step[7]]
    if kind == "create":
        return [step[4]]
    return []


def inputs_of(step):
    """The slots a step reads."""
    kind = step[0]
    if kind in ("primitive", "composite"):
        return _slots_in(list(step[2]) + list(step[3].values()))
    if kind == "write":
        return [step[1]] + ([step[2][1]] if step[2][0] == "slot" else [])
    if kind == "fill":
        return [step[2]]
    return []


def _slots_in(specs):
    slots = []
    for spec in specs:
        if spec[0] == "slot":
            slots.append(spec[1])
        elif spec[0] == "seq":
            slots += _slots_in(spec[2])
    return slots


def _holds_arrays(items):
    """Whether a tuple or list holds a tensor or an array, at any depth (an index key nests them)."""
    return any(isinstance(o, (Tensor, numpy.ndarray)) or type(o) in (tuple, list) and _holds_arrays(o)
               for o in items)
