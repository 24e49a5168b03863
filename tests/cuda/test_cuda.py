"""ember on a real NVIDIA GPU: device semantics, training, save/load and mixed precision, each compared with the
CPU result or PyTorch. Skips where no GPU is at hand (CI has none); every OpInfo-style sample of the suite also
runs on CUDA through ``tests/oracle.py`` there."""
import io

import numpy
import pytest

import ember
from tests import oracle

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(),
                                reason="needs an NVIDIA GPU with CuPy (ember.cuda.is_available() is False)")
torch = pytest.importorskip("torch")


def test_device_queries():
    assert ember.cuda.device_count() >= 1
    assert ember.cuda.current_device() == 0
    name = ember.cuda.get_device_name(0)
    assert isinstance(name, str) and name
    props = ember.cuda.get_device_properties(0)
    assert props.name == name and props.total_memory > 2**30 and props.multi_processor_count > 0
    assert ember.cuda.get_device_capability(0) >= (3, 0)
    ember.cuda.synchronize()
    free, total = ember.cuda.mem_get_info()
    assert 0 < free <= total


@pytest.mark.parametrize("factory", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_device(factory):
    t = getattr(ember, factory)(2, 3, device="cuda")
    assert t.device == ember.device("cuda", 0) and t.is_cuda and t.shape == (2, 3)
    assert str(t.device) == "cuda:0" and t.get_device() == 0


def test_more_factories_and_like():
    devices = [ember.full((2,), 7.0, device="cuda"), ember.arange(5, device="cuda"),
               ember.linspace(0, 1, 4, device="cuda"), ember.eye(3, device="cuda"),
               ember.randint(0, 5, (3,), device="cuda"), ember.tensor([1, 2], device="cuda"),
               ember.zeros_like(ember.ones(2, device="cuda")), ember.randperm(6, device="cuda")]
    assert all(t.is_cuda for t in devices)
    numpy.testing.assert_array_equal(devices[1].cpu().numpy(), numpy.arange(5))
    assert sorted(devices[-1].tolist()) == list(range(6))


def test_to_cuda_and_back_keeps_values():
    x = ember.randn(4, 5, dtype=ember.float64)
    for y in (x.cuda(), x.to("cuda"), x.to("cuda:0"), x.to(ember.device("cuda")), x.cuda(non_blocking=True)):
        assert y.is_cuda and y.dtype == ember.float64
        numpy.testing.assert_array_equal(y.cpu().numpy(), x.numpy())
    assert x.cuda().to(ember.float16).dtype == ember.float16
    with pytest.raises(TypeError, match="cuda"):
        x.cuda().numpy()
    assert x.cuda().item() if x.numel() == 1 else True
    assert ember.tensor(3.5, device="cuda").item() == 3.5
    assert x.cuda().tolist() == x.tolist()


def test_mixing_devices_raises_pytorchs_error():
    a, b = ember.ones(3), ember.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a + b
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        ember.matmul(ember.ones(2, 2, device="cuda"), ember.ones(2, 2))
    # a 0-d CPU tensor is allowed beside a CUDA tensor, as in PyTorch
    assert (b + ember.tensor(2.0)).is_cuda


def test_autograd_on_cuda_matches_cpu():
    x = numpy.random.default_rng(0).standard_normal((5, 4))
    results = []
    for device in ("cpu", "cuda"):
        t = ember.tensor(x, device=device, requires_grad=True)
        y = (t.sin() * t.exp()).sum(1).softmax(0).log()[2] + (t @ t.T).tanh().mean()
        y.backward()
        assert t.grad.device.type == device
        results.append((y.item(), t.grad.cpu().numpy()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    numpy.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)


def _cnn():
    nn = ember.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Dropout(0.0), nn.Linear(24, 10))


def _train(model, optimizer_class, device, steps=4, **options):
    model = model.to(device)
    optimizer = optimizer_class(model.parameters(), **options)
    rng = numpy.random.default_rng(1)
    losses = []
    for _ in range(steps):
        x = ember.tensor(rng.standard_normal((8, 1, 8, 8)), dtype=ember.float64, device=device)
        y = ember.tensor(rng.integers(0, 10, 8), device=device)
        loss = ember.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, {k: v.cpu().numpy() for k, v in model.state_dict().items()}, optimizer


@pytest.mark.parametrize("optimizer, options", [(ember.optim.SGD, dict(lr=0.1, momentum=0.9)),
                                                (ember.optim.Adam, dict(lr=0.01)),
                                                (ember.optim.AdamW, dict(lr=0.01, foreach=True))])
def test_training_on_cuda_matches_cpu(optimizer, options):
    ember.manual_seed(0)
    cpu_model = _cnn().double()
    gpu_model = _cnn().double()
    gpu_model.load_state_dict(cpu_model.state_dict())
    cpu_losses, cpu_state, _ = _train(cpu_model, optimizer, "cpu", **options)
    gpu_losses, gpu_state, gpu_optimizer = _train(gpu_model, optimizer, "cuda", **options)
    numpy.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-9)
    for key in cpu_state:
        numpy.testing.assert_allclose(gpu_state[key], cpu_state[key], rtol=1e-8, atol=1e-10, err_msg=key)
    states = [v for s in gpu_optimizer.state.values() for v in s.values() if isinstance(v, ember.Tensor)]
    assert states and all(v.is_cuda for v in states if v.ndim)


