"""``torch.ops.aten``: PyTorch's ATen operators by name (``torch.ops.aten.sort.stable``), as objects that can be
compared, hashed and called. ember has no ATen dispatcher below its public ops, so an overload runs the public op
that computes it (``ember.sort`` for ``aten::sort.stable``, ``Tensor.add_`` for ``aten::add_.Tensor``, a few
spelled out here: ``slice``, ``index``, ``_to_copy``, ``alias``); an operator ember lacks still exists, and calling it
says so. The names are PyTorch 2.13's (``_aten_names``), so a name PyTorch lacks is PyTorch's AttributeError.

Libraries key tables of ``__torch_dispatch__`` handlers on these objects at import (PyTorch Geometric's ``Index``
and ``EdgeIndex``); ember hands its op applications to ``__torch_dispatch__`` handlers as these operators
(``ember._python_dispatch``)."""
import types

_OVERLOADS = None
_PACKETS = {}

_OTHER_NAMESPACES = {
    "_c10d_functional": "all_gather_into_tensor all_gather_into_tensor_coalesced all_gather_into_tensor_out all_reduce "
                        "all_reduce_ all_reduce_coalesced all_reduce_coalesced_ all_to_all_single batch_p2p_ops "
                        "broadcast broadcast_ irecv isend reduce_scatter_tensor reduce_scatter_tensor_coalesced "
                        "reduce_scatter_tensor_out wait_tensor",
}
"""PyTorch's operators in namespaces other than ``aten`` that programs name at import (selective checkpointing
policies list ``torch.ops._c10d_functional.reduce_scatter_tensor.default``): each has the overload ``default`` alone.
They can be compared and hashed; calling one says that ember lacks it."""


def _overload_names():
    """operator name -> its overload names, read once from the table."""
    global _OVERLOADS
    if _OVERLOADS is None:
        from ._aten_names import OVERLOADS
        table, last = {}, None
        for line in OVERLOADS.splitlines():
            words = line.split()
            if line.startswith(" "):
                table[last].extend(words)
            else:
                last = words[0]
                table[last] = words[1:]
        _OVERLOADS = table
    return _OVERLOADS


def _ember():
    import ember
    return ember


def _slice(input, dim=0, start=None, end=None, step=1):
    return input[(slice(None),) * (dim % max(input.dim(), 1)) + (slice(start, end, step),)]


def _index(input, indices):
    return input[tuple(slice(None) if index is None else index for index in indices)]


def _to_copy(input, *, dtype=None, layout=None, device=None, pin_memory=None, non_blocking=False,
             memory_format=None):
    out = input.to(device=device if device is not None else input.device,
                   dtype=dtype if dtype is not None else input.dtype, non_blocking=non_blocking, copy=True)
    if memory_format is not None:
        out = out.contiguous(memory_format=memory_format)
    return out.pin_memory() if pin_memory else out


def _convolution_mode(input, weight, bias, stride, padding, dilation, groups):
    convolution = getattr(_ember().nn.functional, f"conv{input.dim() - 2}d")
    return convolution(input, weight, bias, stride, padding, dilation, groups)


def _flash_attention_for_cpu(query, key, value, dropout_p=0.0, is_causal=False, *, attn_mask=None, scale=None):
    """``aten::_scaled_dot_product_flash_attention_for_cpu``: the attention and the logsumexp of its scores."""
    ember = _ember()
    out = ember.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)
    scores = query.matmul(key.transpose(-2, -1)) * (query.shape[-1] ** -0.5 if scale is None else scale)
    if is_causal:
        scores = scores.masked_fill(ember.ones(scores.shape[-2:], dtype=ember.bool).triu(1), float("-inf"))
    if attn_mask is not None:
        scores = scores + attn_mask
    return out, scores.logsumexp(-1)


def _factory(name):
    """An ember factory taking ATen's ``pin_memory`` keyword (a host tensor is never pinned memory here)."""
    def make(*args, pin_memory=False, **kwargs):
        function = getattr(_ember(), name)
        return function(*args, **kwargs) if not pin_memory else function(*args, **kwargs).pin_memory()
    return make


_FACTORIES = ("zeros", "ones", "empty", "full", "randn", "rand", "arange", "zeros_like", "ones_like", "empty_like",
              "full_like", "randn_like", "rand_like")


def _special():
    ember = _ember()
    return {"slice": _slice, "index": _index, "_to_copy": _to_copy, "alias": lambda input: input.view_as(input),
            "_pin_memory": lambda input, device=None: input.pin_memory(),
            "_softmax": lambda input, dim, half_to_float: ember.softmax(input, dim),
            "_log_softmax": lambda input, dim, half_to_float: ember.log_softmax(input, dim),
            "threshold_backward": lambda grad, input, threshold: ember.where(input > threshold, grad, 0),
            "_convolution_mode": _convolution_mode,
            "_scaled_dot_product_flash_attention_for_cpu": _flash_attention_for_cpu,
            "_unsafe_view": lambda input, size: input.reshape(size), **{name: _factory(name) for name in _FACTORIES}}


