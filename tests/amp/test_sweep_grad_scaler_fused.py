"""GradScaler with PyTorch's fused optimizers (Adam, AdamW, SGD, Adagrad with ``fused=True``) against PyTorch 2.13:
the scaler hands them the scale and the inf flag (``optimizer.grad_scale`` / ``found_inf``) instead of unscaling, so
after a skipped step the gradients stay scaled and a first step's state exists; gradients, parameters, state and
scale after normal and skipped steps, with and without an earlier ``unscale_``."""
import warnings

import numpy
import pytest

import ember

torch = pytest.importorskip("torch")

FUSED = [("Adam", {}), ("AdamW", {"weight_decay": 0.1}), ("Adam", {"amsgrad": True, "maximize": True}),
         ("SGD", {}), ("SGD", {"momentum": 0.9, "nesterov": True}), ("Adagrad", {"lr_decay": 0.01})]


def _array(value):
    return numpy.array(value.detach().tolist() if hasattr(value, "detach") else value, dtype=numpy.float64)


def _trace(lib, name, options, skip_at, unscale_first=False, steps=3):
    """Per step: gradients, parameters, each state entry and the scale, as float64 arrays (with the dtypes)."""
    weight = lib.nn.Parameter(lib.tensor(numpy.linspace(-1, 1, 6).reshape(2, 3).astype(numpy.float32)))
    bias = lib.nn.Parameter(lib.tensor(numpy.array([0.5, -0.25], numpy.float32)))
    optimizer = getattr(lib.optim, name)([weight, bias], lr=0.1, fused=True, **options)
    scaler = lib.amp.GradScaler("cpu", init_scale=4.0, growth_interval=1)
    x = lib.tensor(numpy.arange(6, dtype=numpy.float32).reshape(2, 3) / 8)
    trace = []
    for i in range(steps):
        optimizer.zero_grad()
        loss = ((x @ weight.T + bias) ** 2).sum()
        scaler.scale(loss * float("inf") if i in skip_at else loss).backward()
        if unscale_first:
            scaler.unscale_(optimizer)
        scaler.step(optimizer)
        for p in (weight, bias):
            trace += [(i, "grad", _array(p.grad)), (i, "param", _array(p))]
            for key, value in optimizer.state[p].items():
                trace.append((i, key, str(value.dtype).split(".")[1], _array(value)))
        scaler.update()
        trace.append((i, "scale", scaler.get_scale()))
        assert not hasattr(optimizer, "grad_scale") and not hasattr(optimizer, "found_inf")
    return trace


def _assert_same_trace(mine, theirs):
    assert [entry[:-1] for entry in mine] == [entry[:-1] for entry in theirs]
    for m, t in zip(mine, theirs):
        numpy.testing.assert_allclose(m[-1], t[-1], rtol=2e-6, atol=1e-7, equal_nan=True, err_msg=str(m[:-1]))


@pytest.mark.parametrize("name, options", FUSED)
@pytest.mark.parametrize("skip_at", [(), (0,), (1,), (0, 2)])
def test_fused_step_under_grad_scaler_matches_torch(name, options, skip_at):
    if options.get("momentum") and 0 in skip_at:
        pytest.skip("PyTorch's fused SGD leaves the momentum buffer of a skipped first step uninitialized")
    _assert_same_trace(_trace(ember, name, options, skip_at), _trace(torch, name, options, skip_at))


@pytest.mark.parametrize("name, options", FUSED)
@pytest.mark.parametrize("skip_at", [(), (1,)])
def test_fused_step_after_unscale_matches_torch(name, options, skip_at):
    # unscale_ already divided the gradients: the optimizer gets no scale, only the inf flag
    _assert_same_trace(_trace(ember, name, options, skip_at, unscale_first=True),
                       _trace(torch, name, options, skip_at, unscale_first=True))


def test_skipped_first_fused_sgd_step_makes_the_momentum_buffer():
    # PyTorch's buffer is empty_like (uninitialized); ember's holds zeros: only its shape and dtype can be compared
    shapes = {}
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.ones(2, 3))
        optimizer = lib.optim.SGD([p], lr=0.1, momentum=0.9, fused=True)
        scaler = lib.amp.GradScaler("cpu")
        scaler.scale((p * float("inf")).sum()).backward()
        scaler.step(optimizer)
        buffer = optimizer.state[p]["momentum_buffer"]
        shapes[lib.__name__] = (tuple(buffer.shape), str(buffer.dtype).split(".")[1], p.tolist())
    assert shapes["ember"] == shapes["torch"]


@pytest.mark.parametrize("name", ["Adam", "AdamW", "SGD", "Adagrad", "RMSprop"])
@pytest.mark.parametrize("fused", [None, False, True])
def test_step_supports_amp_scaling_only_when_fused(name, fused):
    if name == "RMSprop":
        fused = None   # (PyTorch's RMSprop has no fused option)
    kwargs = {} if fused is None else {"fused": fused}
    seen = [getattr(getattr(lib.optim, name)([lib.nn.Parameter(lib.ones(2))], lr=0.1, **kwargs),
                    "_step_supports_amp_scaling", None) for lib in (ember, torch)]
    assert seen[0] == seen[1]


