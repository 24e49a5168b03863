"""Training-step and evaluation time of common models, ember beside PyTorch, plus DataLoader throughput, import
time and peak memory.

    PYTHONPATH=$PWD python bench/bench_models.py                      # everything (tens of minutes)
    PYTHONPATH=$PWD python bench/bench_models.py --models cnn5,resnet18_32 --quick
    PYTHONPATH=$PWD python bench/bench_models.py --list
    PYTHONPATH=$PWD python bench/bench_models.py --models mlp,mlp_compiled --threads 1 --skip loader,import

A training step is forward, loss, backward and an SGD-momentum update; the evaluation is a ``no_grad`` forward in
``eval()`` mode. Both libraries build each model from the same code below (``lib`` is ``ember`` or ``torch``; no
torchvision), on the same random inputs. Each library runs in its own process, rounds alternating which goes first; a
row reports the median of all warmed-up steps of all rounds, and ember's time over PyTorch's, in wall-clock and in
process CPU time over the timed steps (the steadier figure on a shared machine; ``--threads 1`` gives the steadiest).
Peak memory is the process's maximum RSS after the steps, and the step's share of it (maximum RSS after the steps minus
RSS before the first step). The children run with the OpenBLAS tuning variables of this shell unset (they slow NumPy's
matmul). ``OPENBLAS_THREAD_TIMEOUT`` is the shell's: run without it, as a user does (ember then has NumPy's BLAS threads
spin ~0.2 ms after a product, ``_runtime._QUIET_TIMEOUT``). Each library runs in its own process, so no spinning BLAS
thread slows the other; set to 4, every one of ember's products wakes OpenBLAS's threads (the MLP's evaluation at two
threads 313-324 against 261-291 us at best; PyTorch's unaffected: docs/speed_overhead.md, "Two threads, Dec 7").
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy


# ---------------------------------------------------------------------------------------------------- models
def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def cnn(lib):
    """The seeds' CNN (PyTorch's MNIST example): two 3x3 convolutions, max-pool, dropout, two linear layers."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, 1), nn.Conv2d(32, 64, 3, 1)
            self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
            self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            x = F.relu(self.fc1(lib.flatten(self.dropout1(x), 1)))
            return F.log_softmax(self.fc2(self.dropout2(x)), dim=1)
    return Net()


def cnn5(lib):
    """Two blocks of 5x5 convolution + BatchNorm + ReLU + 2x2 max-pool, then a linear layer (the tutorials' CNN)."""
    nn = lib.nn

    def block(c_in, c_out):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 5, padding=2), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))
    return nn.Sequential(block(1, 16), block(16, 32), nn.Flatten(), nn.Linear(7 * 7 * 32, 10))


def resnet18(lib, classes=10):
    """torchvision's ResNet-18 layout (7x7 stem, max-pool, four stages of two basic blocks)."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or c_in != c_out:
                self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    c_in = 64
    for c_out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Block(c_in, c_out, stride), Block(c_out, c_out, 1)]
        c_in = c_out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes))


def vgg11_bn(lib, classes=10):
    """VGG-11 with BatchNorm (configuration A), with the CIFAR classifier (one linear layer on 512 features)."""
    nn = lib.nn
    layers, c_in = [], 3
    for v in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c_in, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            c_in = v
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(512, classes))


def mobilenet_v2(lib, classes=10):
    """torchvision's MobileNetV2 layout: inverted residuals with depthwise 3x3 convolutions and ReLU6."""
    nn = lib.nn

    def conv_bn(c_in, c_out, kernel=3, stride=1, groups=1, relu=True):
        layers = [nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(c_out)]
        return layers + [nn.ReLU6(inplace=True)] if relu else layers

    class InvertedResidual(nn.Module):
        def __init__(self, c_in, c_out, stride, expand):
            super().__init__()
            hidden = c_in * expand
            self.residual = stride == 1 and c_in == c_out
            layers = conv_bn(c_in, hidden, 1) if expand != 1 else []
            layers += conv_bn(hidden, hidden, 3, stride, groups=hidden) + conv_bn(hidden, c_out, 1, relu=False)
            self.conv = nn.Sequential(*layers)

        def forward(self, x):
            return x + self.conv(x) if self.residual else self.conv(x)

    layers, c_in = conv_bn(3, 32, stride=2), 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)):
        for i in range(n):
            layers.append(InvertedResidual(c_in, c, s if i == 0 else 1, t))
            c_in = c
    layers += conv_bn(c_in, 1280, 1)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1280, classes))


