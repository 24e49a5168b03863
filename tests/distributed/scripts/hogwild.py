"""Hogwild: two processes train one model whose parameters live in shared memory; the parent, which never trains,
sees the trained weights. Also a tensor sent through a Queue after share_memory_() is the same memory."""
import sys

import ember
import ember.multiprocessing as mp
from ember import nn

TRUE_W, TRUE_B = [[1.5, -2.0, 0.5, 3.0]], [0.25]


def train(rank, model, x, y, steps):
    ember.manual_seed(rank)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        idx = ember.randint(0, x.shape[0], (16,))
        opt.zero_grad()
        nn.functional.mse_loss(model(x[idx]), y[idx]).backward()
        opt.step()


def bump(queue):
    t = queue.get()
    t.add_(1)


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    ember.manual_seed(0)
    x = ember.randn(256, 4)
    y = x @ ember.tensor(TRUE_W).T + ember.tensor(TRUE_B)
    model = nn.Linear(4, 1).share_memory()
    before = nn.functional.mse_loss(model(x), y).item()
    workers = [ctx.Process(target=train, args=(r, model, x, y, 60)) for r in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    after = nn.functional.mse_loss(model(x), y).item()
    assert after < before / 100, (before, after)
    assert ember.allclose(model.weight, ember.tensor(TRUE_W), atol=0.05), model.weight
    shared = ember.zeros(3).share_memory_()
    queue = ctx.Queue()
    child = ctx.Process(target=bump, args=(queue,))
    child.start()
    queue.put(shared)
    child.join(60)
    assert child.exitcode == 0 and shared.tolist() == [1.0, 1.0, 1.0], shared
    print(f"hogwild ok {before:.3f} -> {after:.5f}", flush=True)
