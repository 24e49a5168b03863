"""Complex views and queries against torch: real / imag / view_as_real / view_as_complex / angle, their gradients,
writes through the views, and the conj / neg bit no-ops."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_error, noncontiguous, sample

C64, C128, F32, F64 = numpy.complex64, numpy.complex128, numpy.float32, numpy.float64
COMPLEX_SAMPLES = [sample((3, 4), C64, seed=1), numpy.asarray(sample((), C128, seed=2)), sample((0, 3), C64),
                   noncontiguous(sample((4, 3), C128, seed=3))]

OPS = [
    ("real", lambda lib, z: z.real * 1.5),
    ("imag", lambda lib, z: z.imag * 1.5),
    ("torch.real", lambda lib, z: lib.real(z).exp()),
    ("torch.imag", lambda lib, z: lib.imag(z).exp()),
    ("view_as_real", lambda lib, z: lib.view_as_real(z) ** 2),
    ("angle", lambda lib, z: lib.angle(z * 2)),
    ("Tensor.angle", lambda lib, z: z.angle()),
    ("view_as_complex", lambda lib, z: lib.view_as_complex(lib.view_as_real(z * 2) * 3)),
]


@pytest.mark.parametrize("name,fn", OPS, ids=[op[0] for op in OPS])
@pytest.mark.parametrize("index", range(len(COMPLEX_SAMPLES)))
def test_complex_views_match_torch(name, fn, index):
    check(fn, COMPLEX_SAMPLES[index])


def test_view_as_complex_of_real_pairs_matches_torch():
    check(lambda lib, x: lib.view_as_complex(x) * (1 + 2j), sample((3, 2), F32))
    check(lambda lib, x: lib.view_as_complex(x).abs(), sample((2, 3, 2), F64))
    check(lambda lib, x: lib.view_as_complex(x.transpose(0, 1)), sample((3, 4, 2), F64))


def test_angle_of_real_and_integer_inputs_matches_torch():
    special = numpy.array([-0.0, 0.0, -1.5, 2.0, numpy.nan, -numpy.inf], F32)
    check(lambda lib, x: lib.angle(x), special)
    check(lambda lib, x: lib.angle(x), sample((3,), F64))
    check(lambda lib, x: lib.angle(x), numpy.array([3, -2, 0], numpy.int64))
    check(lambda lib, z: lib.angle(z), numpy.array([0j, -1 + 0j, 1j, 2 - 2j], C128))   # gradient 0 at 0


def test_real_of_real_is_self_and_errors_match_torch():
    x = ember.ones(3)
    assert x.real is x and ember.real(x) is x
    check_error(lambda lib, x: x.imag, sample((3,), F32), match="imag is not implemented for tensors with non-complex")
    check_error(lambda lib, x: lib.view_as_real(x), sample((3,), F32), match="only supported for complex tensors")
    check_error(lambda lib, x: lib.view_as_complex(x), sample((3, 3), F32), match="last dimension of size 2")
    check_error(lambda lib, x: lib.view_as_complex(x), sample((3,), F32), match="last dimension of size 2")
    check_error(lambda lib, x: lib.view_as_complex(x.t()), sample((2, 4), F32), match="last dimension with stride 1")
    check_error(lambda lib, x: lib.view_as_complex(x[:, :2]), sample((3, 3), F32), match="stride divisible by 2")
    check_error(lambda lib, x: lib.view_as_complex(x[1:].view(3, 2)), sample((7,), F32),
                match="storage_offset divisible by 2")
    check_error(lambda lib, x: lib.view_as_complex(x), numpy.ones((3, 2), numpy.int32),
                match="scalar type: Int")


def test_views_share_memory_and_version():
    def write_through_views(lib):
        z = lib.tensor(sample((2, 3), C64, seed=4))
        z.real.mul_(2)
        z.imag[0] = 7.0
        lib.view_as_real(z)[1, :, 1].zero_()
        lib.view_as_complex(lib.view_as_real(z))[0, 0] = 1 - 1j
        assert z._version == 4
        values = z.numpy().copy()
        z.real = lib.ones(3)
        z.imag = 2.5
        assert z._version == 6
        return values, z.numpy()
    for ember_result, torch_result in zip(write_through_views(ember), write_through_views(torch)):
        numpy.testing.assert_array_equal(ember_result, torch_result)
    x = ember.zeros(3)
    x.real = ember.arange(3.0)
    assert x.tolist() == [0.0, 1.0, 2.0]


def test_inplace_writes_through_views_keep_gradients():
    def write_through_views(lib, z):
        w = z * 2
        w.real.mul_(3)
        w.imag[1].sin_()
        lib.view_as_real(w)[0, :, 1].exp_()
        return w * w
    check(write_through_views, sample((2, 3), C128, seed=5))
    check_error(lambda lib, z: z.requires_grad_().real.zero_(), sample((3,), C64),
                match="a view of a leaf Variable that requires grad")


def test_second_derivatives_through_complex_views():
    z = ember.tensor(sample((3,), C128, seed=6), requires_grad=True)
    assert ember.autograd.gradcheck(lambda z: (z.real * z.imag + z.angle()).exp(), (z,))
    assert ember.autograd.gradgradcheck(lambda z: ember.view_as_real(z * z).sin(), (z,))
    assert ember.autograd.gradgradcheck(lambda z: z.angle(), (z,))


def test_conj_and_neg_bits_are_never_set():
    for lib in (ember, torch):
        z = lib.tensor(sample((3,), C64))
        for value in (z, z.conj().resolve_conj()):
            assert lib.resolve_conj(value).is_conj() is False and not value.is_neg()
        numpy.testing.assert_array_equal(lib.resolve_conj(z).numpy(), z.numpy())
        numpy.testing.assert_array_equal(lib.resolve_neg(z).numpy(), z.numpy())
        assert z.is_complex() and not lib.is_complex(z.real)
    z = ember.tensor(sample((3,), C64))
    assert ember.resolve_conj(z) is z and z.resolve_neg() is z and not ember.is_neg(z)
