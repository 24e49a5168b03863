"""``FlopCounterMode``: counts the FLOPs of matrix products, convolutions and attention while active, forward and
backward, per module, as PyTorch's ``torch.utils.flop_counter``.

Counts are keyed by the ATen op PyTorch's CPU kernels run for the call, as strings (``"aten.mm"``,
``"aten.addmm"``, ``"aten.convolution_backward"``): ``str()`` of PyTorch's keys, so tables read the same. The
counter is one dispatch hook while active (``_flop_ops`` says how each ember op maps to those ATen calls); a
backward is counted when its node runs, through hooks on the nodes the counted ops recorded.
"""
import warnings
from collections import defaultdict
from functools import wraps
from math import prod

from .._tensor import Tensor
from ..autograd import engine
from ..autograd.function import AccumulateGrad, Function, Node, dispatch_hooks, registry
from ..autograd.grad_mode import is_grad_enabled
from . import _flop_ops
from .module_tracker import ModuleTracker

__all__ = ["FlopCounterMode", "register_flop_formula"]


def get_shape(i):
    """A tensor's shape; anything else as it is."""
    if isinstance(i, Tensor):
        return i.shape
    return i


flop_registry = {}
"""Op key -> formula ``f(*args, out_val=None, **kwargs) -> int`` (shapes in place of tensors unless raw)."""


def shape_wrapper(f):
    """A formula on shapes made callable on the op's arguments: tensors become their shapes, the output
    ``out_val`` the ``out_shape`` keyword."""
    @wraps(f)
    def nf(*args, out_val=None, **kwargs):
        return f(*_shapes(args), out_shape=_shapes(out_val), **_shapes(kwargs))
    return nf


def _shapes(value):
    """``value`` with every tensor in its lists, tuples and dicts replaced by its shape (what ``tree_map`` with
    ``get_shape`` gives, without its per-leaf cost: the counter calls formulas on every counted op)."""
    if isinstance(value, Tensor):
        return value.shape
    if isinstance(value, (list, tuple)):
        return type(value)([_shapes(v) for v in value]) if type(value) in (list, tuple) else \
            tuple(_shapes(v) for v in value)
    if isinstance(value, dict):
        return {k: _shapes(v) for k, v in value.items()}
    return value


def _is_target(target):
    return isinstance(target, str) or isinstance(target, type) and issubclass(target, Function) or \
        hasattr(target, "_qualified_op_name")


def register_flop_formula(targets, get_raw=False):
    """Decorator: the formula counts the FLOPs of ``targets`` (an op key such as ``"aten.gelu"``, a custom
    operator ``ember.ops.<ns>.<op>``, a custom ``autograd.Function`` class, or a list of them); it gets shapes, or
    the tensors themselves with ``get_raw``."""
    def register_fun(flop_formula):
        if not get_raw:
            flop_formula = shape_wrapper(flop_formula)

        def register(target):
            if not _is_target(target):
                raise ValueError(f"register_flop_formula(targets): expected each target to be an op key (i.e. "
                                 f"'aten.mm'), OpOverloadPacket (i.e. torch.ops.mylib.foo) or autograd.Function "
                                 f"subclass, got {target} which is of type {type(target)}")
            if target in flop_registry:
                raise RuntimeError(f"duplicate registrations for {target}")
            flop_registry[target] = flop_formula

        for target in targets if isinstance(targets, (list, tuple)) else (targets,):
            register(target)
        return flop_formula
    return register_fun


@register_flop_formula("aten.mm")
def mm_flop(a_shape, b_shape, *args, out_shape=None, **kwargs) -> int:
    """Count flops for matmul."""
    m, k = a_shape
    k2, n = b_shape
    if k != k2:
        raise AssertionError(f"matmul: inner dimensions must match (k == k2), got {k} and {k2}")
    return m * n * 2 * k


@register_flop_formula("aten.addmm")
def addmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """Count flops for addmm."""
    return mm_flop(a_shape, b_shape)


