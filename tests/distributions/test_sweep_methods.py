"""Every distribution class of PyTorch 2.13 against torch.distributions: shapes, flags, constraints, moments,
seeded sample/rsample values (ember draws PyTorch's streams), log_prob in and out of the support, cdf/icdf,
enumerate_support, expand, validation of bad parameters (validated, not, by default) and the gradients of rsample,
log_prob (and its second derivatives, and with respect to the value), entropy, cdf, icdf and the moments; in
float64 and again in float32."""
import pytest

from tests.distributions.cases import CASES, in_float32
from tests.distributions.probes import PROBES, invalid_probes
from tests.distributions.sweep import compare

# what still differs, and why (strict: a fix turns these into failures to remove)
LEFT = {
    # ember's exact Bessel functions against PyTorch's polynomial fits (1e-7 apart; test_distributions.py checks
    # ember's against quadrature), and log I0 of an invalid negative concentration
    ("VonMises", "k_negated_validate=False"): "log I0 of a negative concentration: exact fit against a polynomial",
}
FLOAT64_LEFT = {
    ("VonMises", "grad_log_prob"): "exact Bessel functions, not PyTorch's polynomial fits (1.5e-7 apart)",
    ("VonMises", "grad2_log_prob"): "exact Bessel functions, not PyTorch's polynomial fits (1e-6 apart)",
}

FLOAT32_LEFT = {}
TABLES = {"float64": CASES, "float32": in_float32(CASES)}


def _marks(dtype, case, probe):
    reason = LEFT.get((case, probe)) or {"float64": FLOAT64_LEFT, "float32": FLOAT32_LEFT}[dtype].get((case, probe))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


CALLS = [pytest.param(dtype, case, probe, id=f"{case}-{probe}-{dtype}", marks=_marks(dtype, case, probe))
         for dtype, cases in TABLES.items() for case in cases for probe in [*PROBES, *invalid_probes(cases[case])]]


@pytest.mark.parametrize("dtype, case, probe", CALLS)
def test_distribution(dtype, case, probe):
    cases = TABLES[dtype]
    fn = PROBES.get(probe) or invalid_probes(cases[case])[probe]
    assert compare(lambda lib: fn(lib, cases[case])) is None
