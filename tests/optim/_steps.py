"""Shared by the single-optimizer tests: seeded steps of one optimizer in ember or torch, and a state_dict moved
between the two libraries."""
import numpy


def run_steps(lib, name, shapes, steps, dtype="float32", state=None, **options):
    """(parameters after ``steps`` steps of ``lib.optim.<name>`` on seeded gradients, the optimizer); ``state``, when
    given, is loaded first."""
    rng = numpy.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    params = [lib.nn.Parameter(lib.tensor(a)) for a in init]
    optimizer = getattr(lib.optim, name)(params, **options)
    if state is not None:
        optimizer.load_state_dict(state)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = lib.tensor(g)
        optimizer.step()
    return [p.detach().numpy() for p in params], optimizer


def converted(state_dict, lib):
    """An optimizer state_dict with its tensors as ``lib``'s (what saving in one library and loading in the other
    gives)."""
    return {"state": {k: {n: lib.tensor(v.numpy()) for n, v in s.items()} for k, s in state_dict["state"].items()},
            "param_groups": state_dict["param_groups"]}
