"""SparseAdam: Adam for parameters whose gradients are sparse (``nn.Embedding(sparse=True)``); only the rows that
have a gradient move, and their moment estimates decay."""
import math

from ..autograd.grad_mode import no_grad
from .._tensor import Tensor
from .optimizer import Optimizer, ParamsT, _loss_of


class SparseAdam(Optimizer):
    """Lazy Adam: the moments and parameters are updated only at the indices of each (coalesced) sparse gradient."""

    def __init__(self, params: ParamsT, lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False):
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        for kind, check in (("Sparse", lambda p: p.is_sparse), ("Complex", lambda p: p.is_complex())):
            found = [[g, i] for g, group in enumerate(self.param_groups)
                     for i, p in enumerate(group["params"]) if check(p)]
            if found:
                requirement = "SparseAdam requires dense parameter tensors" if kind == "Sparse" else \
                    "SparseAdam does not support complex parameters"
                raise ValueError(f"{kind} params at indices {found}: {requirement}")

    @no_grad()
    def step(self, closure=None):
        """Updates every parameter that has a sparse gradient; returns the closure's loss when one is given."""
        loss = _loss_of(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if not p.grad.is_sparse:
                    raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
                grad = (-p.grad if group["maximize"] else p.grad).coalesce()
                state = self.state[p]
                if not state:
                    from .. import zeros_like
                    state["step"] = 0
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                state["step"] += 1
                rows = grad._indices_[0]
                values = grad._values_
                if values.numel() == 0:
                    continue
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                old_avg, old_sq = exp_avg[rows], exp_avg_sq[rows]
                avg_update = (values - old_avg) * (1 - beta1)
                sq_update = (values * values - old_sq) * (1 - beta2)
                exp_avg.index_add_(0, rows, avg_update)
                exp_avg_sq.index_add_(0, rows, sq_update)
                numer = avg_update + old_avg
                denom = (sq_update + old_sq).sqrt() + group["eps"]
                step = state["step"]
                step_size = group["lr"] * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
                p.index_add_(0, rows, -step_size * (numer / denom))
        return loss
