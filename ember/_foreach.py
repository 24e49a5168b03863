"""``torch._foreach_*``: an op applied over a list of tensors (optimizers and EMA code call them).

PyTorch fuses each into few kernels; here each is a loop over the list running the per-tensor op, so results
and autograd are the per-tensor op's. The out-of-place forms return a tuple of results, the in-place forms
(trailing ``_``) update the tensors and return the list. The second operand may be a scalar, a list of
scalars, a list of tensors, or one tensor used for every entry.
"""
import numbers

import ember

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1", "floor", "frac",
          "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round", "rsqrt", "sigmoid", "sign", "sin",
          "sinh", "sqrt", "tan", "tanh", "trunc")
_BINARY = ("add", "sub", "mul", "div", "pow", "clamp_min", "clamp_max", "maximum", "minimum")
_NO_INPLACE = ("maximum", "minimum")   # no in-place method: written through out=; a scalar operand clamps


def _check(tensors, *others):
    if len(tensors) == 0:
        raise RuntimeError("Tensor list must have at least one tensor.")
    for other in others:
        if isinstance(other, (list, tuple)) and len(other) != len(tensors):
            kind = "scalar" if other and not isinstance(other[0], ember.Tensor) else "tensor"
            if kind == "scalar":
                raise RuntimeError("Tensor list must have same number of elements as scalar list.")
            raise RuntimeError(f"Tensor lists must have the same number of tensors, got {len(tensors)} and "
                               f"{len(other)}")


def _each(other, count):
    """The per-entry operands: a list's items, or the same scalar or tensor for every entry."""
    return list(other) if isinstance(other, (list, tuple)) else [other] * count


def _unary(name):
    def op(self):
        _check(self)
        return tuple(getattr(ember, name)(t) for t in self)

    def op_(self):
        _check(self)
        for t in self:
            getattr(t, name + "_")()
        return self
    op.__doc__ = f"``{name}`` of each tensor of ``self``."
    op_.__doc__ = f"In-place ``{name}_`` of each tensor of ``self``; returns ``self``."
    return op, op_


def _binary(name):
    def call(t, o, kwargs, inplace):
        if name in _NO_INPLACE and not isinstance(o, ember.Tensor):   # a scalar bound: clamp
            o = ember.tensor(o, dtype=t.dtype)
        if inplace:
            if name in _NO_INPLACE:
                return getattr(ember, name)(t, o, out=t)
            return getattr(t, name + "_")(o, **kwargs)
        return getattr(ember, name)(t, o, **kwargs)

    def op(self, other, **kwargs):
        if isinstance(self, numbers.Number):   # _foreach_pow(scalar, exponents)
            return tuple(ember.pow(self, e) for e in other)
        _check(self, other)
        return tuple(call(t, o, kwargs, False) for t, o in zip(self, _each(other, len(self))))

    def op_(self, other, **kwargs):
        _check(self, other)
        for t, o in zip(self, _each(other, len(self))):
            call(t, o, kwargs, True)
        return self
    op.__doc__ = f"``{name}`` of each tensor of ``self`` with the matching entry of ``other``."
    op_.__doc__ = f"In-place ``{name}`` of each tensor of ``self``; returns ``self``."
    return op, op_


for _name in _UNARY:
    globals()[f"_foreach_{_name}"], globals()[f"_foreach_{_name}_"] = _unary(_name)
for _name in _BINARY:
    globals()[f"_foreach_{_name}"], globals()[f"_foreach_{_name}_"] = _binary(_name)


def _scalars(value, count):
    if isinstance(value, ember.Tensor) and value.dim() == 1:   # a tensor of per-entry scalars
        value = value.tolist()
    return _each(value, count)


def _foreach_addcmul(self, tensor1, tensor2, value=1):
    """``addcmul`` over the lists: ``self[i] + value[i] * tensor1[i] * tensor2[i]``."""
    _check(self, tensor1, tensor2)
    return tuple(ember.addcmul(s, a, b, value=v) for s, a, b, v in zip(self, tensor1, tensor2,
                                                                         _scalars(value, len(self))))


def _foreach_addcmul_(self, tensor1, tensor2, value=1):
    """In-place ``addcmul_`` over the lists; returns ``self``."""
    _check(self, tensor1, tensor2)
    for s, a, b, v in zip(self, tensor1, tensor2, _scalars(value, len(self))):
        s.addcmul_(a, b, value=v)
    return self


def _foreach_addcdiv(self, tensor1, tensor2, value=1):
    """``addcdiv`` over the lists: ``self[i] + value[i] * tensor1[i] / tensor2[i]``."""
    _check(self, tensor1, tensor2)
    return tuple(ember.addcdiv(s, a, b, value=v) for s, a, b, v in zip(self, tensor1, tensor2,
                                                                         _scalars(value, len(self))))


def _foreach_addcdiv_(self, tensor1, tensor2, value=1):
    """In-place ``addcdiv_`` over the lists; returns ``self``."""
    _check(self, tensor1, tensor2)
    for s, a, b, v in zip(self, tensor1, tensor2, _scalars(value, len(self))):
        s.addcdiv_(a, b, value=v)
    return self


def _foreach_lerp(self, tensors1, weight):
    """``lerp`` of each tensor toward ``tensors1[i]`` by ``weight`` (a scalar, list of scalars or tensors)."""
    _check(self, tensors1, weight)
    return tuple(ember.lerp(s, e, w) for s, e, w in zip(self, tensors1, _each(weight, len(self))))


def _foreach_lerp_(self, tensors1, weight):
    """In-place ``lerp_`` over the lists; returns ``self``."""
    _check(self, tensors1, weight)
    for s, e, w in zip(self, tensors1, _each(weight, len(self))):
        s.lerp_(e, w)
    return self


def _foreach_norm(self, ord=2, dtype=None):
    """The vector ``ord``-norm of each tensor, as 0-d tensors."""
    _check(self)
    if ord == float("inf") and any(t.numel() == 0 for t in self):   # (-inf: vector_norm's own error, as PyTorch)
        raise RuntimeError("_foreach_norm cannot compute the infinity norm on an empty tensor because the operation "
                           "does not have an identity")
    return tuple(ember.linalg.vector_norm(t, ord, dtype=dtype) for t in self)


def _foreach_max(self):
    """The largest element of each tensor, as 0-d tensors."""
    _check(self)
    return tuple(t.max() for t in self)


def _foreach_mm(self, other):
    """``mm`` of each pair of matrices."""
    _check(self, other)
    return tuple(ember.mm(a, b) for a, b in zip(self, other))


def _foreach_clone(self):
    """A copy of each tensor."""
    _check(self)
    return tuple(t.clone() for t in self)


def _foreach_copy_(self, src, non_blocking=False):
    """Copies ``src[i]`` into ``self[i]``; returns ``self``."""
    _check(self, src)
    for t, s in zip(self, src):
        t.copy_(s, non_blocking=non_blocking)
    return self


def _foreach_zero_(self):
    """Zeroes each tensor; returns ``self``."""
    _check(self)
    for t in self:
        t.zero_()
    return self