@pytest.mark.parametrize("preset", [None, 0.5])
def test_scale_handed_to_an_optimizer_that_handles_it(preset):
    # a user optimizer with _step_supports_amp_scaling sees grad_scale (times one it set) and found_inf during step
    def seen(lib):
        class Recording(lib.optim.SGD):
            _step_supports_amp_scaling = True

            def step(self, closure=None):
                self.record = (_array(self.grad_scale), _array(self.found_inf))
                return "stepped"

        p = lib.nn.Parameter(lib.ones(2))
        optimizer = Recording([p], lr=0.1)
        if preset is not None:
            optimizer.grad_scale = lib.tensor(preset)
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        scaler.scale((p * float("inf")).sum()).backward()
        returned = scaler.step(optimizer)
        return returned, optimizer.record, p.grad.tolist(), hasattr(optimizer, "grad_scale")
    mine, theirs = seen(ember), seen(torch)
    assert repr(mine) == repr(theirs)


def test_grad_scaler_keyword_is_passed_with_future_warning():
    def seen(lib):
        class TakesScaler(lib.optim.SGD):
            _step_supports_amp_scaling = True

            def step(self, closure=None, grad_scaler=None):
                return type(grad_scaler).__name__, hasattr(self, "grad_scale")

        p = lib.nn.Parameter(lib.ones(2))
        scaler = lib.amp.GradScaler("cpu")
        scaler.scale(p.sum()).backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            returned = scaler.step(TakesScaler([p], lr=0.1))
        return returned, [(w.category.__name__, str(w.message)) for w in caught]
    assert seen(ember) == seen(torch)


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["Adam", "SGD", "Adagrad"])
def test_fused_16_bit_parameters_under_grad_scaler(name, dtype_name):
    # the scaler only checks 16-bit gradients for infs here (the fused step unscales them), so none is refused:
    # gradients come back unscaled, the parameters stepped
    def seen(lib):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 0.5], dtype=getattr(lib, dtype_name)))
        optimizer = getattr(lib.optim, name)([p], lr=0.1, fused=True)
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        scaler.scale((p * p).sum()).backward()
        scaler.step(optimizer)
        scaler.update()
        return p.tolist(), p.grad.tolist(), str(p.dtype).split(".")[1], scaler.get_scale()
    assert seen(ember) == seen(torch)


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
@pytest.mark.parametrize("name, options", FUSED + [("Adagrad", {"weight_decay": 0.1, "maximize": True}),
                                                   ("SGD", {"momentum": 0.5, "dampening": 0.2, "weight_decay": 0.1})])
def test_fused_16_bit_steps_compute_in_float32(name, options, dtype_name):
    # PyTorch's fused kernels read 16-bit parameters, gradients and state into float32 and round each result once:
    # bit-equal results, where rounding after every operation drifts by units in the last place
    def seen(lib):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 0.5, 3.3, -0.01, 1e-3], dtype=getattr(lib, dtype_name)))
        optimizer = getattr(lib.optim, name)([p], lr=0.1, fused=True, **options)
        for _ in range(3):
            p.grad = (p.detach() * 0.7 + 0.3).to(p.dtype)
            optimizer.step()
        return p.tolist(), {k: (str(v.dtype).split(".")[1], v.tolist()) for k, v in optimizer.state[p].items()}
    assert seen(ember) == seen(torch)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adagrad"])
@pytest.mark.parametrize("fused", [False, True])
def test_fused_step_count_is_float32_under_float64_default(name, fused):
    # PyTorch's _get_scalar_dtype(is_fused=True) is float32 whatever the default; a loaded fused state is cast to it
    def seen(lib):
        previous = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            p = lib.nn.Parameter(lib.ones(2))
            plain = getattr(lib.optim, name)([p])
            p.grad = lib.ones(2)
            plain.step()
            optimizer = getattr(lib.optim, name)([p], fused=fused)
            fresh = [str(v.dtype) for v in optimizer.state_dict()["state"].get(0, {}).values()]
            optimizer.step()
            stepped = str(optimizer.state[p]["step"].dtype)
            optimizer.load_state_dict(plain.state_dict())
            return fresh, stepped, str(optimizer.state[p]["step"].dtype), optimizer.state[p]["step"].item()
        finally:
            lib.set_default_dtype(previous)
    mine, theirs = seen(ember), seen(torch)
    assert repr(mine).replace("ember.", "torch.") == repr(theirs)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "SGD", "Adagrad"])
@pytest.mark.parametrize("attribute", ["grad_scale", "found_inf"])
def test_unfused_step_refuses_a_grad_scale(name, attribute):
    def seen(lib):
        p = lib.nn.Parameter(lib.ones(2))
        optimizer = getattr(lib.optim, name)([p], lr=0.1)
        p.grad = lib.ones(2)
        setattr(optimizer, attribute, lib.tensor(1.0))
        try:
            optimizer.step()
        except AssertionError as error:
            return "AssertionError", str(error), p.tolist()
        return p.tolist()
    assert seen(ember) == seen(torch)