def test_lstm_and_transformer_on_cuda_match_cpu():
    ember.manual_seed(0)
    lstm = ember.nn.LSTM(6, 8, num_layers=2, batch_first=True, bidirectional=True).double()
    layer = ember.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True).double()
    x = numpy.random.default_rng(2).standard_normal((3, 5, 6))
    outputs = []
    for device in ("cpu", "cuda"):
        lstm.to(device), layer.to(device)
        t = ember.tensor(x, device=device, requires_grad=True)
        out, _ = lstm(t)
        y = layer(out[..., :8])
        y.square().sum().backward()
        outputs.append((y.detach().cpu().numpy(), t.grad.cpu().numpy(), lstm.weight_hh_l0.grad.cpu().numpy()))
        lstm.zero_grad(), layer.zero_grad()
    for a, b in zip(*outputs):
        numpy.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-10)


def test_save_and_load_cuda_tensors(tmp_path):
    x = ember.randn(3, 4, device="cuda")
    path = tmp_path / "x.pt"
    ember.save({"x": x}, path)
    assert ember.load(path)["x"].is_cuda
    on_cpu = ember.load(path, map_location="cpu")["x"]
    assert not on_cpu.is_cuda
    numpy.testing.assert_array_equal(on_cpu.numpy(), x.cpu().numpy())
    by_torch = torch.load(path, map_location="cpu")["x"]
    numpy.testing.assert_array_equal(by_torch.numpy(), x.cpu().numpy())
    if torch.cuda.is_available():
        assert torch.load(path)["x"].is_cuda
        buffer = io.BytesIO()
        torch.save({"y": torch.arange(6.0, device="cuda")}, buffer)
        buffer.seek(0)
        y = ember.load(buffer)["y"]
        assert y.is_cuda and y.tolist() == list(range(6))
        buffer.seek(0)
        assert not ember.load(buffer, map_location="cpu")["y"].is_cuda
    model = ember.nn.Linear(3, 2).cuda()
    ember.save(model.state_dict(), tmp_path / "m.pt")
    state = ember.load(tmp_path / "m.pt", map_location=ember.device("cpu"))
    assert all(not v.is_cuda for v in state.values())


def test_pinned_memory_and_dataloader():
    x = ember.randn(64, 3)
    assert not x.is_pinned()
    pinned = x.pin_memory()
    assert pinned.is_pinned() and not pinned.is_cuda
    numpy.testing.assert_array_equal(pinned.numpy(), x.numpy())
    assert pinned.cuda(non_blocking=True).cpu().tolist() == x.tolist()
    dataset = ember.utils.data.TensorDataset(ember.randn(10, 2), ember.arange(10))
    for xb, yb in ember.utils.data.DataLoader(dataset, batch_size=4, pin_memory=True):
        assert xb.is_pinned() and yb.is_pinned()


def test_memory_statistics():
    ember.cuda.reset_peak_memory_stats()
    before = ember.cuda.memory_allocated()
    x = ember.empty(1 << 20, device="cuda")     # 4 MiB
    assert ember.cuda.memory_allocated() >= before + 4 * 2**20
    assert ember.cuda.max_memory_allocated() >= ember.cuda.memory_allocated()
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
    del x
    ember.cuda.empty_cache()
    assert ember.cuda.memory_allocated() <= before + 4 * 2**20


