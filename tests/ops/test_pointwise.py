"""Elementwise ops against PyTorch: values, dtypes, shapes, gradients, errors and broadcasting properties."""
import numpy
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from tests.oracle import check, check_error, gradcheck, noncontiguous, sample

F16, F32, F64, I64, I32, BOOL = numpy.float16, numpy.float32, numpy.float64, numpy.int64, numpy.int32, numpy.bool_
FLOATS = (F32, F64)
REAL = (F32, F64, I64)
ALL = (F32, F64, I64, BOOL)


def unary_samples(dtype, low=-3, high=3):
    """0-d, empty, regular and non-contiguous inputs of one dtype within [low, high)."""
    return [numpy.asarray(sample((), dtype, low, high, seed=1)), sample((0,), dtype, low, high),
            sample((3, 4), dtype, low, high),
            noncontiguous(sample((4, 3), dtype, low, high, seed=2))]


# name: (call, dtypes, domain, in-place method name or None)
UNARY = {
    "exp": (lambda lib, x: lib.exp(x), ALL, (-3, 3), "exp_"),
    "exp2": (lambda lib, x: lib.exp2(x), ALL, (-3, 3), "exp2_"),
    "expm1": (lambda lib, x: lib.expm1(x), ALL, (-3, 3), "expm1_"),
    "log": (lambda lib, x: lib.log(x), ALL, (0.1, 5), "log_"),
    "log2": (lambda lib, x: x.log2(), ALL, (0.1, 5), "log2_"),
    "log10": (lambda lib, x: lib.log10(x), ALL, (0.1, 5), "log10_"),
    "log1p": (lambda lib, x: lib.log1p(x), ALL, (-0.9, 5), "log1p_"),
    "log_negative": (lambda lib, x: lib.log(x), (F32, I64), (-3, 3), None),
    "sqrt": (lambda lib, x: lib.sqrt(x), ALL, (0.1, 5), "sqrt_"),
    "rsqrt": (lambda lib, x: lib.rsqrt(x), ALL, (0.1, 5), "rsqrt_"),
    "abs": (lambda lib, x: lib.abs(x), REAL, (-3, 3), "abs_"),
    "absolute": (lambda lib, x: lib.absolute(x), REAL, (-3, 3), "absolute_"),
    "__abs__": (lambda lib, x: abs(x), REAL, (-3, 3), None),
    "sign": (lambda lib, x: lib.sign(x), ALL, (-3, 3), "sign_"),
    "sgn": (lambda lib, x: lib.sgn(x.detach()), ALL, (-3, 3), "sgn_"),   # torch's sgn grad is a ZeroTensor
    "neg": (lambda lib, x: lib.neg(x), REAL, (-3, 3), "neg_"),
    "negative": (lambda lib, x: -x, REAL, (-3, 3), "negative_"),
    "positive": (lambda lib, x: +lib.positive(x), REAL, (-3, 3), None),
    "reciprocal": (lambda lib, x: lib.reciprocal(x), ALL, (0.5, 3), "reciprocal_"),
    "square": (lambda lib, x: lib.square(x), ALL, (-3, 3), "square_"),
    "sin": (lambda lib, x: lib.sin(x), ALL, (-3, 3), "sin_"),
    "cos": (lambda lib, x: lib.cos(x), ALL, (-3, 3), "cos_"),
    "tan": (lambda lib, x: lib.tan(x), ALL, (-1.2, 1.2), "tan_"),
    "asin": (lambda lib, x: lib.asin(x), (F32, F64), (-0.9, 0.9), "asin_"),
    "arcsin": (lambda lib, x: lib.arcsin(x), (F32, F64), (-0.9, 0.9), "arcsin_"),
    "acos": (lambda lib, x: lib.acos(x), (F32, F64), (-0.9, 0.9), "acos_"),
    "arccos": (lambda lib, x: x.arccos(), (F32,), (-0.9, 0.9), "arccos_"),
    "atan": (lambda lib, x: lib.atan(x), ALL, (-3, 3), "atan_"),
    "arctan": (lambda lib, x: lib.arctan(x), (F32,), (-3, 3), "arctan_"),
    "sinh": (lambda lib, x: lib.sinh(x), ALL, (-3, 3), "sinh_"),
    "cosh": (lambda lib, x: lib.cosh(x), ALL, (-3, 3), "cosh_"),
    "tanh": (lambda lib, x: lib.tanh(x), ALL, (-3, 3), "tanh_"),
    "asinh": (lambda lib, x: lib.asinh(x), ALL, (-3, 3), "asinh_"),
    "arcsinh": (lambda lib, x: lib.arcsinh(x), (F32,), (-3, 3), "arcsinh_"),
    "acosh": (lambda lib, x: lib.acosh(x), (F32, F64), (1.1, 4), "acosh_"),
    "arccosh": (lambda lib, x: lib.arccosh(x), (F32,), (1.1, 4), "arccosh_"),
    "atanh": (lambda lib, x: lib.atanh(x), (F32, F64), (-0.9, 0.9), "atanh_"),
    "arctanh": (lambda lib, x: lib.arctanh(x), (F32,), (-0.9, 0.9), "arctanh_"),
    "sigmoid": (lambda lib, x: lib.sigmoid(x), ALL, (-8, 8), "sigmoid_"),
    "logit": (lambda lib, x: lib.logit(x), (F32, F64), (0.05, 0.95), "logit_"),
    "logit_eps": (lambda lib, x: lib.logit(x, eps=0.2), (F32, F64), (0.05, 0.95), None),
    "relu": (lambda lib, x: lib.relu(x), REAL, (-3, 3), "relu_"),
    "erf": (lambda lib, x: lib.erf(x), ALL, (-4, 4), "erf_"),
    "erfc": (lambda lib, x: lib.erfc(x), ALL, (-4, 9), "erfc_"),
    "erfinv": (lambda lib, x: lib.erfinv(x), (F32, F64), (-0.999, 0.999), "erfinv_"),
    "floor": (lambda lib, x: lib.floor(x), REAL, (-3, 3), "floor_"),
    "ceil": (lambda lib, x: lib.ceil(x), REAL, (-3, 3), "ceil_"),
    "round": (lambda lib, x: lib.round(x), REAL, (-3, 3), "round_"),
    "round_decimals": (lambda lib, x: lib.round(x * 100, decimals=-1), FLOATS, (-3, 3), None),
    "round_decimals_positive": (lambda lib, x: x.round(decimals=2), (F64,), (-3, 3), None),
    "trunc": (lambda lib, x: lib.trunc(x), REAL, (-3, 3), "trunc_"),
    "fix": (lambda lib, x: lib.fix(x), REAL, (-3, 3), "fix_"),
    "frac": (lambda lib, x: lib.frac(x), FLOATS, (-3, 3), "frac_"),
    "deg2rad": (lambda lib, x: lib.deg2rad(x), ALL, (-360, 360), "deg2rad_"),
    "rad2deg": (lambda lib, x: lib.rad2deg(x), ALL, (-3, 3), "rad2deg_"),
    "nan_to_num": (lambda lib, x: lib.nan_to_num(x / x.abs().clamp_max(1) if x.is_floating_point() else x),
                   REAL, (-3, 3), None),
    "clamp": (lambda lib, x: lib.clamp(x, -1, 2), REAL, (-3, 3), "clamp_"),
    "clamp_float_bounds": (lambda lib, x: lib.clamp(x, min=-1.5), ALL, (-3, 3), None),
    "clip": (lambda lib, x: lib.clip(x, max=1), REAL, (-3, 3), "clip_"),
    "clamp_min": (lambda lib, x: lib.clamp_min(x, 0.5), FLOATS, (-3, 3), "clamp_min_"),
    "clamp_max": (lambda lib, x: x.clamp_max(0.5), FLOATS, (-3, 3), "clamp_max_"),
    "float_power": (lambda lib, x: lib.float_power(x, 2), ALL, (-3, 3), None),
    "pow_scalar": (lambda lib, x: lib.pow(x, 3), REAL, (-3, 3), "pow_"),
    "pow_half": (lambda lib, x: x ** 0.5, REAL, (0.1, 3), None),
    "rpow": (lambda lib, x: 2 ** x, REAL, (-3, 3), None),
    "rpow_float": (lambda lib, x: 2.5 ** x, REAL, (-3, 3), None),
    "bitwise_not": (lambda lib, x: lib.bitwise_not(x), (I64, I32, BOOL), (-3, 3), "bitwise_not_"),
    "invert": (lambda lib, x: ~x, (I64, BOOL), (-3, 3), None),
    "logical_not": (lambda lib, x: lib.logical_not(x), ALL, (-3, 3), "logical_not_"),
    "where_scalars": (lambda lib, x: lib.where(x > 0, x, 0.5), REAL, (-3, 3), None),
    "where_scalar_both": (lambda lib, x: lib.where(x > 0, 1.0, 0), REAL, (-3, 3), None),
    "where_method": (lambda lib, x: x.where(x < 1, -x), REAL, (-3, 3), None),
    "where_single": (lambda lib, x: lib.where(x > 0), REAL, (-3, 3), None),
    "half_exp": (lambda lib, x: lib.exp(x.half()), (F32,), (-3, 3), None),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary(name):
    call, dtypes, (low, high), _ = UNARY[name]
    for dtype in dtypes:
        for x in unary_samples(dtype, low, high):
            check(call, x, rtol=1e-4 if dtype == F32 else None, atol=1e-5 if dtype == F32 else None)


@pytest.mark.parametrize("name", [n for n in UNARY if UNARY[n][3]])
def test_unary_inplace(name):
    """In-place variants match PyTorch, including its refusal to cast a float result into an integer tensor."""
    call, dtypes, (low, high), method = UNARY[name]
    args = {"clamp_": (-1, 2), "clip_": (None, 1), "clamp_min_": (0.5,), "clamp_max_": (0.5,), "pow_": (3,)}
    for dtype in dtypes:
        x = sample((3, 4), dtype, low, high)

        def inplace(lib, t):
            return getattr(t.clone(), method)(*args.get(method, ()))
        try:
            expected = inplace(torch, torch.tensor(x))
        except (RuntimeError, NotImplementedError):
            check_error(inplace, x)
            continue
        check(inplace, x, grad=False)
        assert expected.dtype == torch.from_numpy(x).dtype


@pytest.mark.parametrize("name", ["abs", "neg", "positive", "relu", "floor", "frac", "round", "trunc", "ceil",
                                  "lerp_int", "hypot_int", "logaddexp_int", "round_int_decimals", "pow_bool",
                                  "invert_float", "bitwise_float", "fmod_bool", "addcmul_bool"])
def test_unsupported_dtypes(name):
    b, i, f = sample((3,), BOOL), sample((3,), I64), sample((3,), F32)
    calls = {
        "abs": (lambda lib, x: lib.abs(x), b), "neg": (lambda lib, x: -x, b),
        "positive": (lambda lib, x: +x, b), "relu": (lambda lib, x: lib.relu(x), b),
        "floor": (lambda lib, x: lib.floor(x), b), "frac": (lambda lib, x: lib.frac(x), i),
        "round": (lambda lib, x: lib.round(x), b), "trunc": (lambda lib, x: lib.trunc(x), b),
        "ceil": (lambda lib, x: lib.ceil(x), b), "lerp_int": (lambda lib, x: lib.lerp(x, x, 0.5), i),
        "hypot_int": (lambda lib, x: lib.hypot(x, x), i), "logaddexp_int": (lambda lib, x: lib.logaddexp(x, x), i),
        "round_int_decimals": (lambda lib, x: lib.round(x, decimals=1), i),
        "pow_bool": (lambda lib, x: x ** x, b), "invert_float": (lambda lib, x: ~x, f),
        "bitwise_float": (lambda lib, x: x & x, f), "fmod_bool": (lambda lib, x: lib.fmod(x, x), b),
        "addcmul_bool": (lambda lib, x: lib.addcmul(x, x, x), b),
    }
    call, x = calls[name]
    check_error(call, x)


def _nonzero(x):
    return numpy.where(x == 0, 1, x).astype(x.dtype)


# name: (call, dtypes, whether the second operand may be a Python number, whether it must be nonzero, domain)
BINARY = {
    "add": (lambda lib, x, y: lib.add(x, y), ALL, True, False, None),
    "add_alpha": (lambda lib, x, y: lib.add(x, y, alpha=2), REAL, True, False, None),
    "radd": (lambda lib, x, y: y + x, ALL, True, False, None),
    "sub": (lambda lib, x, y: lib.sub(x, y, alpha=3), REAL, True, False, None),
    "rsub": (lambda lib, x, y: y - x, REAL, True, False, None),
    "mul": (lambda lib, x, y: x * y, ALL, True, False, None),
    "rmul": (lambda lib, x, y: y * x, ALL, True, False, None),
    "div": (lambda lib, x, y: lib.div(x, y), ALL, True, True, None),
    "rtruediv": (lambda lib, x, y: y / x, REAL, True, True, None),
    "true_divide": (lambda lib, x, y: lib.true_divide(x, y), REAL, True, True, None),
    "div_trunc": (lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"), REAL, True, True, None),
    "div_floor": (lambda lib, x, y: lib.divide(x, y, rounding_mode="floor"), REAL, True, True, None),
    "floor_divide": (lambda lib, x, y: x // y, REAL, True, True, None),
    "rfloordiv": (lambda lib, x, y: y // x, REAL, True, True, None),
    "fmod": (lambda lib, x, y: lib.fmod(x, y), REAL, True, True, None),
    "remainder": (lambda lib, x, y: x % y, REAL, True, True, None),
    "rmod": (lambda lib, x, y: y % x, REAL, True, True, None),
    "pow": (lambda lib, x, y: lib.pow(x, y), (F32, F64), True, False, (0.5, 2)),
    "pow_int": (lambda lib, x, y: x ** y, (I64,), True, False, (0, 4)),
    "rpow": (lambda lib, x, y: y ** x, (F32, F64), True, False, (0.5, 2)),
    "float_power": (lambda lib, x, y: lib.float_power(x, y), REAL, True, False, (0.5, 2)),
    "atan2": (lambda lib, x, y: lib.atan2(x, y), ALL, False, False, None),
    "arctan2": (lambda lib, x, y: lib.arctan2(x, y), (F32,), False, False, None),
    "maximum": (lambda lib, x, y: lib.maximum(x, y), ALL, False, False, None),
    "minimum": (lambda lib, x, y: lib.minimum(x, y), ALL, False, False, None),
    "fmax": (lambda lib, x, y: lib.fmax(x, y), ALL, False, False, None),
    "fmin": (lambda lib, x, y: lib.fmin(x, y), ALL, False, False, None),
    "hypot": (lambda lib, x, y: lib.hypot(x, y), FLOATS, False, False, None),
    "logaddexp": (lambda lib, x, y: lib.logaddexp(x, y), FLOATS, False, False, None),
    "logaddexp2": (lambda lib, x, y: lib.logaddexp2(x, y), FLOATS, False, False, None),
    "xlogy": (lambda lib, x, y: lib.xlogy(x, y), ALL, True, False, (0, 3)),
    "copysign": (lambda lib, x, y: lib.copysign(x, y), ALL, True, False, None),
    "clamp_tensors": (lambda lib, x, y: lib.clamp(x, min=y, max=y + 1), REAL, False, False, None),
    "clamp_tensor_min": (lambda lib, x, y: lib.clamp(x, min=y), REAL, False, False, None),
    "clamp_tensor_max": (lambda lib, x, y: lib.clamp(x, max=y), REAL, False, False, None),
    "where": (lambda lib, x, y: lib.where(x > y, x, y), ALL, False, False, None),
    "lerp": (lambda lib, x, y: lib.lerp(x, y, 0.3), FLOATS, False, False, None),
    "lerp_tensor_weight": (lambda lib, x, y: lib.lerp(x, y, y.sigmoid()), FLOATS, False, False, None),
    "addcmul": (lambda lib, x, y: lib.addcmul(x, x, y, value=0.5), REAL, False, False, None),
    "addcdiv": (lambda lib, x, y: lib.addcdiv(y, x, y, value=2), FLOATS, False, True, None),
    "bitwise_and": (lambda lib, x, y: lib.bitwise_and(x, y), (I64, BOOL), True, False, None),
    "bitwise_or": (lambda lib, x, y: x | y, (I64, BOOL), True, False, None),
    "bitwise_xor": (lambda lib, x, y: x ^ y, (I64, BOOL), True, False, None),
    "rand": (lambda lib, x, y: y & x, (I64, BOOL), True, False, None),
    "ror": (lambda lib, x, y: y | x, (I64,), True, False, None),
    "rxor": (lambda lib, x, y: y ^ x, (I64,), True, False, None),
    "bitwise_left_shift": (lambda lib, x, y: lib.bitwise_left_shift(x, y), (I64, I32), True, False, (-2, 9)),
    "bitwise_right_shift": (lambda lib, x, y: x.bitwise_right_shift(y), (I64, I32), True, False, (-9, 9)),
    "bitwise_lshift_operator": (lambda lib, x, y: x << y, (I64,), True, False, (0, 9)),
    "bitwise_rshift_operator": (lambda lib, x, y: x >> y, (I64,), True, False, (-9, 9)),
    "bitwise_rlshift": (lambda lib, x, y: y << x, (I64,), True, False, (0, 9)),
    "bitwise_rrshift": (lambda lib, x, y: y >> x, (I64,), True, False, (0, 9)),
    "logical_and": (lambda lib, x, y: lib.logical_and(x, y), ALL, False, False, None),
    "logical_or": (lambda lib, x, y: lib.logical_or(x, y), ALL, False, False, None),
    "logical_xor": (lambda lib, x, y: x.logical_xor(y), ALL, False, False, None),
}


NOT_DIFFERENTIABLE_IN_TORCH = {"floor_divide", "rfloordiv", "rmod"}


def binary_samples(dtype, nonzero, domain):
    """Pairs: same shape, broadcast, 0-d with 2-d, empty, non-contiguous."""
    low, high = domain or (-3, 3)
    fix = _nonzero if nonzero else (lambda a: a)
    shapes = [((3, 4), (3, 4)), ((3, 4), (4,)), ((), (2, 3)), ((2, 1), (1, 3)), ((0, 3), (1, 3))]
    pairs = [(numpy.asarray(sample(a, dtype, low, high, seed=1)), numpy.asarray(sample(b, dtype, low, high, seed=2)))
             for a, b in shapes]
    pairs.append((noncontiguous(sample((4, 3), dtype, low, high)), noncontiguous(sample((4, 3), dtype, low, high,
                                                                                       seed=3))))
    return [(fix(x), fix(y)) for x, y in pairs]


@pytest.mark.parametrize("name", BINARY)
def test_binary(name):
    call, dtypes, scalars, nonzero, domain = BINARY[name]
    grad = name not in NOT_DIFFERENTIABLE_IN_TORCH
    for dtype in dtypes:
        for x, y in binary_samples(dtype, nonzero, domain):
            check(call, x, y, grad=grad, rtol=1e-4 if dtype == F32 else None, atol=1e-5 if dtype == F32 else None)
        if scalars:
            x = sample((2, 3), dtype, *(domain or (-3, 3)))
            x = _nonzero(x) if nonzero else x
            for number in ([2, 1.5, True] if dtype != BOOL else [True, 2]):
                if name.startswith(("bitwise", "rand", "ror", "rxor")) and isinstance(number, float):
                    continue
                if number is True and name in ("sub", "rsub"):
                    check_error(call, x, number)
                    continue
                # torch cannot differentiate pow with a bool scalar; it fails inside its backward
                check(call, x, number, grad=grad and not (number is True and "pow" in name), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["add", "mul", "maximum", "div", "where", "atan2", "pow", "copysign"])
def test_binary_mixed_dtypes(name):
    call = BINARY[name][0]
    pairs = [(F32, I64), (I64, F64), (F32, F64), (BOOL, F32), (I32, I64)]
    for a, b in pairs:
        x, y = sample((2, 3), a, 0.5, 2), sample((3,), b, 1, 3)
        grad = not (name == "atan2" and BOOL in (a, b))   # torch's atan2 backward negates the bool operand
        check(call, x, y, grad=grad, rtol=1e-5, atol=1e-6)
        # A 0-d operand does not lift the dimensioned operand's dtype; its gradient is computed in the lower one.
        check(call, x, numpy.array(y[0]), grad=grad, rtol=1e-5, atol=1e-6)


def test_integer_powers_follow_torch():
    base, exponent = numpy.array([0, 2, -1, 1, 3]), numpy.array([-1, -1, -3, -2, 2])
    check(lambda lib, x, y: x ** y, base, exponent)
    check_error(lambda lib, x: x ** -1, base, match="Integers to negative integer powers are not allowed.")


def test_rounding_division_keeps_integers_and_rounds_like_torch():
    x = numpy.array([7, -7, 7, -7, 0])
    y = numpy.array([2, 2, -2, -2, 3])
    for mode in ("trunc", "floor"):
        check(lambda lib, a, b: lib.div(a, b, rounding_mode=mode), x, y)
        check(lambda lib, a, b: lib.div(a, b, rounding_mode=mode), x.astype(F64) + 0.5, y.astype(F64))
    check_error(lambda lib, a: lib.div(a, 2, rounding_mode="nearest"), x)


@pytest.mark.parametrize("call", [lambda lib, x: x // 0, lambda lib, x: x % 0, lambda lib, x: lib.fmod(x, 0),
                                  lambda lib, x: lib.div(x, x, rounding_mode="trunc")])
def test_integer_division_by_zero_is_an_error(call):
    check_error(call, numpy.array([1, 0, 2]), match="ZeroDivisionError")


def test_float_division_by_zero_gives_inf_and_nan_without_warnings():
    x = numpy.array([1.0, 0.0, -1.0], F32)
    check(lambda lib, a: a / 0.0, x, grad=False)
    check(lambda lib, a: lib.fmod(a, 0.0), x, grad=False)
    check(lambda lib, a: a // 0.0, x, grad=False)
    check(lambda lib, a: lib.log(a), x, grad=False)


SPECIAL = numpy.array([0.0, -0.0, 1.0, -1.0, numpy.inf, -numpy.inf, numpy.nan, 1e-30, 30.0, -30.0])


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sign", "sigmoid", "erf", "erfc", "erfinv", "tanh", "abs",
                                  "relu", "floor", "atanh", "logit", "frac"])
def test_special_values(name):
    call = UNARY[name][0]
    for dtype in FLOATS:
        check(call, SPECIAL.astype(dtype), grad=False)


def test_erf_family_accuracy_in_float64():
    x = numpy.linspace(-6, 6, 2001)
    check(lambda lib, a: lib.erf(a), x, grad=False, rtol=1e-13, atol=1e-15)
    check(lambda lib, a: lib.erfc(a), numpy.linspace(-6, 26, 2001), grad=False, rtol=1e-12, atol=1e-300)
    y = numpy.concatenate([numpy.linspace(-1, 1, 2001), [1 - 1e-15, -1 + 1e-12, 1e-300, 1.5, -2.0]])
    check(lambda lib, a: lib.erfinv(a), y, grad=False, rtol=1e-12, atol=1e-15)


def test_nan_to_num_replacements():
    x = numpy.array([numpy.nan, numpy.inf, -numpy.inf, 1.5], F32)
    check(lambda lib, a: lib.nan_to_num(a), x)
    check(lambda lib, a: lib.nan_to_num(a, nan=1.0, posinf=2.0, neginf=-2.0), x)
    check(lambda lib, a: a.clone().nan_to_num_(nan=3.0), x, grad=False)


# --- gradients at the points where the rule matters -------------------------------------------------------------
@pytest.mark.parametrize("call, values", [
    (lambda lib, x: lib.abs(x), [0.0, -1.0, 2.0]),
    (lambda lib, x: lib.relu(x), [0.0, -1.0, 2.0]),
    (lambda lib, x: lib.sqrt(x), [0.0, 4.0]),
    (lambda lib, x: lib.clamp(x, -1.0, 1.0), [-1.0, 1.0, 0.5, 2.0, -3.0]),
    (lambda lib, x: lib.clamp(x, min=1.0), [1.0, 0.0, 2.0]),
    (lambda lib, x: lib.maximum(x, x.new_tensor([1.0, 2.0, 0.0]) if lib is torch else lib.tensor([1.0, 2.0, 0.0])),
     [1.0, 1.0, 1.0]),
    (lambda lib, x: lib.sign(x), [0.0, -2.0]),
    (lambda lib, x: lib.floor(x) + lib.round(x) + lib.trunc(x) + lib.ceil(x), [0.5, -1.5]),
    (lambda lib, x: x ** 0, [0.0, 2.0]),
    (lambda lib, x: x ** 2.0, [0.0, -2.0]),
    (lambda lib, x: 0.0 ** x, [0.0, 1.0, -1.0]),
    (lambda lib, x: x ** x, [0.0, 1.0, 2.0]),
    (lambda lib, x: lib.xlogy(x, x), [0.0, 1.0, 2.0]),
    (lambda lib, x: lib.logit(x, eps=0.25), [0.25, 0.1, 0.5, 0.9]),
    (lambda lib, x: lib.logit(x), [-0.5, 0.5, 1.5]),
    (lambda lib, x: lib.copysign(x, -1.0), [0.0, 2.0, -3.0]),
    (lambda lib, x: lib.hypot(x, x), [0.0, 1.0]),
])
def test_gradients_at_special_points(call, values):
    check(call, numpy.array(values, F64))


@pytest.mark.parametrize("call", [lambda lib, x, y: lib.fmax(x, y), lambda lib, x, y: lib.fmin(x, y),
                                  lambda lib, x, y: lib.minimum(x, y), lambda lib, x, y: lib.maximum(x, y),
                                  lambda lib, x, y: lib.fmod(x, y) + lib.remainder(x, y)])
def test_binary_gradients_at_ties_and_nans(call):
    check(call, numpy.array([numpy.nan, 1.0, 2.0, 5.5, -1.5]), numpy.array([1.0, numpy.nan, 2.0, 2.0, 0.5]))


def test_clamp_tensor_bounds_gradients_match_torch_including_crossed_bounds():
    x = numpy.array([-2.0, 0.0, 1.0, 3.0, 0.5])
    low = numpy.array([-1.0, 0.0, 2.0, 1.0, 0.5])
    high = numpy.array([1.0, 0.0, 1.0, 2.0, 0.5])
    check(lambda lib, a, lo, hi: lib.clamp(a, lo, hi), x, low, high)
    check(lambda lib, a, lo: lib.clamp(a, min=lo), x, low)
    check(lambda lib, a, hi: lib.clamp(a, max=hi), x, high)


EDGES = [-0.0, 0.0, numpy.nan, -numpy.inf, numpy.inf, 1.5, -1.5, 2.0]


@pytest.mark.parametrize("dtype", (F16, F32, F64))
@pytest.mark.parametrize("repeats", (1, 1000))   # 8 elements take maxima/minima, 8000 NumPy's clip (float16: both)
def test_clamp_and_relu_keep_torchs_bits_at_signed_zeros_nans_and_crossed_bounds(dtype, repeats):
    x = numpy.tile(numpy.array(EDGES, dtype), repeats)
    bits = {F16: numpy.uint16, F32: numpy.uint32, F64: numpy.uint64}[dtype]

    def same(call):
        got, want = call(ember, ember.tensor(x)).numpy(), call(torch, torch.tensor(x)).numpy()
        numpy.testing.assert_array_equal(got.view(bits), want.view(bits))
    same(lambda lib, t: t.relu())
    for low in EDGES + [None]:
        for high in EDGES + [None]:
            if low is not None or high is not None:
                same(lambda lib, t: lib.clamp(t, low, high))
                if low is not None and high is not None:
                    same(lambda lib, t: lib.clamp(t, lib.tensor(low, dtype=t.dtype), lib.tensor(high, dtype=t.dtype)))


def test_where_gradients_flow_to_the_selected_side():
    c = numpy.array([True, False, True])
    check(lambda lib, cond, a, b: lib.where(cond, a, b), c, numpy.ones(3), numpy.full((2, 1, 3), 2.0))
    check(lambda lib, cond, a: lib.where(cond, a, 0.0), c, numpy.ones(3))


def test_where_condition_rules():
    check_error(lambda lib, x: lib.where(x, x, x), numpy.ones(3, F32), match="where expected condition to be a "
                "boolean tensor, but got a tensor with dtype Float")
    check(lambda lib, c: lib.where(c), numpy.array(True), grad=False)
    check(lambda lib, c: lib.where(c), sample((3, 0), BOOL), grad=False)
    check(lambda lib, c: lib.where(c, 1, 0), sample((2, 3), BOOL), grad=False)


GRADCHECK = {
    "exp2": (lambda lib, x: lib.exp2(x), (-1, 1)), "expm1": (lambda lib, x: lib.expm1(x), (-1, 1)),
    "log2": (lambda lib, x: lib.log2(x), (0.5, 2)), "log10": (lambda lib, x: lib.log10(x), (0.5, 2)),
    "log1p": (lambda lib, x: lib.log1p(x), (0, 2)), "sqrt": (lambda lib, x: lib.sqrt(x), (0.5, 2)),
    "rsqrt": (lambda lib, x: lib.rsqrt(x), (0.5, 2)), "abs": (lambda lib, x: lib.abs(x), (0.2, 1)),
    "reciprocal": (lambda lib, x: lib.reciprocal(x), (0.5, 2)), "square": (lambda lib, x: lib.square(x), (-1, 1)),
    "sin": (lambda lib, x: lib.sin(x), (-1, 1)), "cos": (lambda lib, x: lib.cos(x), (-1, 1)),
    "tan": (lambda lib, x: lib.tan(x), (-1, 1)), "asin": (lambda lib, x: lib.asin(x), (-0.5, 0.5)),
    "acos": (lambda lib, x: lib.acos(x), (-0.5, 0.5)), "atan": (lambda lib, x: lib.atan(x), (-1, 1)),
    "sinh": (lambda lib, x: lib.sinh(x), (-1, 1)), "cosh": (lambda lib, x: lib.cosh(x), (-1, 1)),
    "tanh": (lambda lib, x: lib.tanh(x), (-1, 1)), "asinh": (lambda lib, x: lib.asinh(x), (-1, 1)),
    "acosh": (lambda lib, x: lib.acosh(x), (1.5, 2)), "atanh": (lambda lib, x: lib.atanh(x), (-0.5, 0.5)),
    "sigmoid": (lambda lib, x: lib.sigmoid(x), (-2, 2)), "logit": (lambda lib, x: lib.logit(x), (0.2, 0.8)),
    "erf": (lambda lib, x: lib.erf(x), (-2, 2)), "erfc": (lambda lib, x: lib.erfc(x), (-2, 2)),
    "erfinv": (lambda lib, x: lib.erfinv(x), (-0.8, 0.8)), "frac": (lambda lib, x: lib.frac(x), (0.2, 0.8)),
    "deg2rad": (lambda lib, x: lib.deg2rad(x), (-1, 1)), "relu": (lambda lib, x: lib.relu(x), (0.2, 1)),
    "pow_scalar": (lambda lib, x: x ** 3, (0.5, 2)), "rpow": (lambda lib, x: 2.0 ** x, (-1, 1)),
    "clamp": (lambda lib, x: lib.clamp(x, -0.25, 0.25), (-1, 1)),
    "div": (lambda lib, x, y: x / y, (0.5, 2)), "pow": (lambda lib, x, y: x ** y, (0.5, 2)),
    "atan2": (lambda lib, x, y: lib.atan2(x, y), (0.5, 2)), "hypot": (lambda lib, x, y: lib.hypot(x, y), (0.5, 2)),
    "logaddexp": (lambda lib, x, y: lib.logaddexp(x, y), (-1, 1)),
    "logaddexp2": (lambda lib, x, y: lib.logaddexp2(x, y), (-1, 1)),
    "xlogy": (lambda lib, x, y: lib.xlogy(x, y), (0.5, 2)),
    "maximum": (lambda lib, x, y: lib.maximum(x, y), (-1, 1)), "fmin": (lambda lib, x, y: lib.fmin(x, y), (-1, 1)),
    "lerp": (lambda lib, x, y: lib.lerp(x, y, y), (-1, 1)),
    "addcdiv": (lambda lib, x, y: lib.addcdiv(x, x, y, value=0.5), (0.5, 2)),
    "addcmul": (lambda lib, x, y: lib.addcmul(x, x, y, value=0.5), (-1, 1)),
    "copysign": (lambda lib, x, y: lib.copysign(x, y), (0.5, 2)),
    "where": (lambda lib, x, y: lib.where(x > 0, x * y, y), (-1, 1)),
    "float_power": (lambda lib, x, y: lib.float_power(x, y), (0.5, 2)),
    "fmod": (lambda lib, x, y: lib.fmod(x, y), (0.5, 0.9)),
}


@pytest.mark.parametrize("name", GRADCHECK)
def test_gradcheck(name):
    if not hasattr(ember.autograd, "gradcheck"):
        pytest.skip("ember.autograd.gradcheck is not available yet")
    call, (low, high) = GRADCHECK[name]
    arity = call.__code__.co_argcount - 1
    arrays = [sample((2, 3), F64, low, high, seed=s) for s in range(arity)]
    if name == "fmod":
        arrays[0] = arrays[0] + 2.0
    gradcheck(call, *arrays)


# --- in-place helpers and operators -------------------------------------------------------------------------------
def test_fill_zero_and_copy():
    x = sample((2, 3), F32)
    check(lambda lib, a: a.clone().fill_(2.5), x)
    check(lambda lib, a: a.clone().zero_(), x)
    check(lambda lib, a: sample_int(lib).fill_(2.7), x, grad=False)
    check(lambda lib, a, v: a.clone().fill_(v * 2), x, numpy.array(1.5, F32))
    check(lambda lib, a, s: a.clone().copy_(s), x, sample((3,), F64), rtol=1e-6, atol=1e-6)
    check(lambda lib, a, s: a.clone().copy_(s * 3), x, sample((2, 1), F32))
    check(lambda lib, a, s: sample_int(lib).copy_(s), x, sample((2, 3), F32))
    check_error(lambda lib, a: a.clone().fill_(lib.ones(2)), x, match="fill_ only supports 0-dimension value")
    check_error(lambda lib, a: a.clone().copy_(lib.ones(4)), x,
                match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1")
    check_error(lambda lib, a: a.clone().copy_(lib.ones(4, 2, 3)), x,
                match=r"output with shape \[2, 3\] doesn't match the broadcast shape \[4, 2, 3\]")


def sample_int(lib):
    return lib.tensor([[1, 2, 3], [4, 5, 6]])


def test_fill_of_a_leaf_that_requires_grad_is_an_error():
    check_error(lambda lib: lib.ones(2, requires_grad=True).fill_(1.0), match="a leaf Variable that requires grad")


def test_augmented_assignment_operators():
    x, y = sample((2, 3), I64, 1, 5), sample((3,), I64, 1, 5, seed=3)

    def augmented(lib, a, b):
        a = a.clone()
        a += b
        a -= b
        a *= b
        a //= b
        a %= b + 3
        a **= 2
        a &= b
        a |= b
        a ^= b
        return a
    check(augmented, x, y)
    f = sample((2, 3), F32, 1, 5)

    def floating(lib, a, b):
        a = a.clone()
        a /= b
        return a
    check(floating, f, y)
    check_error(floating, x, y, match="result type Float can't be cast to the desired output type Long")


def test_float_power_inplace_needs_double():
    check_error(lambda lib, a: a.clone().float_power_(2), sample((3,), F32),
                match="the base given to float_power_ has dtype Float")
    check(lambda lib, a: a.clone().float_power_(2), sample((3,), F64), grad=False)


@pytest.mark.parametrize("call", [
    lambda lib, x, y: x + y, lambda lib, x, y: x * y, lambda lib, x, y: lib.maximum(x, y),
    lambda lib, x, y: lib.where(x > 0, x, y), lambda lib, x, y: x & y.long() if x.dtype == lib.int64 else x - y])
def test_shapes_that_cannot_broadcast(call):
    error = check_error(call, sample((2, 3), F32), sample((2, 4), F32),
                        match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton "
                              r"dimension 1")
    assert error.__suppress_context__   # printed alone, as PyTorch's, without NumPy's ValueError beneath it


def test_bool_arithmetic_errors():
    b = sample((3,), BOOL)
    check_error(lambda lib, x: x - x, b, match="with two bool tensors is not supported")
    check_error(lambda lib, x: x - 1, b, match="with a bool tensor is not supported")
    check_error(lambda lib, x: -x, b, match="Negation, the `-` operator, on a bool tensor is not supported")


def test_tensor_only_operands_raise_type_error():
    x = sample((3,), F32)
    for name in ("maximum", "minimum", "fmax", "fmin", "atan2", "hypot", "logaddexp", "logical_and"):
        check_error(lambda lib, a: getattr(lib, name)(a, 2), x)
    check_error(lambda lib, a: lib.fmod(2, a), x)


def test_lerp_and_addcdiv_dtype_errors():
    x = sample((3,), F32)
    check_error(lambda lib, a: lib.lerp(a, a.double(), 0.5), x, match="expected dtype float for `end`")
    check_error(lambda lib, a: lib.lerp(a, a, a.double()), x, match="expected dtype float for `weight`")
    check_error(lambda lib, a: lib.addcdiv(a, a.long(), a.long()), x, match="Integer division with addcdiv")


def test_clamp_needs_a_bound():
    check_error(lambda lib, a: lib.clamp(a), sample((3,), F32), match="At least one of 'min' or 'max'")


def test_out_argument():
    x = sample((2, 3), F32)
    check(lambda lib, a: lib.exp(a, out=lib.empty(2, 3)), x, grad=False)
    check(lambda lib, a: lib.add(a, 1, out=lib.empty(0)), x, grad=False)


def test_double_backward_through_composite_ops():
    x = numpy.array([0.3, 1.7, -0.4], F64)

    def second(lib, a):
        y = (lib.sin(a) * lib.erf(a) + lib.clamp(a, -0.5, 1) ** 2).sum()
        g, = lib.autograd.grad(y, a, create_graph=True)
        return g
    check(second, x)


@pytest.mark.parametrize("dtype", [F64, numpy.complex128])
def test_abs_second_derivative(dtype):
    x = sample((2, 3), dtype, seed=4)
    gradcheck_inputs = (ember.tensor(x, requires_grad=True),)
    assert ember.autograd.gradcheck(ember.abs, gradcheck_inputs)
    assert ember.autograd.gradgradcheck(ember.abs, gradcheck_inputs)

    def second(lib, a):
        g, = lib.autograd.grad((lib.abs(a) ** 3).sum(), a, create_graph=True)
        return g * g.conj() if a.is_complex() else g
    check(second, x)


def test_default_dtype_float64_is_used_for_integer_inputs():
    previous = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        check(lambda lib, a: lib.sqrt(a) + lib.sigmoid(a) + a / 2, sample((3,), I64, 1, 5))
    finally:
        ember.set_default_dtype(previous)
        torch.set_default_dtype(torch.float32)


# --- broadcasting properties -----------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       op=st.sampled_from(["add", "mul", "maximum", "sub", "where"]), seed=st.integers(0, 2**16))
def test_broadcasting_matches_torch(shapes, op, seed):
    a_shape, b_shape = shapes.input_shapes
    x, y = sample(a_shape, F64, seed=seed), sample(b_shape, F64, seed=seed + 1)
    calls = {"add": lambda lib, a, b: lib.add(a, b), "mul": lambda lib, a, b: a * b,
             "maximum": lambda lib, a, b: lib.maximum(a, b), "sub": lambda lib, a, b: a - b,
             "where": lambda lib, a, b: lib.where(a > b, a, b)}
    e_out, _ = check(calls[op], x, y)
    assert tuple(e_out.shape) == shapes.result_shape


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3),
       dtypes=st.tuples(st.sampled_from([F32, F64, I64, BOOL]), st.sampled_from([F32, F64, I64, BOOL])))
def test_mixed_dtype_broadcasting_matches_torch(shapes, dtypes):
    a_shape, b_shape = shapes.input_shapes
    x, y = sample(a_shape, dtypes[0], seed=1), sample(b_shape, dtypes[1], seed=2)
    check(lambda lib, a, b: a + b, x, y, grad=False)
    check(lambda lib, a, b: a * b, x, y, grad=False)
    check(lambda lib, a, b: lib.maximum(a, b), x, y, grad=False)


@pytest.mark.parametrize("call", [lambda lib, x: x // 2, lambda lib, x: 3 // x, lambda lib, x: 3 % x,
                                  lambda lib, x: lib.floor_divide(x, x), lambda lib, x: lib.remainder(3.0, x)])
def test_ops_without_derivative_raise_in_backward_like_torch(call):
    x = sample((2, 3), F32, 1, 3)
    error = check_error(lambda lib, a: call(lib, a.requires_grad_()).sum().backward(), x)
    torch_error = pytest.raises(RuntimeError, lambda: call(torch, torch.tensor(x, requires_grad=True)).sum().backward())
    assert str(error) == str(torch_error.value)


@pytest.mark.parametrize("call", [lambda lib, x: 3 // x, lambda lib, x: 3 % x, lambda lib, x: 3.5 // x,
                                  lambda lib, x: 2.5 % x, lambda lib, x: True // x,
                                  lambda lib, x: lib.remainder(-7, x)])
@pytest.mark.parametrize("dtype", [I64, F32, I32])
def test_number_on_the_left_of_floor_divide_and_remainder(call, dtype):
    check(call, _nonzero(sample((2, 3), dtype, -4, 4)), grad=False)


def test_remainder_and_fmod_of_two_tensors_differentiate_both():
    x, y = sample((2, 3), F64, 1, 3), sample((2, 3), F64, 0.5, 1)
    check(lambda lib, a, b: a % b, x, y)
    check(lambda lib, a, b: lib.fmod(a, b), x, y)


INT8_SHIFTS = [lambda lib, x: x << 300, lambda lib, x: x & 300, lambda lib, x: x | -1, lambda lib, x: x >> 9,
               lambda lib, x: x << lib.tensor([1, 2, 3], dtype=lib.int64), lambda lib, x: 2 >> x.abs(),
               lambda lib, x: x.bitwise_left_shift(True), lambda lib, x: (x > 0) << 1, lambda lib, x: (x > 0) | 2,
               lambda lib, x: lib.bitwise_left_shift(x, x.abs(), out=lib.empty(3, dtype=lib.int64))]


@pytest.mark.parametrize("call", INT8_SHIFTS)
def test_bitwise_and_shift_dtype_rules(call):
    check(call, numpy.array([1, -8, 5], dtype=numpy.int8), grad=False)


@pytest.mark.parametrize("name", ["bitwise_left_shift_", "bitwise_right_shift_", "__ilshift__", "__irshift__",
                                  "bitwise_and_", "__ixor__"])
def test_bitwise_inplace(name):
    def call(lib, x, y):
        target = x.clone()
        assert getattr(target, name)(y) is target
        return target
    x = numpy.array([1, -8, 5, 100], dtype=numpy.int16)
    check(call, x, numpy.array([1, 2, 0, 3]), grad=False)
    check(call, x, 3, grad=False)


@pytest.mark.parametrize("call", [lambda lib, x: x << 1.5, lambda lib, x: 1.5 << x, lambda lib, x: x.float() << 1,
                                  lambda lib, x: x >> x.float(), lambda lib, x: (x > 0) << True,
                                  lambda lib, x: lib.bitwise_right_shift(x > 0, x > 1),
                                  lambda lib, x: x << lib.tensor([1, 2]), lambda lib, x: x.float().__ilshift__(1)])
def test_shift_errors(call):
    error = check_error(call, numpy.array([1, -8, 5]))
    with pytest.raises(type(error)) as torch_error:
        call(torch, torch.tensor([1, -8, 5]))
    assert str(error) == str(torch_error.value)


@pytest.mark.parametrize("dtype", (F32, F64))
@pytest.mark.parametrize("exponent", (2, 2.0, 3, -2, -0.5, -1, 0.5, 1.5, 4))
def test_number_powers_of_large_arrays_match_torch(dtype, exponent):
    # 2, 3, -2, -0.5 and -1 are products and quotients (PyTorch's own kernels for them: the same bits); 0.5 is
    # sqrt (correctly rounded, PyTorch's vectorised pow within 1 ulp of it); others NumPy's power
    rng = numpy.random.default_rng(4)
    specials = [0.0, -0.0, numpy.inf, -numpy.inf, numpy.nan, 1e-30, 1e30, -1e20, -3.0]
    x = numpy.concatenate([rng.standard_normal(20_000) * 3, specials]).astype(dtype)
    got, want = (ember.tensor(x) ** exponent).numpy(), (torch.tensor(x) ** exponent).numpy()
    assert got.dtype == want.dtype
    numpy.testing.assert_array_equal(numpy.isnan(got), numpy.isnan(want))
    finite = numpy.isfinite(want)
    numpy.testing.assert_array_equal(got[~finite & ~numpy.isnan(want)], want[~finite & ~numpy.isnan(want)])
    if exponent in (2, 3, -2, -0.5, -1):
        numpy.testing.assert_array_equal(got[finite], want[finite])
        numpy.testing.assert_array_equal(numpy.signbit(got[finite]), numpy.signbit(want[finite]))
    else:
        ulps = numpy.abs(got[finite] - want[finite]) / numpy.spacing(numpy.abs(want[finite]).astype(dtype))
        assert ulps.max() <= 1


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv"])
@pytest.mark.parametrize("dtype", (F32, F64))
def test_erf_family_of_large_arrays_in_blocks_matches_small_arrays_and_torch(name, dtype):
    # over 2 * FLOAT64_BLOCK elements the float64 evaluation runs a block at a time on the intra-op threads: the
    # same bits as an array evaluated whole
    from ember.ops import _parallel
    rng = numpy.random.default_rng(5)
    count = 2 * _parallel.FLOAT64_BLOCK + 1001
    if name == "erfinv":
        x = numpy.concatenate([rng.uniform(-1, 1, count), [1.0, -1.0, 0.0, -0.0, numpy.nan, 1.5, 1 - 1e-7]])
    else:
        x = numpy.concatenate([rng.standard_normal(count) * 3, [0.0, -0.0, numpy.inf, -numpy.inf, numpy.nan, 40.0]])
    x = x.astype(dtype)
    whole = getattr(ember, name)(ember.tensor(x)).numpy()
    pieces = numpy.concatenate([getattr(ember, name)(ember.tensor(part)).numpy() for part in numpy.array_split(x, 64)])
    numpy.testing.assert_array_equal(whole, pieces)
    want = getattr(torch, name)(torch.tensor(x)).numpy()
    numpy.testing.assert_array_equal(numpy.isnan(whole), numpy.isnan(want))
    finite = numpy.isfinite(want)
    numpy.testing.assert_array_equal(whole[~finite & ~numpy.isnan(want)], want[~finite & ~numpy.isnan(want)])
    ulps = numpy.abs(whole[finite].astype(numpy.float64) - want[finite]) / numpy.spacing(numpy.abs(want[finite]))
    assert ulps.max() <= (2 if dtype == F32 else 256)   # float64: Cephes' erfc tail reaches ~1e-14 relative


MODULO_EDGES = numpy.array([0.0, -0.0, 1.0, -1.0, numpy.inf, -numpy.inf, numpy.nan, 1e-45, -1e-45, 3e38, -3e38, 0.7,
                            -0.7, 2.1, -2.1, 2.0 ** 21, 2.0 ** 28, 16777215.0, 1e-38])


def _modulo_operands(dtype, seed=0):
    """Float operands over 26 decades and every pair of edge values, as one (n,) dividend and divisor."""
    rng = numpy.random.default_rng(seed)
    wide = [(rng.standard_normal(6000) * numpy.exp(rng.uniform(-30, 30, 6000))).astype(dtype) for _ in range(2)]
    edges = MODULO_EDGES.astype(dtype)
    multiples = (rng.integers(-50, 50, 300) * dtype(0.7)).astype(dtype)   # remainders that come out zero
    return (numpy.concatenate([wide[0], numpy.repeat(edges, edges.size), multiples]),
            numpy.concatenate([wide[1], numpy.tile(edges, edges.size), numpy.full(300, 0.7, dtype)]))


def _assert_bits_equal(expected, actual, a, b):
    """Equal dtypes, NaN places and bits elsewhere, leaving out where a / b overflows a finite ``a``: there
    PyTorch's vectorized fmod (Sleef) gives NaN and its scalar tail the true value, which ember gives."""
    expected, actual = expected.numpy(), actual.numpy()
    assert expected.dtype == actual.dtype and expected.shape == actual.shape
    with numpy.errstate(all="ignore"):
        quotient = numpy.asarray(a, expected.dtype) / numpy.asarray(b, expected.dtype)
    keep = numpy.broadcast_to(~(numpy.isinf(quotient) & numpy.isfinite(a) & (b != 0)), expected.shape)
    expected, actual = expected[keep], actual[keep]
    nan = numpy.isnan(expected)
    assert numpy.array_equal(nan, numpy.isnan(actual))
    integers = numpy.dtype(f"i{expected.itemsize}")
    assert numpy.array_equal(expected[~nan].view(integers), actual[~nan].view(integers))


@pytest.mark.parametrize("name", ["remainder", "fmod", "floor_divide"])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_modulo_and_floor_divide_are_bit_identical_to_torch(name, dtype):
    a, b = _modulo_operands(dtype)
    t_op, e_op = getattr(torch, name), getattr(ember, name)
    _assert_bits_equal(t_op(torch.tensor(a), torch.tensor(b)), e_op(ember.tensor(a), ember.tensor(b)), a, b)
    for divisor in (0.7, -0.7, 3.0, 1e-3, 1e5, 1e-40, 0.0, -0.0, numpy.inf, -numpy.inf, numpy.nan):
        _assert_bits_equal(t_op(torch.tensor(a), divisor), e_op(ember.tensor(a), divisor), a, dtype(divisor))
    column, row = a[:300, None], b[:200]
    _assert_bits_equal(t_op(torch.tensor(column), torch.tensor(row)), e_op(ember.tensor(column), ember.tensor(row)),
                       column, row)
    if name != "fmod":
        for number in (2.5, -7.0, 0.0):
            _assert_bits_equal(t_op(number, torch.tensor(b)), e_op(number, ember.tensor(b)), dtype(number), b)


@pytest.mark.parametrize("call", [lambda lib, a, b: a % b, lambda lib, a, b: lib.fmod(a, b), lambda lib, a, b: a // b])
def test_modulo_of_empty_zero_d_and_integer_tensors(call):
    for dtype in (F32, F64, I64, I32):
        check(call, sample((0, 3), dtype, 1, 5), sample((3,), dtype, 1, 5), grad=False)
        check(call, numpy.asarray(sample((), dtype, -9, 9)), numpy.asarray(sample((), dtype, 1, 5, seed=1)),
              grad=False)
    x = numpy.arange(-300, 300, dtype=I64) * 7919
    for divisor in (7, -7, 1000):
        check(lambda lib, a: call(lib, a, divisor), x, grad=False)
        check(lambda lib, a: call(lib, a, divisor), x.astype(I32), grad=False)


def test_remainder_and_fmod_gradients_on_large_float32():
    x, y = sample((40, 50), F32, -30, 30), sample((40, 50), F32, 0.5, 2, seed=1)
    check(lambda lib, a, b: a % b, x, y)
    check(lambda lib, a, b: lib.fmod(a, b), x, y)
    check(lambda lib, a: a % -0.7, x)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_logaddexp_and_hypot_on_edges_and_large_inputs(dtype):
    edges = numpy.array([0.0, -0.0, 1.0, -1.0, numpy.inf, -numpy.inf, numpy.nan, 1e-45, 3e38, -3e38, 88.0, -100.0],
                        dtype)
    rng = numpy.random.default_rng(2)
    a = numpy.concatenate([numpy.repeat(edges, edges.size), (rng.standard_normal(5000) * 30).astype(dtype)])
    b = numpy.concatenate([numpy.tile(edges, edges.size), (rng.standard_normal(5000) * 30).astype(dtype)])
    for args in ((a, b), (a[:50, None], b[:40]), (numpy.asarray(a[200]), numpy.asarray(b[200])), (a[:0], b[:0])):
        t_args, e_args = [torch.tensor(v) for v in args], [ember.tensor(v) for v in args]
        expected, actual = torch.logaddexp(*t_args).numpy(), ember.logaddexp(*e_args).numpy()
        assert expected.dtype == actual.dtype
        # NumPy's exp and log1p are not PyTorch's (Sleef): the same formula, within an ulp of the larger input
        numpy.testing.assert_allclose(actual, expected, rtol=0, atol=float(numpy.finfo(dtype).eps) * 64)
        assert numpy.array_equal(numpy.isinf(actual), numpy.isinf(expected))
        assert numpy.array_equal(actual[numpy.isinf(actual)], expected[numpy.isinf(expected)])
        expected, actual = torch.hypot(*t_args).numpy(), ember.hypot(*e_args).numpy()
        if dtype == F32:   # float64's hypot is NumPy's (libm) and PyTorch's Sleef loop: an ulp apart at times
            assert numpy.array_equal(expected, actual, equal_nan=True)
        numpy.testing.assert_allclose(actual, expected, rtol=4e-16)
    check(lambda lib, x, y: [lib.logaddexp(x, y), lib.hypot(x, y)], sample((30, 40), dtype, -5, 5),
          sample((40,), dtype, -5, 5, seed=1))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_lerp_rounds_once_as_torchs_fused_multiply_add(dtype):
    # PyTorch's lerp is fma(weight, end - start, start) (or from end): plain arithmetic differed in ~25 % of floats
    rng = numpy.random.default_rng(7)
    a, b = rng.standard_normal(4000).astype(F32), rng.standard_normal(4000).astype(F32)
    w = rng.uniform(-0.2, 1.2, 4000).astype(F32)
    for weight in (0.3, 0.7, 0.5, 0.1, 1, "tensor", "broadcast"):
        results = []
        for lib in (ember, torch):
            d = getattr(lib, dtype)
            x, y = lib.tensor(a).to(d), lib.tensor(b).to(d)
            wt = {"tensor": lambda: lib.tensor(w).to(d), "broadcast": lambda: lib.tensor(w[:1]).to(d)}.get(
                weight, lambda: weight)()
            results.append([lib.lerp(x, y, wt).float().numpy(), x.clone().lerp_(y, wt).float().numpy()])
        for ours, theirs in zip(*results):
            numpy.testing.assert_array_equal(ours, theirs, err_msg=str(weight))
    check(lambda lib, x, y, z: lib.lerp(x, y, z), sample((3, 4), F32), sample((4,), F32, seed=1),
          sample((3, 1), F32, 0, 1, seed=2))
    check(lambda lib, x, y: lib.lerp(x, y, 0.6), sample((3, 4), F32), sample((3, 4), F32, seed=1))