def recurrent(lib, mode, inputs, hidden, batch_first, bidirectional):
    """A 2-layer LSTM/GRU classifier on the last time step's output."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, mode)(inputs, hidden, num_layers=2, batch_first=batch_first,
                                         bidirectional=bidirectional)
            self.fc = nn.Linear(hidden * (2 if bidirectional else 1), 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1] if batch_first else out[-1])
    return Net()


def transformer(lib, vocabulary=1000):
    """Embedding, a 2-layer TransformerEncoder (d_model 128, 4 heads) and a token classifier."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocabulary, 128)
            layer = nn.TransformerEncoderLayer(128, 4, dim_feedforward=512, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.fc = nn.Linear(128, vocabulary)

        def forward(self, tokens):
            return self.fc(self.encoder(self.embedding(tokens))).flatten(0, 1)
    return Net()


def dcgan(lib, nz=100, width=64):
    """DCGAN's generator and discriminator for 64x64 RGB images (ConvTranspose2d up, Conv2d down)."""
    nn = lib.nn
    g = nn.Sequential(
        nn.ConvTranspose2d(nz, width * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(width * 8), nn.ReLU(True),
        nn.ConvTranspose2d(width * 8, width * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 4), nn.ReLU(True),
        nn.ConvTranspose2d(width * 4, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2), nn.ReLU(True),
        nn.ConvTranspose2d(width * 2, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True),
        nn.ConvTranspose2d(width, 3, 4, 2, 1, bias=False), nn.Tanh())
    d = nn.Sequential(
        nn.Conv2d(3, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(width * 2, width * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 4), nn.LeakyReLU(0.2, True),
        nn.Conv2d(width * 4, width * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 8), nn.LeakyReLU(0.2, True),
        nn.Conv2d(width * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid(), nn.Flatten(0))
    return nn.ModuleDict({"g": g, "d": d})


def classify(shape, classes=10):
    """Inputs: random normal images of ``shape`` and random class labels."""
    def make(rng):
        return rng.standard_normal(shape, dtype=numpy.float32), rng.integers(0, classes, shape[0])
    return make


def tokens(batch, length, vocabulary=1000):
    def make(rng):
        return rng.integers(0, vocabulary, (batch, length)), rng.integers(0, vocabulary, batch * length)
    return make


def sequences(batch, length, features, batch_first):
    shape = (batch, length, features) if batch_first else (length, batch, features)

    def make(rng):
        return rng.standard_normal(shape, dtype=numpy.float32), rng.integers(0, 10, batch)
    return make


# name: (description, build(lib), make inputs(rng), steps in full mode)
MODELS = {
    "mlp": ("seeds' MLP, batch 64", mlp, classify((64, 1, 28, 28)), 200),
    "mlp_compiled": ("MLP b64, ember.compile vs torch eager", mlp, classify((64, 1, 28, 28)), 200),
    "cnn": ("seeds' CNN (3x3), batch 100", cnn, classify((100, 1, 28, 28)), 20),
    "cnn5": ("CNN 5x5+BN, batch 100, 28x28", cnn5, classify((100, 1, 28, 28)), 20),
    "resnet18_32": ("ResNet-18 32x32, batch 32", resnet18, classify((32, 3, 32, 32)), 20),
    "resnet18_224": ("ResNet-18 224x224, batch 8", resnet18, classify((8, 3, 224, 224)), 6),
    "vgg11_bn_32": ("VGG-11-BN 32x32, batch 32", vgg11_bn, classify((32, 3, 32, 32)), 10),
    "mobilenetv2_64": ("MobileNetV2 64x64, batch 32", mobilenet_v2, classify((32, 3, 64, 64)), 10),
    "lstm": ("LSTM 2x128, seq 28, batch 100, bf", lambda lib: recurrent(lib, "LSTM", 28, 128, True, False),
             sequences(100, 28, 28, True), 20),
    "gru": ("GRU 2x128, seq 28, batch 100, bf", lambda lib: recurrent(lib, "GRU", 28, 128, True, False),
            sequences(100, 28, 28, True), 20),
    "lstm_bi": ("BiLSTM 2x128, seq 28, batch 100", lambda lib: recurrent(lib, "LSTM", 28, 128, False, True),
                sequences(100, 28, 28, False), 20),
    "lstm1024": ("LSTM 2x1024, seq 35, batch 20", lambda lib: recurrent(lib, "LSTM", 256, 1024, False, False),
                 sequences(20, 35, 256, False), 6),
    "gru1024": ("GRU 2x1024, seq 35, batch 20, bf", lambda lib: recurrent(lib, "GRU", 256, 1024, True, False),
                sequences(20, 35, 256, True), 6),
    "transformer": ("TransformerEncoder 2x128, seq 64, b 32", transformer, tokens(32, 64), 20),
    "dcgan": ("DCGAN G+D 64x64, batch 32", dcgan, classify((32, 3, 64, 64)), 6),
}


# ---------------------------------------------------------------------------------------------------- children
def train_step(lib, model, optimizer, criterion, x, y):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()


def gan_step(lib, model, optimizer, criterion, x, y):
    """One discriminator update (real and generated images) and one generator update, as the DCGAN example."""
    g, d = model["g"], model["d"]
    g_optimizer, d_optimizer = optimizer
    z = lib.randn(x.shape[0], 100, 1, 1)
    real, fake_label = lib.ones(x.shape[0]), lib.zeros(x.shape[0])
    d_optimizer.zero_grad()
    fake = g(z)
    (criterion(d(x), real) + criterion(d(fake.detach()), fake_label)).backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    criterion(d(fake), real).backward()
    g_optimizer.step()


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(lib_name, name, steps, warmup):
    """Runs one model in this process; returns per-step seconds and memory as a dict."""
    lib = __import__(lib_name)
    if lib_name == "torch" and "OMP_NUM_THREADS" in os.environ:
        lib.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    _, build, make, _ = MODELS[name]
    lib.manual_seed(0)
    model = build(lib)
    if name.endswith("_compiled") and lib_name == "ember":   # PyTorch runs eagerly: the goal is against eager
        model = lib.compile(model)
    x, y = make(numpy.random.default_rng(0))
    x, y = lib.from_numpy(x), lib.from_numpy(y)
    if name == "dcgan":
        optimizer = tuple(lib.optim.SGD(model[k].parameters(), lr=0.01, momentum=0.9) for k in ("g", "d"))
        criterion, step = lib.nn.BCELoss(), gan_step
    else:
        optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        criterion, step = lib.nn.CrossEntropyLoss(), train_step
    before = rss_bytes()
    train, train_cpu = [], []
    for i in range(warmup + steps):
        if i == warmup:
            block = time.process_time()
        start, cpu = time.perf_counter(), time.process_time()
        step(lib, model, optimizer, criterion, x, y)
        if i >= warmup:
            train.append(time.perf_counter() - start)
            train_cpu.append(time.process_time() - cpu)
    train_block = (time.process_time() - block) / steps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    model.eval()
    forward = model["d"](model["g"](lib.randn(x.shape[0], 100, 1, 1))) if name == "dcgan" else None
    evaluate, evaluate_cpu = [], []
    with lib.no_grad():
        for i in range(warmup + steps):
            if i == warmup:
                block = time.process_time()
            start, cpu = time.perf_counter(), time.process_time()
            if name == "dcgan":
                forward = model["d"](model["g"](lib.randn(x.shape[0], 100, 1, 1)))
            else:
                forward = model(x)
            if i >= warmup:
                evaluate.append(time.perf_counter() - start)
                evaluate_cpu.append(time.process_time() - cpu)
        evaluate_block = (time.process_time() - block) / steps
    del forward
    return {"train": train, "eval": evaluate, "train_cpu": train_cpu, "eval_cpu": evaluate_cpu, "peak_rss": peak,
            "step_rss": peak - before, "train_cpu_block": train_block, "eval_cpu_block": evaluate_block}


class PILImages:
    """A map-style dataset of 32x32 RGB PIL images with a per-sample transform, as torchvision's CIFAR10."""

    def __init__(self, lib, count, transform):
        rng = numpy.random.default_rng(0)
        self.images = rng.integers(0, 256, (count, 32, 32, 3), dtype=numpy.uint8)
        self.labels = rng.integers(0, 10, count)
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        from PIL import Image
        return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])


def torch_transform(torch):
    """torchvision's ToTensor + Normalize((0.5,)*3, (0.5,)*3), written out (torchvision does not import here)."""
    mean = torch.tensor([0.5, 0.5, 0.5]).view(-1, 1, 1)
    std = torch.tensor([0.5, 0.5, 0.5]).view(-1, 1, 1)

    def transform(image):
        array = torch.from_numpy(numpy.array(image, numpy.uint8, copy=True))
        tensor = array.view(image.size[1], image.size[0], 3).permute(2, 0, 1).contiguous()
        return tensor.to(torch.get_default_dtype()).div(255).sub_(mean).div_(std)
    return transform


def loader_child(lib_name, workers, count):
    """Samples per second of one epoch through a DataLoader (batch 64, shuffled), worker start-up included."""
    lib = __import__(lib_name)
    if lib_name == "torch":
        transform = torch_transform(lib)
    else:
        from ember.vision import transforms
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
    loader = lib.utils.data.DataLoader(PILImages(lib, count, transform), batch_size=64, shuffle=True,
                                       num_workers=workers)
    start, cpu = time.perf_counter(), _cpu_seconds()
    seen = sum(batch.shape[0] for batch, _ in loader)
    return {"rate": seen / (time.perf_counter() - start), "cpu_per_sample": (_cpu_seconds() - cpu) / seen}


def _cpu_seconds():
    """CPU time of this process and of its children that have exited (the loader's workers, once it is done)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def import_child(lib_name):
    start = time.perf_counter()
    __import__(lib_name)
    return {"seconds": time.perf_counter() - start}


# ---------------------------------------------------------------------------------------------------- parent
def run_child(args, timeout, threads=None, bytecode=None):
    """Runs one child; ``bytecode``, a folder, makes it read and write compiled modules there (PYTHONPYCACHEPREFIX)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = bytecode
    result = subprocess.run([sys.executable, __file__, "--child", json.dumps(args)], capture_output=True, text=True,
                            check=False, env=env, timeout=timeout)
    if result.returncode:
        raise RuntimeError(f"child {args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def alternate(args, rounds, timeout, threads=None, bytecode=None):
    """Runs ``args`` for ember and torch in fresh processes, ``rounds`` times, alternating which goes first."""
    results = {"ember": [], "torch": []}
    for r in range(rounds):
        for lib in (("ember", "torch") if r % 2 == 0 else ("torch", "ember")):
            results[lib].append(run_child([lib] + args, timeout, threads, bytecode))
    return results


def median_of(results, key):
    return statistics.median(v for result in results for v in result[key])


def block_cpu(results, key):
    """Process CPU seconds per step over each process's whole timed block, the median of the processes. Not the
    steps' own readings: Linux adds a thread running on another core to the process clock only at a tick or when it
    enters the scheduler, so PyTorch's spinning OpenMP threads (no system calls) showed in few steps and OpenBLAS's,
    which yield as they spin, in every one (the seeds' MLP training step at two threads read 2.07x PyTorch's CPU by
    the steps' median, ~1.1x over the block: docs/speed_overhead.md, "Sequence models and CPU time, Dec 7")."""
    return statistics.median(result[key + "_cpu_block"] for result in results)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated names (see --list)")
    parser.add_argument("--rounds", type=int, default=2, help="processes per library per model")
    parser.add_argument("--steps", type=int, help="timed steps per process (default: per model)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a third of the steps, 2 warm-up steps")
    parser.add_argument("--skip", default="", help="comma-separated extras to skip: loader,import")
    parser.add_argument("--threads", type=int, help="BLAS/OpenMP threads in each child (default: the libraries')")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        kind = spec.pop(1)
        print(json.dumps({"model": child, "loader": loader_child, "import": import_child}[kind](*spec)))
        return
    if args.list:
        for name, (description, *_) in MODELS.items():
            print(f"{name:16s} {description}")
        return
    warmup = 2 if args.quick else args.warmup
    print(f"# load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")
    print(f"{'case':44s} {'ember':>10s} {'torch':>10s} {'ratio':>6s} {'CPU-time ratio':>14s}")
    for name in filter(None, args.models.split(",")):
        description, _, _, default_steps = MODELS[name]
        steps = args.steps or (max(3, default_steps // 3) if args.quick else default_steps)
        results = alternate(["model", name, steps, warmup], args.rounds, 1800, args.threads)
        for key, label in (("train", "train step"), ("eval", "eval forward")):
            e, t = median_of(results["ember"], key), median_of(results["torch"], key)
            cpu = block_cpu(results["ember"], key) / block_cpu(results["torch"], key)
            print(f"{description + ', ' + label:44s} {e * 1e3:8.1f}ms {t * 1e3:8.1f}ms {e / t:6.2f} {cpu:14.2f}")
        if name in ("cnn", "cnn5", "resnet18_32", "resnet18_224"):
            for key, label in (("peak_rss", "peak RSS"), ("step_rss", "RSS growth in steps")):
                e = max(r[key] for r in results["ember"]) / 2 ** 20
                t = max(r[key] for r in results["torch"]) / 2 ** 20
                print(f"{description + ', ' + label:44s} {e:8.0f}MB {t:8.0f}MB {e / max(t, 1e-9):6.2f}")
        sys.stdout.flush()
    skip = set(args.skip.split(","))
    if "loader" not in skip:
        count = 640 if args.quick else 2560
        for workers in (0, 2):
            results = alternate(["loader", workers, count], args.rounds, 600, args.threads)
            e, t = (statistics.median(r["rate"] for r in results[lib]) for lib in ("ember", "torch"))
            cpu = (statistics.median(r["cpu_per_sample"] for r in results["ember"]) /
                   statistics.median(r["cpu_per_sample"] for r in results["torch"]))
            print(f"{f'DataLoader PIL ToTensor+Normalize, {workers} workers':44s} {e:7.0f}/s {t:7.0f}/s {t / e:6.2f} "
                  f"{cpu:14.2f}")
    if "import" not in skip:
        # As installed, both packages import compiled bytecode (pip compiles it; an editable install writes it on
        # first import): a private bytecode folder, filled by a first import of each, gives both that. Under
        # PYTHONDONTWRITEBYTECODE a source checkout instead compiles every module on every import, while PyTorch
        # still reads its installed bytecode; a second row shows that case when this shell sets it.
        cases = [("import time", True)] + [("import time, PYTHONDONTWRITEBYTECODE", False)] * bool(
            os.environ.get("PYTHONDONTWRITEBYTECODE"))
        with tempfile.TemporaryDirectory() as bytecode:
            alternate(["import"], 1, 600, bytecode=bytecode)
            for label, cached in cases:
                folder = bytecode if cached else None
                results = alternate(["import"], 3 if args.quick else 5, 120, bytecode=folder)
                e, t = (statistics.median(r["seconds"] for r in results[lib]) for lib in ("ember", "torch"))
                print(f"{label:44s} {e * 1e3:8.0f}ms {t * 1e3:8.0f}ms {e / t:6.2f}")
    print(f"# load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