def _implementation(name):
    """The ember callable that computes ``aten::name``, or None."""
    special = _special().get(name)
    if special is not None:
        return special
    ember = _ember()
    function = getattr(ember, name, None) if not name.startswith("_") else None
    if callable(function) and not isinstance(function, (type, types.ModuleType)):
        return function
    if callable(getattr(ember.Tensor, name, None)):   # in-place forms and methods: self first
        return lambda self, *args, **kwargs: getattr(self, name)(*args, **kwargs)
    function = getattr(ember.nn.functional, name, None)
    return function if callable(function) and not name.startswith("_") else None


def implemented(name):
    """Whether ember has an op computing ``aten::name`` (so calling its operator would not raise)."""
    return _implementation(name) is not None


class OpOverload:
    """One overload of an ATen operator (``torch.ops.aten.sort.stable``); calling it runs the ember op computing
    it."""

    def __init__(self, packet, overload):
        self._overloadpacket, self._overloadname, self.namespace = packet, overload, packet.namespace
        self._opname = packet._opname

    @property
    def overloadpacket(self):
        """The ``OpOverloadPacket`` this overload belongs to."""
        return self._overloadpacket

    @property
    def __name__(self):
        return f"{self._opname}.{self._overloadname}"

    def name(self):
        """``aten::op`` or ``aten::op.overload``, as the dispatcher names it."""
        suffix = "" if self._overloadname == "default" else "." + self._overloadname
        return f"{self.namespace}::{self._opname}{suffix}"

    def __repr__(self):
        return f"<OpOverload(op='{self.namespace}.{self._opname}', overload='{self._overloadname}')>"

    def __str__(self):
        return f"{self.namespace}.{self._opname}.{self._overloadname}"

    def __deepcopy__(self, memo=None):
        return self   # one object per overload, as PyTorch's (tables keyed by them are deep-copied: ptflops)

    def __call__(self, *args, **kwargs):
        from .. import _python_dispatch   # (handlers of __torch_dispatch__ see the call while any is on)
        return _python_dispatch.overload_called(self, args, kwargs)


class OpOverloadPacket:
    """An ATen operator by name (``torch.ops.aten.sort``): its overloads as attributes (``.default``, ``.stable``);
    calling it runs the ember op computing it."""

    def __init__(self, name, overloads, namespace="aten"):
        self._opname, self._overload_names, self._qualified_op_name = name, overloads, f"{namespace}::{name}"
        self.namespace = namespace
        self._made = {}

    @property
    def __name__(self):
        return self._opname

    def overloads(self):
        """The overload names, as PyTorch lists them."""
        return list(self._overload_names)

    def __deepcopy__(self, memo=None):
        return self   # one object per operator, as PyTorch's

    def __getattr__(self, overload):
        if overload.startswith("__") or overload == "_overload_names" or overload not in self._overload_names:
            raise AttributeError(f"The underlying op of '{self}' has no overload name '{overload}'")
        made = self._made.get(overload)
        if made is None:
            made = self._made[overload] = OpOverload(self, overload)
        return made

    def __repr__(self):
        return f"<OpOverloadPacket(op='{self}')>"

    def __str__(self):
        return f"{self.namespace}.{self._opname}"

    def _run(self, args, kwargs):
        function = _implementation(self._opname) if self.namespace == "aten" else None
        if function is None:
            kind = "ATen operator" if self.namespace == "aten" else "operator"
            raise NotImplementedError(f"ember does not implement the {kind} {self._qualified_op_name}")
        out = function(*args, **kwargs)
        if type(out) is tuple:   # a public op's tuple of tensors (split, unbind) is ATen's Tensor[]: a list
            return list(out)
        return tuple(out) if isinstance(out, tuple) else out   # named results (sort, max.dim): ATen's plain tuple

    def __call__(self, *args, **kwargs):
        return self._run(args, kwargs)


class OpNamespace(types.ModuleType):
    """``torch.ops.aten`` (or another of PyTorch's namespaces): the operators as ``OpOverloadPacket``
    attributes."""

    def __init__(self, name="aten"):
        super().__init__(f"torch.ops.{name}")
        self.name = name

    def __repr__(self):
        return f"<module 'torch.ops.{self.name}' from 'torch.ops'>"

    def _overloads(self):
        if self.name == "aten":
            return _overload_names()
        return {op: ["default"] for op in _OTHER_NAMESPACES[self.name].split()}

    def __getattr__(self, op_name):
        packet = _PACKETS.get((self.name, op_name))
        if packet is None:
            overloads = self._overloads().get(op_name) if not op_name.startswith("__") else None
            if overloads is None:
                raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{op_name}'")
            packet = _PACKETS[(self.name, op_name)] = OpOverloadPacket(op_name, overloads, self.name)
        return packet

    def __dir__(self):
        return sorted(self._overloads())


aten = OpNamespace()
c10d_functional = OpNamespace("_c10d_functional")
