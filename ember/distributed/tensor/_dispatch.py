"""Ops on DTensors: every public call with a DTensor argument arrives here (``DTensor.__torch_function__``) and runs
by the sharding rule ``RULES`` holds under the op's PyTorch name. A rule picks the placements the inputs must have
and the output will have; the inputs are redistributed where needed, the op runs on the local parts, and its
tensors come back as DTensors (``_local``). Autograd sees the conversions (``to_local`` before, ``from_local``
after), so gradients are DTensors laid out as PyTorch's. An op without a rule raises PyTorch's error for it rather
than compute on the parts alone."""
import inspect

from ... import overrides
from ..._tensor import Tensor, _make
from ._dtensor import _new
from ._local import in_place_local, no_rule, run, unstrided
from ._ops_matrix import PRODUCTS, einsum, matrix
from ._ops_nn import (CONVOLUTIONS, POOLS, ROWWISE, attention, convolution, embedding, multi_head_attention, pool,
                      rowwise)
from ._ops_pointwise import IDENTITY, IN_PLACE, LIKE, NEW, POINTWISE, like, new_factory, pointwise
from ._ops_index import (gather, getitem, index_add, index_fill, index_put, index_select, narrow, scatter, setitem,
                         take_along_dim)
from ._ops_reduce import REDUCTIONS, SCANS, reduction, scan
from ._ops_sort import (ARG_EXTREMES, COMPOSITES, FLIPS, SELECTS, SORTS, TRIANGLES, arg_extreme, composite, flip,
                        replicated, select, sort)
from ._ops_shape import (EXPANDING, PADDING, PERMUTING, RESHAPING, SPLITTING, cat, expand, pad, repeat, shape_op,
                         split_op, squeeze, stack)
from .placement_types import Replicate

_SCALAR_OUT = frozenset("item tolist __bool__ __float__ __int__ __index__ numpy".split())
_PASS = frozenset("""requires_grad_ retain_grad register_hook register_post_accumulate_grad_hook backward
is_floating_point is_complex element_size dim ndimension get_device data_ptr is_contiguous __format__""".split())
RANDOM_FILLS = frozenset("uniform_ normal_ random_ bernoulli_ exponential_ geometric_ cauchy_ log_normal_".split())
DROPOUTS = frozenset("dropout dropout1d dropout2d dropout3d alpha_dropout feature_alpha_dropout".split())

loss_parallel_handlers = []   # parallel.loss_parallel's, while its context is entered
_LOSS_OPS = frozenset("cross_entropy nll_loss log_softmax".split())


def op_name(func):
    """``func``'s PyTorch name without its namespace: "add", "add_", "__rsub__", "data" for a property."""
    full = overrides._names.get(func) or getattr(func, "__name__", str(func))
    parts = full.split(".")
    return parts[-2] if parts[-1] == "__get__" else parts[-1]


def dispatch(func, args, kwargs):
    """Runs public function ``func`` on DTensor arguments by its sharding rule."""
    name = op_name(func)
    inner = overrides.unwrapped(func)
    if ".nn.init." in overrides._names.get(func, ""):   # nn.init's fillers: their tensor methods come back one by one
        return inner(*args, **kwargs)
    if loss_parallel_handlers and name in _LOSS_OPS:
        result = loss_parallel_handlers[-1](name, inner, args, kwargs)
        if result is not NotImplemented:
            return result
    if name.startswith("_foreach_"):
        return _foreach(name, args, kwargs)
    rule = RULES.get(name)
    if rule is None:
        raise no_rule(name, args, kwargs)
    return rule(name, inner, args, kwargs)


def _passed(name, inner, args, kwargs):
    """Calls that only read the DTensor's metadata or hook into its autograd: run on the DTensor itself."""
    return inner(*args, **kwargs)


def _detach(name, inner, args, kwargs):
    """``detach`` and ``.data``: the same local part and spec, out of the graph."""
    return _new(args[0]._data, args[0]._spec)


def _scalar_out(name, inner, args, kwargs):
    """``item``, ``tolist``, ``numpy`` and the conversions: as PyTorch's, the local part's values (a partial one
    unreduced)."""
    return inner(_make(args[0]._data), *args[1:], **kwargs)


def _dropout(name, inner, args, kwargs):
    """Dropout on the local part, placements kept (partial values reduced first): as PyTorch's on a CPU mesh,
    each rank draws its own mask from its generator."""
    self = args[0]
    placements = tuple(Replicate() if p.is_partial() else p for p in self.placements)
    bound = inspect.signature(inner).bind(*args, **kwargs)
    if bound.arguments.get("inplace"):
        return in_place_local("dropout_", inner, args, kwargs)
    return run(inner, args, kwargs, {id(self): placements}, self._spec.with_placements(placements))


