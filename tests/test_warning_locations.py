"""Warnings name the frame PyTorch's name: the caller of the op, not one of ember's wrappers (a composite op's
dispatch, NumPy keyword renaming, a loss's node naming). Both libraries run the same call from this file."""
import subprocess
import sys
import warnings

import pytest
import torch

import ember


def _recorded(fn, lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(lib)
    # PyTorch's C++ warnings end in where they were raised; the message is what precedes it
    return [(w.filename, w.category, str(w.message).split(" (Triggered internally at")[0]) for w in caught]


CALLS = {
    "dropout2d on 2-D input": lambda t: t.nn.functional.dropout2d(t.ones(2, 3)),
    "dropout2d on 3-D input": lambda t: t.nn.functional.dropout2d(t.ones(2, 3, 4)),
    "dropout3d on 2-D input": lambda t: t.nn.functional.dropout3d(t.ones(2, 3)),
    "grid_sample default align_corners": lambda t: t.nn.functional.grid_sample(t.ones(1, 1, 3, 3),
                                                                               t.zeros(1, 2, 2, 2)),
    "softmax without dim": lambda t: t.nn.functional.softmax(t.ones(2, 2)),
    "log_softmax without dim": lambda t: t.nn.functional.log_softmax(t.ones(2, 2)),
    "mse_loss of other shapes": lambda t: t.nn.functional.mse_loss(t.ones(2, 3), t.ones(3)),
    "var with no degrees of freedom": lambda t: t.var(t.ones(1), 0),
    "Tensor.std with no degrees of freedom": lambda t: t.ones(1).std(),
    "kl_div mean": lambda t: t.nn.functional.kl_div(t.zeros(2, 2), t.ones(2, 2)),
    "scatter with reduce": lambda t: t.zeros(3).scatter(0, t.tensor([0, 1]), t.ones(2), reduce="add"),
}


@pytest.mark.parametrize("name", CALLS)
def test_warning_points_at_the_caller_as_pytorchs(name):
    expected = _recorded(CALLS[name], torch)
    got = _recorded(CALLS[name], ember)
    assert expected and [w[0] for w in expected] == [__file__] * len(expected)
    assert [(f, c, m.replace("torch.", "ember.")) for f, c, m in expected] == [
        (f, c, m.replace("torch.", "ember.")) for f, c, m in got]


def test_dropout2d_module_warning_points_at_the_module():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.nn.Dropout2d()(ember.ones(2, 3))
    assert caught[0].filename.endswith("nn/modules/dropout.py")


_ONCE = """
import sys, warnings
warnings.simplefilter("always")
import {lib} as t
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(2):
        t.cholesky(t.eye(2)); t.cholesky(t.eye(2), upper=True); t.qr(t.eye(2)); t.qr(t.eye(2), some=False)
        t.chain_matmul(t.eye(2), t.eye(2))
        t.lu(t.eye(2)); t.eye(2).lu(get_infos=True)
for w in caught:
    print(repr(str(w.message).split(" (Triggered internally at")[0]))
"""


_CROSS = """
import warnings
import {lib} as t
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    t.cross(t.ones(3, 3), t.ones(3, 3))
for w in caught:
    print(w.filename, w.lineno, w.category.__name__, repr(str(w.message).split(" (Triggered internally at")[0]))
"""


def test_cross_without_dim_warns_at_the_caller_once_per_process():
    def run(lib):   # a fresh process each: PyTorch warns once per process, so an earlier test may have taken it
        return subprocess.run([sys.executable, "-c", _CROSS.format(lib=lib)], capture_output=True, text=True,
                              timeout=120).stdout
    expected = run("torch")
    assert expected.startswith("<string> 6 UserWarning") and run("ember") == expected


def test_deprecated_linalg_functions_warn_once_with_pytorchs_messages():
    def run(lib):   # a fresh process each: PyTorch's C++ warnings are once per process
        return subprocess.run([sys.executable, "-c", _ONCE.format(lib=lib)], capture_output=True, text=True,
                              timeout=120).stdout
    expected = run("torch")
    assert expected.count("deprecated") == 4 and run("ember") == expected


_SCALAR = """
import warnings
warnings.simplefilter("always")
import {lib} as t
x = t.ones((), requires_grad=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with t.no_grad():
        float(x)
    int(x); x.item(); bool(x); x.tolist(); format(x, ".1f"); float(x.detach())
    print(len(caught))
    complex(x * 2); float(x); float(x)
for w in caught:
    print(w.lineno, w.category.__name__, repr(str(w.message).split(" (Triggered internally at")[0]))
"""


def test_float_of_a_tensor_requiring_grad_warns_once_as_pytorch():
    """float()/complex() of a tensor autograd tracks warns once per process (with grad mode on); item(), int(),
    bool() and formatting do not."""
    def run(lib):
        return subprocess.run([sys.executable, "-c", _SCALAR.format(lib=lib)], capture_output=True, text=True,
                              timeout=120).stdout
    expected = run("torch")
    assert expected.startswith("0\n") and expected.count("UserWarning") == 1 and run("ember") == expected


_MESHGRID_CROSS = """
import warnings
import {lib} as t
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    a = t.arange(3.)
    t.meshgrid(a, a)
    t.meshgrid(a, a)
    t.meshgrid([a, a], indexing=None)
    t.cross(t.ones(3, 3), t.ones(3, 3))
    t.ones(3, 3).cross(t.ones(3, 3))
    t.ones(2, 3, 4).T
    t.ones(2, 3, 4).T
for w in caught:
    print(w.category.__name__, repr(str(w.message).split(" (Triggered internally at")[0]))
"""


def test_meshgrid_cross_and_reversing_t_warn_once_per_process():
    """meshgrid without indexing=, cross without dim= and x.T of a tensor not 2-d warn the first time only
    (TORCH_WARN_ONCE), however many lines call them."""
    def run(lib):
        return subprocess.run([sys.executable, "-c", _MESHGRID_CROSS.format(lib=lib)], capture_output=True,
                              text=True, timeout=120).stdout
    expected = run("torch")
    assert expected.count("UserWarning") == 3 and run("ember") == expected


_DISPATCHED_WARNINGS = """
import sys, warnings
import ember
if sys.argv[1] == "installed":
    ember.overrides.enable_torch_function_dispatch()
F, init = ember.nn.functional, ember.nn.init
calls = {
    "upsample": lambda: F.upsample(ember.ones(1, 1, 2, 2), scale_factor=2),
    "upsample_nearest": lambda: F.upsample_nearest(ember.ones(1, 1, 2, 2), scale_factor=2),
    "upsample_bilinear": lambda: F.upsample_bilinear(ember.ones(1, 1, 2, 2), scale_factor=2),
    "kaiming_uniform_": lambda: init.kaiming_uniform_(ember.empty(0, 3)),
    "kaiming_normal_": lambda: init.kaiming_normal_(ember.empty(0, 3)),
    "init.uniform": lambda: init.uniform(ember.empty(3)),
    "trunc_normal_": lambda: init.trunc_normal_(ember.empty(3), mean=10.0),
}
for name, call in calls.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    print(name, *(w.filename for w in caught))
"""


@pytest.mark.parametrize("dispatch", ["installed", "absent"])
def test_warnings_name_the_caller_with_the_dispatch_wrappers_installed(tmp_path, dispatch):
    """ember's warn skips the __torch_function__ dispatch wrappers around the namespaces' functions, which a plain
    ``stacklevel`` counted (naming ember's overrides.py); trunc_normal_'s names its own line, as PyTorch's."""
    script = tmp_path / "program.py"
    script.write_text(_DISPATCHED_WARNINGS)
    out = subprocess.run([sys.executable, str(script), dispatch], capture_output=True, text=True, check=True).stdout
    places = dict(line.split(" ", 1) for line in out.splitlines())
    assert places.pop("trunc_normal_") == ember.nn.init.__file__
    assert places == dict.fromkeys(places, str(script)) and len(places) == 6


def test_resizing_a_non_empty_out_warns_as_pytorch():
    """out= of another shape is resized with PyTorch's deprecation warning (not when it is empty), at the caller."""
    seen = []
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.add(lib.ones(3), 1, out=lib.empty(2, 2))
            lib.add(lib.ones(3), 1, out=lib.empty(0))
            lib.sum(lib.ones(3, 3), 0, out=lib.empty(1))
            lib.cat([lib.ones(2), lib.ones(2)], out=lib.empty(3))
            lib.matmul(lib.ones(2, 2), lib.ones(2, 2), out=lib.empty(3))
        seen.append([(w.category, w.filename, w.lineno, str(w.message).split(" (Triggered internally at")[0])
                     for w in caught])
    assert seen[0] == seen[1] and len(seen[0]) == 4 and "shape [2, 2]" in seen[0][0][3]


_COMPLEX_TO_REAL = """
import warnings
import {lib} as t
z = t.tensor([1 + 2j, 3 - 1j])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    values = [{case}.tolist(), z.float().tolist(), t.ones(2).copy_(z).tolist()]
print(values)
for w in caught:
    print(w.filename, w.lineno, w.category.__name__, repr(str(w.message).split(" (Triggered internally at")[0]))
"""


@pytest.mark.parametrize("case", ["z.to(t.float64)", "z.to(t.int64)", "z.type(t.float32)", "t.ones(2).copy_(z)",
                                  "t.as_tensor(z, dtype=t.float32)", "z.real"])
def test_casting_complex_to_real_warns_once_per_process_as_pytorch(case):
    """Every cast of complex values to a real dtype (to, type, float, copy_) keeps the real part and warns once per
    process, a UserWarning naming the calling line."""
    def run(lib):
        return subprocess.run([sys.executable, "-c", _COMPLEX_TO_REAL.format(lib=lib, case=case)],
                              capture_output=True, text=True, timeout=120).stdout
    expected = run("torch")
    assert expected.count("UserWarning") == 1 and run("ember") == expected
