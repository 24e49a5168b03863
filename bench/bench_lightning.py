"""What ember.lightning's Trainer adds to a training epoch: the MLP on Fashion-MNIST trained by a hand-written ember
loop and by ``Trainer.fit`` (self.log of the loss each step, progress bar/checkpoints/summary/logger off), beside a
hand-written PyTorch loop for scale. Goal: the Trainer adds at most 5% to the hand-written ember epoch.

    flock /tmp/ember-bench.lock env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_THREAD_TIMEOUT=4 \\
        python bench/bench_lightning.py [--limit 200] [--repeats 3]
Same arrays, architecture, batch size (64) and SGD settings everywhere; each variant runs ``--repeats`` epochs of
``--limit`` batches after a warm-up epoch, the variants taking turns, and the median is reported.
"""
import argparse
import statistics
import time

import ember
import ember.lightning as pl
from bench_training import load_arrays, mlp

try:
    import torch
except ImportError:
    torch = None


class MLPModule(pl.LightningModule):
    """The benchmark MLP as a LightningModule: cross-entropy, SGD, the loss logged every step."""

    def __init__(self):
        super().__init__()
        self.net = mlp(ember)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = ember.nn.functional.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return ember.optim.SGD(self.parameters(), lr=0.01, momentum=0.9)


def hand_loop(lib, model, loader, limit):
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    for _, (x, y) in zip(range(limit), loader):   # stops without loading a batch more
        optimizer.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()


def trainer_epoch(model, loader, limit):
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=limit, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(model, loader)


def timed(runs, repeats):
    """The median seconds of each of ``runs``, run in turns (after a warm-up of each) so load changes hit all alike."""
    for run in runs:
        run()
    times = [[] for _ in runs]
    for _ in range(repeats):
        for run, seconds in zip(runs, times):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)
    return [statistics.median(seconds) for seconds in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=200, help="batches per epoch")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    images, labels = load_arrays()
    images, labels = images[:args.limit * 64], labels[:args.limit * 64]
    data = ember.utils.data.TensorDataset(ember.tensor(images), ember.tensor(labels))
    loader = ember.utils.data.DataLoader(data, batch_size=64)
    runs = [lambda: hand_loop(ember, mlp(ember), loader, args.limit),
            lambda: trainer_epoch(MLPModule(), loader, args.limit)]
    names = ["ember hand-written loop", "ember.lightning Trainer.fit"]
    if torch is not None:
        tdata = torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
        tloader = torch.utils.data.DataLoader(tdata, batch_size=64)
        runs.append(lambda: hand_loop(torch, mlp(torch), tloader, args.limit))
        names.append("torch hand-written loop")
        torch.manual_seed(0)
    ember.manual_seed(0)
    rows = list(zip(names, timed(runs, args.repeats)))
    hand, lightning = rows[0][1], rows[1][1]
    print(f"MLP on Fashion-MNIST, {args.limit} batches of 64, median of {args.repeats} epochs")
    for name, seconds in rows:
        print(f"{name:<30}{seconds:8.3f} s   {seconds / hand:6.3f} x ember's loop")
    print(f"Trainer overhead: {100 * (lightning / hand - 1):+.1f}% (goal <= +5%)")


if __name__ == "__main__":
    main()
