"""One training epoch of the MLP and of the CNN on Fashion-MNIST, and DataLoader throughput, ember beside PyTorch.

Run with the OpenBLAS variables this shell exports unset (they slow NumPy):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_THREAD_TIMEOUT=4 python bench/bench_training.py
Both libraries train the same architecture with the same settings on the same arrays (the real Fashion-MNIST
training set, normalized), each in its own block; times are wall-clock seconds for one epoch. ``--limit N`` trains
on the first N batches only (the ratio is what matters).
"""
import argparse
import time

import numpy

import ember

try:
    import torch
except ImportError:
    torch = None


def read_idx(path):
    """An IDX file (optionally gzipped) as a NumPy array."""
    import gzip
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = numpy.frombuffer(data, ">u4", ndim, 4).astype(int)
    return numpy.frombuffer(data, numpy.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_arrays(root="/usr/share/datasets/fashion-mnist"):
    """Fashion-MNIST training images (N, 1, 28, 28) normalized, and labels, as NumPy arrays (Debian's copy)."""
    images = read_idx(f"{root}/train-images-idx3-ubyte.gz").astype(numpy.float32)[:, None] / 255.0
    labels = read_idx(f"{root}/train-labels-idx1-ubyte.gz").astype(numpy.int64)
    return (images - 0.2860) / 0.3530, labels


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def cnn(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout2d(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            F = lib.nn.functional
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            x = self.fc1(lib.flatten(self.dropout1(x), 1))
            return F.log_softmax(self.fc2(self.dropout2(F.relu(x))), dim=1)
    return Net()


def epoch_time(lib, build, images, labels, batch_size, lr, loss_name, limit):
    lib.manual_seed(0)
    model = build(lib)
    optimizer = lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    criterion = getattr(lib.nn, loss_name)()
    x, y = lib.tensor(images), lib.tensor(labels)
    loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    start = time.perf_counter()
    for i, (inputs, targets) in enumerate(loader):
        if limit and i == limit:
            break
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


class ArrayImages:
    """A map-style dataset doing per-item work as a vision pipeline would (copy, scale, normalize)."""

    def __init__(self, lib, images, labels):
        self.lib, self.images, self.labels = lib, images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = (self.images[index].astype(numpy.float32) - 0.5) / 0.5
        return self.lib.from_numpy(image), int(self.labels[index])


def loader_time(lib, images, labels, workers, limit):
    dataset = ArrayImages(lib, images, labels)
    loader = lib.utils.data.DataLoader(dataset, batch_size=64, shuffle=True, num_workers=workers)
    start = time.perf_counter()
    count = 0
    for i, (batch, _) in enumerate(loader):
        count += batch.shape[0]
        if limit and i == limit:
            break
    return count / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="batches per epoch (0: the whole epoch)")
    parser.add_argument("--skip-cnn", action="store_true")
    args = parser.parse_args()
    images, labels = load_arrays()
    cases = [("MLP epoch (batch 64)", mlp, 64, 0.001, "CrossEntropyLoss")]
    if not args.skip_cnn:
        cases.append(("CNN epoch (batch 100)", cnn, 100, 0.01, "NLLLoss"))
    print(f"{'case':32s} {'ember':>10s} {'torch':>10s} {'ember/torch':>12s}")
    for name, build, batch, lr, loss in cases:
        e = epoch_time(ember, build, images, labels, batch, lr, loss, args.limit)
        t = epoch_time(torch, build, images, labels, batch, lr, loss, args.limit) if torch else float("nan")
        print(f"{name:32s} {e:9.2f}s {t:9.2f}s {e / t:12.2f}")
    raw = (images * 0.3530 + 0.2860).astype(numpy.float32)
    for workers in (0, 2):
        e = loader_time(ember, raw, labels, workers, args.limit * 4)
        t = loader_time(torch, raw, labels, workers, args.limit * 4) if torch else float("nan")
        print(f"{f'DataLoader samples/s, {workers} workers':32s} {e:10.0f} {t:10.0f} {t / e:12.2f}")


if __name__ == "__main__":
    main()
