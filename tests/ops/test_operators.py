"""Tensor's Python operators beside PyTorch's when the other operand is no tensor or number: Python's own
"unsupported operand" errors for strings, lists, None and objects, NumPy computing with an array operand (the result
a tensor of NumPy's promoted dtype), ``==``/``!=`` with objects, and ``==`` with an array compared as a tensor."""
import operator
import warnings

import numpy
import pytest
import torch

import ember

OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
             operator.pow, operator.matmul, operator.lt, operator.le, operator.gt, operator.ge]
BITWISE = [operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift]
IN_PLACE = [operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ipow]


def _outcome(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # NumPy 2 on __array_wrap__'s signature, for both
        try:
            result = call()
        except Exception as error:   # noqa: BLE001 - the outcome compared is the exception itself
            return type(error).__name__, str(error)
    if isinstance(result, (ember.Tensor, torch.Tensor)):
        return "tensor", str(result.dtype).split(".")[-1], result.tolist()
    if isinstance(result, list):   # list += tensor: the list extended by the tensor's elements
        return "list", [(type(v).__name__, v.tolist()) if hasattr(v, "tolist") else v for v in result]
    return type(result).__name__, result


@pytest.mark.parametrize("op", OPERATORS + IN_PLACE, ids=lambda op: op.__name__)
@pytest.mark.parametrize("other", ["text", None, [1.0, 2.0], object(), numpy.array([2.0, 4.0]),
                                   numpy.array([1.0, 3.0], dtype=numpy.float32), numpy.array([2, 3])],
                         ids=["str", "None", "list", "object", "float64 array", "float32 array", "int64 array"])
def test_float_tensor_operators_with_other_operands(op, other):
    outcomes = []
    fresh = (lambda: list(other)) if isinstance(other, list) else (lambda: other)   # list += tensor extends it
    for lib in (ember, torch):
        outcomes.append((_outcome(lambda: op(lib.tensor([1.5, 2.0]), fresh())),
                         _outcome(lambda: op(fresh(), lib.tensor([1.5, 2.0])))))
    if isinstance(other, object) and type(other) is object:   # the object's address is in no message
        assert [o[0][0] for o in outcomes[0]] == [o[0][0] for o in outcomes[1]]
    assert outcomes[0] == outcomes[1] or type(other) is object


@pytest.mark.parametrize("op", BITWISE, ids=lambda op: op.__name__)
@pytest.mark.parametrize("other", ["text", None, numpy.array([1, 2])], ids=["str", "None", "int64 array"])
def test_integer_tensor_bitwise_operators_with_other_operands(op, other):
    outcomes = [_outcome(lambda: op(lib.tensor([4, 8]), other)) for lib in (ember, torch)]
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("other", ["text", None, [1.0], (1, 2), numpy.array([1.5, 3.0]), numpy.float64(1.5)])
def test_equality_with_other_operands(other):
    outcomes = [(_outcome(lambda: lib.tensor([1.5, 2.0]) == other), _outcome(lambda: lib.tensor([1.5, 2.0]) != other))
                for lib in (ember, torch)]
    assert outcomes[0] == outcomes[1]



def test_operators_pickle_by_reference():
    import pickle
    for name in ("__add__", "__sub__", "__rtruediv__", "__eq__", "__ilshift__"):
        assert pickle.loads(pickle.dumps(getattr(ember.Tensor, name))) is getattr(ember.Tensor, name)
