"""Programs for the optimizer sweep: each is ``fn(lib)`` building parameters from fixed NumPy values, stepping an
optimizer of ``lib.optim`` on a fixed loss and returning the parameters and the state_dict."""
import numpy


class T:
    """An option given as a 0-d tensor of ``lib`` (lr=T(0.01))."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"T({self.value})"


def options(L, kwargs):
    """``kwargs`` with ``T`` values made tensors of ``L``."""
    return {k: L.tensor(v.value) if isinstance(v, T) else
            tuple(L.tensor(x.value) if isinstance(x, T) else x for x in v) if isinstance(v, tuple) else v
            for k, v in kwargs.items()}


def make_params(L, dtype="float32", shapes=((3, 4), (5,)), seed=0):
    rng = numpy.random.default_rng(seed)
    out = []
    for shape in shapes:
        values = rng.uniform(-2, 2, shape)
        if dtype.startswith("complex"):
            values = values + 1j * rng.uniform(-2, 2, shape)
        out.append(L.tensor(values.astype(dtype), requires_grad=True))
    return out


def loss_of(L, params):
    total = 0
    for i, p in enumerate(params):
        if p.is_complex():
            total = total + (p * p.conj()).real.sum() * 0.5 + (p.real * (i + 1)).sum()
        else:
            total = total + (p * p).sum() * 0.5 + (p * (i + 1)).sin().sum()
    return total


def run(L, name, kwargs, steps=4, dtype="float32", shapes=((3, 4), (5,)), closure=False, groups=None):
    """Steps ``L.optim.<name>`` ``steps`` times; the parameters and the state_dict after."""
    params = make_params(L, dtype, shapes)
    if groups is not None:   # [(indices, options)]
        given = [dict(params=[params[i] for i in idx], **options(L, extra)) for idx, extra in groups]
    else:
        given = params
    opt = getattr(L.optim, name)(given, **options(L, kwargs))
    for _ in range(steps):
        def step_closure():
            opt.zero_grad()
            loss = loss_of(L, params)
            loss.backward()
            return loss
        if closure:
            loss = opt.step(step_closure)
        else:
            step_closure()
            opt.step()
            loss = None
    return params, opt.state_dict(), loss


COMMON = [dict(), dict(lr=T(0.01)), dict(foreach=True), dict(foreach=False), dict(maximize=True),
          dict(weight_decay=0.1), dict(differentiable=True)]

CASES = {
    "SGD": COMMON + [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, nesterov=True),
                     dict(lr=0.1, momentum=0.9, dampening=0.5), dict(lr=0.1, momentum=0.9, weight_decay=0.1,
                                                                       maximize=True, foreach=True),
                     dict(lr=0.1, weight_decay=T(0.1)), dict(lr=0.1, fused=True),
                     dict(lr=0.1, momentum=0.9, fused=True)],
    "Adam": COMMON + [dict(lr=0.1, amsgrad=True), dict(betas=(0.8, 0.9)), dict(betas=(T(0.8), T(0.9))),
                      dict(eps=1e-3), dict(capturable=True), dict(fused=True), dict(fused=True, amsgrad=True),
                      dict(weight_decay=0.1, decoupled_weight_decay=True), dict(lr=T(0.01), foreach=True),
                      dict(amsgrad=True, maximize=True, weight_decay=0.1, foreach=True)],
    "AdamW": COMMON + [dict(amsgrad=True), dict(fused=True), dict(capturable=True), dict(weight_decay=0.0),
                       dict(betas=(0.5, 0.6), eps=1e-4)],
    "Adadelta": COMMON + [dict(foreach=True, capturable=True), dict(rho=0.5), dict(eps=1e-3), dict(capturable=True),
                          dict(lr=0.5)],
    "Adagrad": COMMON + [dict(lr_decay=0.1), dict(initial_accumulator_value=0.5), dict(eps=1e-3),
                         dict(fused=True)],
    "Adamax": COMMON + [dict(betas=(0.5, 0.6)), dict(eps=1e-3), dict(capturable=True)],
    "ASGD": COMMON + [dict(lambd=0.1), dict(alpha=0.5), dict(t0=2), dict(t0=2, lambd=0.1), dict(capturable=True)],
    "NAdam": COMMON + [dict(momentum_decay=0.1), dict(weight_decay=0.1, decoupled_weight_decay=True),
                       dict(lr=T(0.01), weight_decay=0.1, decoupled_weight_decay=True),
                       dict(foreach=True, capturable=True),
                       dict(capturable=True), dict(betas=(0.5, 0.6))],
    "RAdam": COMMON + [dict(weight_decay=0.1, decoupled_weight_decay=True), dict(capturable=True),
                       dict(lr=T(0.01), weight_decay=0.1, decoupled_weight_decay=True),
                       dict(betas=(0.5, 0.6))],
    "RMSprop": COMMON + [dict(alpha=0.5), dict(centered=True), dict(momentum=0.9), dict(momentum=0.9, centered=True),
                         dict(capturable=True), dict(eps=1e-3)],
    "Rprop": [dict(), dict(lr=T(0.01)), dict(foreach=True), dict(foreach=False), dict(maximize=True),
              dict(differentiable=True), dict(etas=(0.3, 1.5)), dict(step_sizes=(1e-3, 0.05)),
              dict(capturable=True)],
    "Adafactor": [dict(), dict(lr=T(0.01)), dict(foreach=False), dict(maximize=True), dict(weight_decay=0.1),
                  dict(beta2_decay=-0.5), dict(eps=(1e-3, 1e-2)), dict(d=0.5)],
}

COMPLEX = {"SGD": [dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.1, weight_decay=0.1, maximize=True)],
           "Adam": [dict(lr=0.1), dict(lr=0.1, amsgrad=True, weight_decay=0.1), dict(foreach=True)],
           "AdamW": [dict(lr=0.1)], "Adadelta": [dict()], "Adagrad": [dict(lr=0.1)], "Adamax": [dict()],
           "ASGD": [dict(t0=1)], "NAdam": [dict()], "RAdam": [dict()], "RMSprop": [dict(centered=True, momentum=0.9)],
           "Rprop": [dict()], "Adafactor": [dict()], "SparseAdam": [dict()]}

LBFGS = [dict(), dict(lr=0.5), dict(lr=T(0.5)), dict(max_iter=3), dict(max_iter=5, max_eval=7), dict(history_size=2),
         dict(line_search_fn="strong_wolfe"), dict(line_search_fn="strong_wolfe", history_size=3, max_iter=4),
         dict(tolerance_grad=10.0), dict(tolerance_change=1.0)]

MUON = [dict(), dict(lr=0.02), dict(lr=T(0.01)), dict(weight_decay=0.0), dict(nesterov=False), dict(momentum=0.5),
        dict(ns_steps=3), dict(ns_coefficients=(2.0, -1.5, 0.5)), dict(adjust_lr_fn="original"),
        dict(adjust_lr_fn="match_rms_adamw"), dict(eps=1e-3)]
