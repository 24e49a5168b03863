"""The exponential-family base class: densities p(x) = exp(<t(x), theta> - F(theta) + k(x)) whose entropy follows
from the log normaliser F by its gradient (a Bregman divergence)."""
from ..autograd.engine import grad
from ..autograd.grad_mode import enable_grad
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """A distribution given by natural parameters ``_natural_params``, a log normaliser ``_log_normalizer`` and the
    expected carrier measure ``_mean_carrier_measure``; ``entropy`` is worked out from them."""

    @property
    def _natural_params(self):
        """The natural parameters theta, a tuple of tensors (subclasses define it)."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """F(theta) (subclasses define it)."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """E[k(x)] (subclasses define it)."""
        raise NotImplementedError

    def entropy(self):
        """H = F(theta) - <theta, grad F(theta)> - E[k(x)]."""
        result = -self._mean_carrier_measure
        params = [p.detach().requires_grad_() for p in self._natural_params]
        with enable_grad():
            log_normalizer = self._log_normalizer(*params)
            gradients = grad(log_normalizer.sum(), params, create_graph=True)
        result = result + log_normalizer
        for param, gradient in zip(params, gradients):
            result = result - (param * gradient).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
