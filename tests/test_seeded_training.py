"""A whole seeded training run in ember and in PyTorch side by side: the seeds' MLP (with dropout) for 100 SGD
steps on Fashion-MNIST (synthetic images of the same shape when the dataset is not installed), shuffled by a
DataLoader. Same seed, so: the same initial weights, the same batches, the same dropout masks, and losses that
differ only by float32 round-off at every step."""
import gzip
import os

import numpy
import torch

import ember
from tests import oracle

ROOT = "/usr/share/datasets/fashion-mnist"
STEPS, BATCH = 100, 64


def _images_and_labels():
    count = STEPS * BATCH
    if os.path.exists(f"{ROOT}/train-images-idx3-ubyte.gz"):
        with gzip.open(f"{ROOT}/train-images-idx3-ubyte.gz") as f:
            images = numpy.frombuffer(f.read(), numpy.uint8, offset=16)[:count * 784].reshape(count, 1, 28, 28)
        with gzip.open(f"{ROOT}/train-labels-idx1-ubyte.gz") as f:
            labels = numpy.frombuffer(f.read(), numpy.uint8, offset=8)[:count]
    else:
        rng = numpy.random.default_rng(0)
        images = rng.integers(0, 256, (count, 1, 28, 28), dtype=numpy.uint8)
        labels = rng.integers(0, 10, count, dtype=numpy.uint8)
    return (images.astype(numpy.float32) / 255 - 0.5) / 0.5, labels.astype(numpy.int64)


def _train(lib, images, labels):
    """Seed 0, build, train; returns the initial weights and, per step, the batch's sample indices, the dropout
    decisions (which inputs each Dropout zeroed), the generator state and the loss."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 128),
                          nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    initial = {k: oracle.as_numpy(v).copy() for k, v in model.state_dict().items()}
    dropped = []

    def record(module, inputs, output):
        x, y = oracle.as_numpy(inputs[0].detach()), oracle.as_numpy(output.detach())
        dropped.append((x != 0, y == 0))
    for layer in (model[3], model[6]):
        layer.register_forward_hook(record)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    dataset = lib.utils.data.TensorDataset(lib.tensor(images), lib.tensor(labels), lib.arange(len(labels)))
    steps = []
    for inputs, targets, indices in lib.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True):
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        steps.append((indices.tolist(), oracle.as_numpy(lib.get_rng_state()).copy(), loss.item()))
    return initial, steps, dropped


def test_seeded_mlp_run_matches_torch_step_by_step():
    images, labels = _images_and_labels()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # the 100 small steps run faster without thread hand-offs on a shared host
    try:
        torch_initial, torch_steps, torch_dropped = _train(torch, images, labels)
    finally:
        torch.set_num_threads(threads)
    initial, steps, dropped = _train(ember, images, labels)
    assert initial.keys() == torch_initial.keys()
    for key in initial:
        numpy.testing.assert_array_equal(initial[key], torch_initial[key], err_msg=key)
    assert len(steps) == len(torch_steps) == STEPS
    for step, ((batch, state, _), (torch_batch, torch_state, _)) in enumerate(zip(steps, torch_steps)):
        assert batch == torch_batch, step
        numpy.testing.assert_array_equal(state, torch_state, err_msg=f"generator state after step {step}")
    for (alive, zero), (torch_alive, torch_zero) in zip(dropped, torch_dropped):
        both = alive & torch_alive   # inputs a ReLU zeroed in one run only (round-off) say nothing of the mask
        numpy.testing.assert_array_equal(zero[both], torch_zero[both])
    losses = numpy.array([s[2] for s in steps])
    torch_losses = numpy.array([s[2] for s in torch_steps])
    numpy.testing.assert_allclose(losses, torch_losses, rtol=1e-5)