@register_flop_formula("aten.bmm")
def bmm_flop(a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """Count flops for the bmm operation."""
    b, m, k = a_shape
    b2, k2, n = b_shape
    if b != b2:
        raise AssertionError(f"bmm: batch dimensions must match (b == b2), got {b} and {b2}")
    if k != k2:
        raise AssertionError(f"bmm: inner dimensions must match (k == k2), got {k} and {k2}")
    return b * m * n * 2 * k


@register_flop_formula("aten.baddbmm")
def baddbmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """Count flops for the baddbmm operation."""
    return bmm_flop(a_shape, b_shape)


def conv_flop_count(x_shape, w_shape, out_shape, transposed=False) -> int:
    """Count flops for convolution: multiplications and additions of the products only (not the bias); a
    transposed convolution convolves at each point of its input, a plain one at each point of its output."""
    batch_size = x_shape[0]
    conv_shape = (x_shape if transposed else out_shape)[2:]
    c_out, c_in, *filter_size = w_shape
    return prod(conv_shape) * prod(filter_size) * batch_size * c_out * c_in * 2


@register_flop_formula(["aten.convolution", "aten._convolution", "aten.cudnn_convolution",
                        "aten._slow_conv2d_forward", "aten.convolution_overrideable"])
def conv_flop(x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed, *args, out_shape=None,
              **kwargs) -> int:
    """Count flops for convolution."""
    return conv_flop_count(x_shape, w_shape, out_shape, transposed=transposed)


@register_flop_formula("aten.convolution_backward")
def conv_backward_flop(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed,
                       _output_padding, _groups, output_mask, out_shape, **kwargs) -> int:
    """Count flops for a convolution's backward: the input gradient is a transposed convolution of the output
    gradient with the weight, the weight gradient a convolution of the input with the output gradient (of the
    output gradient with the input for a transposed convolution), batch and channel dims swapped."""
    def t(shape):
        return [shape[1], shape[0]] + list(shape[2:])
    flop_count = 0
    if output_mask[0]:
        grad_input_shape = get_shape(out_shape[0])
        flop_count += conv_flop_count(grad_out_shape, w_shape, grad_input_shape, not transposed)
    if output_mask[1]:
        grad_weight_shape = get_shape(out_shape[1])
        if transposed:
            flop_count += conv_flop_count(t(grad_out_shape), t(x_shape), t(grad_weight_shape), transposed=False)
        else:
            flop_count += conv_flop_count(t(x_shape), t(grad_out_shape), t(grad_weight_shape), transposed=False)
    return flop_count


def sdpa_flop_count(query_shape, key_shape, value_shape):
    """Count flops for self-attention: the two batched products (grouped-query attention broadcasts the key and
    value heads to the query's)."""
    b, h_q, s_q, d_q = query_shape
    _b2, h_kv, s_k, _d2 = key_shape
    _b3, _h3, _s3, d_v = value_shape
    if not (b == _b2 == _b3 and h_kv == _h3 and d_q == _d2 and s_k == _s3):
        raise AssertionError(f"sdpa_flop_count: query/key/value shapes are incompatible: q={query_shape}, "
                             f"k={key_shape}, v={value_shape}")
    if h_q < h_kv or h_q % h_kv != 0:
        raise AssertionError(f"sdpa_flop_count: query heads ({h_q}) must be a multiple of key/value heads ({h_kv})")
    total_flops = bmm_flop((b * h_q, s_q, d_q), (b * h_q, d_q, s_k))
    return total_flops + bmm_flop((b * h_q, s_q, s_k), (b * h_q, s_k, d_v))


@register_flop_formula(["aten._scaled_dot_product_efficient_attention", "aten._scaled_dot_product_flash_attention",
                        "aten._scaled_dot_product_cudnn_attention"])
def sdpa_flop(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """Count flops for self-attention."""
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape):
    """Count flops for self-attention backward: the scores recomputed, then the gradients of both products."""
    b, h_q, s_q, d_q = query_shape
    _b2, h_kv, s_k, _d2 = key_shape
    _b3, _h3, _s3, d_v = value_shape
    _b4, _h4, _s4, _d4 = grad_out_shape
    if not (b == _b2 == _b3 == _b4 and h_kv == _h3 and h_q == _h4):
        raise AssertionError("sdpa_backward_flop_count: batch/heads mismatch among tensors")
    if h_q < h_kv or h_q % h_kv != 0:
        raise AssertionError(f"sdpa_backward_flop_count: query heads ({h_q}) must be a multiple of key/value "
                             f"heads ({h_kv})")
    if not (d_q == _d2 and d_v == _d4 and s_k == _s3 and s_q == _s4):
        raise AssertionError("sdpa_backward_flop_count: grad_out/value/key/query shapes are incompatible")
    total_flops = bmm_flop((b * h_q, s_q, d_q), (b * h_q, d_q, s_k))
    total_flops += bmm_flop((b * h_q, s_q, d_v), (b * h_q, d_v, s_k))
    total_flops += bmm_flop((b * h_q, s_k, s_q), (b * h_q, s_q, d_v))
    total_flops += bmm_flop((b * h_q, s_q, s_k), (b * h_q, s_k, d_q))
    return total_flops + bmm_flop((b * h_q, d_q, s_q), (b * h_q, s_q, s_k))


@register_flop_formula(["aten._scaled_dot_product_efficient_attention_backward",
                        "aten._scaled_dot_product_flash_attention_backward",
                        "aten._scaled_dot_product_cudnn_attention_backward"])
def sdpa_backward_flop(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """Count flops for self-attention backward."""
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


def normalize_tuple(x):
    """``x`` as a tuple (a lone value becomes a 1-tuple)."""
    if not isinstance(x, tuple):
        return (x,)
    return x


suffixes = ["", "K", "M", "B", "T"]


def get_suffix_str(number):
    """The suffix the table shows a count with: one step below what its digits suggest, so that 1.01B reads as
    1001M."""
    index = max(0, min(len(suffixes) - 1, (len(str(number)) - 2) // 3))
    return suffixes[index]


def convert_num_with_suffix(number, suffix):
    """``number`` in units of ``suffix``, with three decimals (``"1.234K"``)."""
    index = suffixes.index(suffix)
    return f"{number / 1000 ** index:.3f}" + suffixes[index]


def convert_to_percent_str(num, denom):
    """``num / denom`` as a percentage with two decimals; ``"0%"`` for a zero total."""
    if denom == 0:
        return "0%"
    return f"{num / denom:.2%}"


def _label(key):
    """A count's key as the table shows it: the op key or operator (``mylib.foo``), or a Function's qualified
    name."""
    return f"{key.__module__}.{key.__qualname__}" if isinstance(key, type) else str(key)


class FlopCounterMode:
    """A context manager that counts the FLOPs run inside it, forward and backward, in total and per module
    (the modules running when each op runs, as ``ModuleTracker`` sees them); prints a table on exit when
    ``display``. ``custom_mapping`` adds or replaces formulas by op key. Not reentrant."""

    def __init__(self, mods=None, depth=2, display=True, custom_mapping=None):
        self.flop_counts = defaultdict(lambda: defaultdict(int))
        self.depth = depth
        self.display = display
        self.mode = None
        if custom_mapping is None:
            custom_mapping = {}
        if mods is not None:
            warnings.warn("mods argument is not needed anymore, you can stop passing it", stacklevel=2)
        self.flop_registry = {**flop_registry, **{k: v if getattr(v, "_get_raw", False) else shape_wrapper(v)
                                                  for k, v in custom_mapping.items()}}
        self.mod_tracker = ModuleTracker()

    def get_total_flops(self):
        """All FLOPs counted (those of the ``"Global"`` entry)."""
        return sum(self.flop_counts["Global"].values())

    def get_flop_counts(self):
        """``{module name: {op key: FLOPs}}``, with ``"Global"`` for everything counted."""
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def get_table(self, depth=None):
        """PyTorch's table of FLOPs per module (to ``depth`` levels) and per op, with shares of the total."""
        if depth is None:
            depth = self.depth
        if depth is None:
            depth = 999999
        values = []
        global_flops = self.get_total_flops()
        global_suffix = get_suffix_str(global_flops)
        is_global_subsumed = False

        def process_mod(mod_name, depth):
            nonlocal is_global_subsumed
            total_flops = sum(self.flop_counts[mod_name].values())
            is_global_subsumed |= total_flops >= global_flops
            padding = " " * depth
            rows = [[padding + mod_name, convert_num_with_suffix(total_flops, global_suffix),
                     convert_to_percent_str(total_flops, global_flops)]]
            for k, v in self.flop_counts[mod_name].items():
                rows.append([padding + " - " + _label(k), convert_num_with_suffix(v, global_suffix),
                             convert_to_percent_str(v, global_flops)])
            return rows

        for mod in sorted(self.flop_counts.keys()):
            if mod == "Global":
                continue
            mod_depth = mod.count(".") + 1
            if mod_depth > depth:
                continue
            values.extend(process_mod(mod, mod_depth - 1))
        # "Global" only when some FLOPs ran outside every module shown
        if "Global" in self.flop_counts and not is_global_subsumed:
            for value in values:
                value[0] = " " + value[0]
            values = process_mod("Global", 0) + values
        if len(values) == 0:
            values = [["Global", "0", "0%"]]
        return _tabulate(values, ["Module", "FLOP", "% Total"])

    def __enter__(self):
        self.flop_counts.clear()
        self.mod_tracker.__enter__()
        self.mode = _FlopCounterHook(self)
        dispatch_hooks.append(self.mode)
        return self

    def __exit__(self, *args):
        if self.mode is None:
            raise AssertionError("Internal error: FlopCounter.__exit__ called but mode is None")
        dispatch_hooks.remove(self.mode)
        self.mode.release()
        self.mode = None
        self.mod_tracker.__exit__()
        if self.display:
            print(self.get_table(self.depth))
        return False

    def _count_flops(self, func_packet, out, args, kwargs):
        """Adds the op's FLOPs (by its formula, if it has one) to every module running."""
        if func_packet in self.flop_registry:
            flop_count = self.flop_registry[func_packet](*args, **kwargs, out_val=out)
            for par in set(self.mod_tracker.parents):
                self.flop_counts[par][func_packet] += flop_count
        return out


class _Frame:
    """The main primitives a counted op ran: ``(class, args, output)`` in order."""

    def __init__(self):
        self.calls = []


class _FlopCounterHook:
    """The dispatch hook of one active FlopCounterMode: counts the ops it has rules for, and nothing inside
    them or inside the backward of the nodes they recorded but what their rules say (the first such node counts
    the op's backward)."""

    def __init__(self, counter):
        self.counter = counter
        self.rules, self.main = _rules(counter.flop_registry)
        self.gradients = {registry[name]: rule for name, rule in _flop_ops.GRADIENTS.items() if name in registry}
        self.quiet = 0   # inside a counted op's forward
        self.node_depth, self.node_task = 0, None   # inside the backward of a node a counted op recorded
        self.frame = None
        self.handles = []

    keys_on_op_names = True   # traced graphs run each recorded composite call as that call, which the rules know

    def __call__(self, cls, args, kwargs, proceed):
        # a backward that raised inside a node leaves node_depth behind: it counts only within its own task
        if self.quiet or self.node_depth and engine.running.task is self.node_task:
            out = proceed(args, kwargs)
            if self.frame is not None:
                if cls in self.main:
                    self.frame.calls.append((cls, args, out))
            elif cls in self.gradients and is_grad_enabled():   # a backward's own graph (create_graph)
                node = _node(out)
                if node is not None:
                    self._attach(node, self.gradients[cls](cls, args, out))
            return out
        rule = self.rules.get(cls)
        if rule is None:
            return proceed(args, kwargs)
        frame = self.frame = _Frame()
        self.quiet += 1
        try:
            out = proceed(args, kwargs)
        finally:
            self.quiet -= 1
            self.frame = None
        forward, backward = rule(args, kwargs, out, frame)
        for key, call_args, call_kwargs, call_out in forward:
            self.counter._count_flops(key, call_out, call_args, call_kwargs)
        nodes = [_node(o) for _, _, o in frame.calls] if frame.calls else [_node(out)] if backward else []
        for i, node in enumerate(nodes):
            if node is not None:
                self._attach(node, backward if i == 0 else None)
        return out

    def _attach(self, node, backward):
        """Counts ``backward``'s calls when ``node``'s backward runs, and nothing run inside that backward."""
        def pre(grad_outputs):
            if backward is not None:
                for key, call_args, call_kwargs, call_out in backward(_wanted(node)):
                    self.counter._count_flops(key, call_out, call_args, call_kwargs)
            task = engine.current_task()
            if task is not self.node_task:
                self.node_depth, self.node_task = 0, task
            self.node_depth += 1

        def post(grad_inputs, grad_outputs):
            self.node_depth -= 1
        self.handles += [node.register_prehook(pre), node.register_hook(post)]

    def release(self):
        """Removes the node hooks: a backward after the mode is not counted."""
        for handle in self.handles:
            handle.remove()
        self.handles.clear()


def _wanted(node):
    """``needed(i)``: whether the running backward wants the gradient of the node's input ``i`` (PyTorch's
    ``should_compute_output``: the input leads to something this backward computes)."""
    task = engine.current_task()
    edges = node._edges or ()

    def needed(i):
        edge = edges[i] if i < len(edges) else None
        if edge is None or task is None:
            return edge is not None
        return task.will_execute(edge[0] if isinstance(edge[0], Node) else AccumulateGrad(edge[0]))
    return needed


def _node(out):
    """The node that recorded ``out`` (its first tensor's), or None."""
    if isinstance(out, (tuple, list)):
        out = next((o for o in out if isinstance(o, Tensor)), None)
    return out.grad_fn if isinstance(out, Tensor) else None


def _rules(formulas):
    """``{op class: rule}`` for ember's ops with PyTorch's counts, and for the Function classes and op keys
    given formulas of their own (each counted whole); and the main primitives' classes."""
    rules = {registry[name]: rule for name, rule in _flop_ops.COMPOSITES.items() if name in registry}
    rules.update({registry[name]: rule for name, rule in _flop_ops.PRIMITIVES.items() if name in registry})
    by_key = None
    for key in formulas:
        if isinstance(key, type):
            rules[key] = _whole(key)
        elif not isinstance(key, str):   # a custom operator: each of its overloads is a composite "ns::op[.name]"
            for name, cls in registry.items():
                if name == key._qualified_op_name or name.startswith(key._qualified_op_name + "."):
                    rules[cls] = _whole(key)
        elif key not in _BUILTIN_KEYS:
            if by_key is None:   # ember's ops by PyTorch's name: composites by theirs, primitives snake_cased
                by_key = {"aten." + (_snake(name) if getattr(cls, "_array_level", False) else name): cls
                          for name, cls in registry.items()}
            if key in by_key:
                rules[by_key[key]] = _whole(key)
    return rules, {registry[name] for name in _flop_ops.MAIN if name in registry}


def _whole(key):
    def rule(args, kwargs, out, frame):
        return [(key, args, kwargs, out)], None
    return rule


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


_BUILTIN_KEYS = frozenset(flop_registry)


def _tabulate(rows, headers):
    """``tabulate.tabulate(rows, headers, colalign=("left", "right", "right"))`` with its whitespace kept, as
    PyTorch prints the table: tabulate reads a column of numbers as numbers, and writes them in its own format."""
    columns = [list(column) for column in zip(*rows)]
    for column in columns:
        if all(_is_number(cell) for cell in column):
            integers = all(_is_int(cell) for cell in column)
            column[:] = [str(int(cell)) if integers else format(float(cell), "g") for cell in column]
    widths = [max(max(len(cell) for cell in column), len(header) + 2) for column, header in zip(columns, headers)]

    def line(cells):
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), "  ".join("-" * w for w in widths)] + [line(row) for row in zip(*columns)])


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_int(text):
    try:
        int(text)
    except ValueError:
        return False
    return True