def _foreach(name, args, kwargs):
    """``torch._foreach_<op>`` on lists of DTensors: the op on each index in turn, by its own rule."""
    import ember
    base = name[len("_foreach_"):]
    lists = [a for a in args if isinstance(a, (list, tuple))]
    count = len(lists[0]) if lists else 0
    results = []
    for i in range(count):
        items = [a[i] if isinstance(a, (list, tuple)) else a for a in args]
        if base == "norm":
            results.append(ember.linalg.vector_norm(items[0], *items[1:], **kwargs))
        elif base.endswith("_"):
            method = getattr(items[0], base, None)
            if method is None:
                raise no_rule(name, args, kwargs)
            method(*items[1:], **kwargs)
        else:
            function = getattr(ember, base, None)
            if function is None:
                raise no_rule(name, args, kwargs)
            results.append(function(*items, **kwargs))
    return None if base.endswith("_") else results


def _masked_select(name, inner, args, kwargs):
    """Refused, as PyTorch's: its output's shape depends on the mask's values."""
    raise RuntimeError("aten.masked_select.default: its output's shape depends on the mask's values, so it has no "
                       "sharding strategy")


def _reduction_or_select(name, inner, args, kwargs):
    """A reduction; ``max`` and ``min`` along a dim (values and indices) are selections, of two tensors
    elementwise (``maximum``, ``minimum``)."""
    if name in ("max", "min") and (len(args) > 1 and isinstance(args[1], Tensor) or "other" in kwargs):
        return pointwise("maximum" if name == "max" else "minimum", inner, args, kwargs)
    if name in ("max", "min") and (len(args) > 1 or "dim" in kwargs):
        return _unstriding(select)(name, inner, args, kwargs)
    return reduction(name, inner, args, kwargs)


def _unstriding(rule):
    """``rule`` given its DTensor arguments with their ``_StridedShard`` mesh dims gathered first (it knows Shard,
    Replicate and Partial only)."""
    def gathered_first(name, inner, args, kwargs):
        return rule(name, inner, unstrided(args), unstrided(kwargs))
    gathered_first.__doc__ = rule.__doc__
    return gathered_first


def _table(*groups):
    """The name -> rule table of ``(names, rule)`` groups; a name in two groups is an error here, at import."""
    table = {}
    for names, rule in groups:
        for name in names:
            if name in table:
                raise AssertionError(f"DTensor op {name!r} has two sharding rules")
            table[name] = rule
    return table


RULES = _table(
    (_PASS, _passed),
    (("detach", "data"), _detach),
    (RANDOM_FILLS, in_place_local),   # as PyTorch's on a CPU mesh: each rank draws its own part from its generator
    (DROPOUTS, _dropout),
    (POINTWISE | IDENTITY | IN_PLACE, pointwise),
    (LIKE, like),
    (NEW, new_factory),
    (REDUCTIONS, _reduction_or_select),
    (SCANS, scan),
    (("stack",), _unstriding(stack)),
    (("cat", "concat", "concatenate"), _unstriding(cat)),
    (PRODUCTS, matrix),   # (keeping a strided shard of a free dim)
    (("einsum",), _unstriding(einsum)),
    (ROWWISE, rowwise),
    (("embedding",), _unstriding(embedding)),
    (POOLS, _unstriding(pool)),
    (("scaled_dot_product_attention",), _unstriding(attention)),
    (CONVOLUTIONS, _unstriding(convolution)),
    (("multi_head_attention_forward",), multi_head_attention),   # (its steps are ops with rules of their own)
    (PERMUTING | RESHAPING, shape_op),
    (SPLITTING, _unstriding(split_op)),
    (EXPANDING, expand),
    (("repeat",), _unstriding(repeat)),
    (("squeeze",), squeeze),
    (PADDING, _unstriding(pad)),
    (_SCALAR_OUT, _unstriding(_scalar_out)),
    (SORTS, _unstriding(sort)),
    (SELECTS, _unstriding(select)),
    (ARG_EXTREMES, _unstriding(arg_extreme)),
    (FLIPS, _unstriding(flip)),
    (("__getitem__",), _unstriding(getitem)),
    (("narrow",), _unstriding(narrow)),
    (("index_select",), _unstriding(index_select)),
    (("gather",), _unstriding(gather)),
    (("take_along_dim",), take_along_dim),   # (a gather of the broadcast operands)
    (("scatter", "scatter_add", "scatter_", "scatter_add_"), _unstriding(scatter)),
    (("index_put", "index_put_"), _unstriding(index_put)),
    (("__setitem__",), setitem),
    (("index_fill", "index_fill_"), _unstriding(index_fill)),
    (("index_add", "index_copy"), _unstriding(index_add)),
    (TRIANGLES, _unstriding(replicated)),
    (COMPOSITES, composite),   # (their steps are ops with rules of their own)
    (("masked_select",), _masked_select),
)