def test_streams_and_events_time_work():
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    side = ember.cuda.Stream()
    with ember.cuda.stream(side):
        assert ember.cuda.current_stream() == side
        start.record()
        y = ember.randn(512, 512, device="cuda") @ ember.randn(512, 512, device="cuda")
        end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) > 0
    side.synchronize()
    assert ember.cuda.current_stream() == ember.cuda.default_stream()
    assert y.shape == (512, 512)


def test_seeding_makes_cuda_draws_repeat():
    ember.cuda.manual_seed_all(5)
    a = ember.rand(4, device="cuda")
    assert ember.cuda.initial_seed() == 5
    ember.cuda.manual_seed_all(5)
    assert ember.rand(4, device="cuda").tolist() == a.tolist()
    ember.cuda.seed()
    first = ember.cuda.initial_seed()
    ember.cuda.seed_all()
    assert ember.cuda.initial_seed() != first


def test_autocast_cuda_uses_float16_like_pytorch():
    a, b = ember.randn(8, 8, device="cuda"), ember.randn(8, 8, device="cuda")
    conv = ember.nn.Conv2d(2, 3, 3).cuda()
    with ember.autocast("cuda"):
        assert (a @ b).dtype == ember.float16
        assert conv(ember.randn(1, 2, 5, 5, device="cuda")).dtype == ember.float16
        assert a.softmax(0).dtype == ember.float32
        assert ember.nn.functional.linear(a, b).dtype == ember.float16
    with ember.autocast("cuda", dtype=ember.bfloat16):
        assert (a @ b).dtype == ember.bfloat16
    if torch.cuda.is_available():   # the dtypes PyTorch's CUDA autocast gives, op by op
        ops = [lambda L, x, y: x @ y, lambda L, x, y: x.exp(), lambda L, x, y: L.cat([x, y.half()]),
               lambda L, x, y: L.atan2(x, y.half()), lambda L, x, y: x.half().sum(), lambda L, x, y: L.addmm(x, x, y),
               lambda L, x, y: L.nn.functional.softmax(x.half(), 1), lambda L, x, y: L.nn.functional.gelu(x.half()),
               lambda L, x, y: L.nn.functional.layer_norm(x.half(), (8,)), lambda L, x, y: L.bmm(x[None], y[None]),
               lambda L, x, y: L.nn.functional.mse_loss(x.half(), y), lambda L, x, y: L.baddbmm(x[None], x[None], y[None])]
        ta, tb = torch.tensor(a.cpu().numpy(), device="cuda"), torch.tensor(b.cpu().numpy(), device="cuda")
        for n, op in enumerate(ops):
            with ember.autocast("cuda"):
                got = op(ember, a, b).dtype
            with torch.autocast("cuda"):
                want = op(torch, ta, tb).dtype
            assert str(got).split(".")[-1] == str(want).split(".")[-1], (n, got, want)
    product = (a.half() @ b.half()).float().cpu().numpy()
    numpy.testing.assert_allclose(product, (a @ b).cpu().numpy(), rtol=2e-2, atol=5e-2)


def test_grad_scaler_cuda_trains_and_skips_infinite_steps():
    ember.manual_seed(0)
    model = ember.nn.Linear(4, 2).cuda()
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1)
    scaler = ember.amp.GradScaler("cuda", init_scale=2.0**10)
    x, y = ember.randn(16, 4, device="cuda"), ember.randn(16, 2, device="cuda")
    first = None
    for _ in range(5):
        optimizer.zero_grad()
        with ember.autocast("cuda"):
            loss = ember.nn.functional.mse_loss(model(x).float(), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        first = first or loss.item()
    assert loss.item() < first
    before = model.weight.detach().clone()
    optimizer.zero_grad()
    scaler.scale(model(x).sum() * float("inf")).backward()
    scaler.step(optimizer)
    scaler.update()
    assert ember.equal(model.weight.detach(), before) and scaler.get_scale() == 2.0**9


def test_oracle_samples_run_on_cuda():
    assert oracle.CUDA, "the oracle repeats samples on CUDA where a GPU is at hand"
    oracle.check(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1).relu().sum((2, 3)),
                 oracle.sample((2, 3, 6, 6)), oracle.sample((4, 3, 3, 3)))


def test_dropout_draws_on_the_gpu_and_repeats_after_seeding():
    x = ember.ones(256, 256, device="cuda")
    ember.manual_seed(3)
    y = ember.nn.functional.dropout(x, 0.25)
    kept = (y != 0).float().mean().item()
    assert y.is_cuda and abs(kept - 0.75) < 0.01
    numpy.testing.assert_allclose(numpy.unique(y.cpu().numpy()), [0.0, 1 / 0.75], rtol=1e-6)
    ember.manual_seed(3)
    assert ember.equal(ember.nn.functional.dropout(x, 0.25), y)


def test_array_functions_cupy_spells_differently_match_numpy():
    import cupy

    from ember import _compat
    rng = numpy.random.default_rng(0)
    a = rng.standard_normal((9, 5))
    for name in ("maximum", "minimum", "logaddexp", "add"):
        for axis in (0, 1):
            numpy.testing.assert_allclose(_compat.accumulate(cupy, name, cupy.asarray(a), axis).get(),
                                          getattr(numpy, name).accumulate(a, axis=axis), rtol=1e-12)
    index = numpy.array([0, 2, 2, 5])
    for name, dtype in (("add", numpy.complex128), ("add", numpy.int8), ("multiply", numpy.float64),
                        ("maximum", numpy.float32), ("add", numpy.float32)):
        host = (rng.standard_normal(6) * 3).astype(dtype)
        values = (rng.standard_normal(4) * 3).astype(dtype)
        device = cupy.asarray(host)
        _compat.ufunc_at(cupy, name, device, cupy.asarray(index), cupy.asarray(values))
        getattr(numpy, name).at(host, index, values)
        numpy.testing.assert_allclose(device.get(), host, rtol=1e-6)
    A, B = rng.standard_normal((3, 1, 4, 4)), rng.standard_normal((5, 4, 2))
    numpy.testing.assert_allclose(_compat.solve(cupy, cupy.asarray(A), cupy.asarray(B)).get(),
                                  numpy.linalg.solve(A, B), rtol=1e-10)
    assert float(_compat.amax(cupy, cupy.zeros((0, 3)), initial=0)) == 0
    keys = (numpy.array([1, 0, 1, 0]), numpy.array([3.0, 3.0, 1.0, 2.0]))
    numpy.testing.assert_array_equal(_compat.lexsort(cupy, tuple(map(cupy.asarray, keys))).get(), numpy.lexsort(keys))


def test_einsum_reductions_on_cupy_match_numpy():
    import cupy

    from ember import _compat
    rng = numpy.random.default_rng(1)
    a, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 4, 5))
    for subscripts, operands in (("ncs->nc", (a,)), ("ncs,ncs->nc", (a, b)), ("ij,ij->i", (a[0], b[0])),
                                 ("ij,ij->j", (a[0], b[0])), ("ij,jk->ik", (a[0], b[0].T))):
        got = _compat.einsum(cupy, subscripts, *map(cupy.asarray, operands)).get()
        numpy.testing.assert_allclose(got, numpy.einsum(subscripts, *operands), rtol=1e-12, err_msg=subscripts)


def test_bfloat16_support_is_reported_as_it_is():
    supported = ember.cuda.is_bf16_supported()
    assert isinstance(supported, bool)
    if supported:
        x = ember.randn(4, 4, device="cuda").to(ember.bfloat16)
        assert x.dtype == ember.bfloat16 and x.is_cuda


def test_checkpointed_dropout_on_the_gpu_recomputes_the_same_masks():
    layer = ember.nn.Sequential(ember.nn.Linear(16, 16), ember.nn.Dropout(0.5), ember.nn.Linear(16, 1)).cuda()
    x = ember.randn(32, 16, device="cuda", requires_grad=True)
    grads = []
    for checkpointed in (False, True):
        ember.manual_seed(11)
        layer.zero_grad()
        x.grad = None
        out = ember.utils.checkpoint.checkpoint(layer, x, use_reentrant=False) if checkpointed else layer(x)
        out.sum().backward()
        grads.append((x.grad.cpu().numpy(), layer[0].weight.grad.cpu().numpy()))
    for plain, recomputed in zip(*grads):
        numpy.testing.assert_allclose(recomputed, plain, rtol=1e-6, atol=1e-7)
