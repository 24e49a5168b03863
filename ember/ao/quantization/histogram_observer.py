"""``HistogramObserver``: a running histogram of the values seen; ``calculate_qparams`` searches it for the range
that minimizes the L2 quantization error (caffe2's norm minimization), then maps that range as ``MinMaxObserver``.
"""
import warnings

import numpy

import ember

from .observer import _EPS, UniformQuantizationObserverBase
from .utils import is_per_tensor

__all__ = ["HistogramObserver"]


class HistogramObserver(UniformQuantizationObserverBase):
    """Records a ``bins``-bin histogram over the running [min, max] (re-binned as the range grows)."""

    def __init__(self, bins=2048, dtype=ember.quint8, qscheme=ember.per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False, **kwargs):
        if not is_per_tensor(qscheme):
            raise NotImplementedError("HistogramObserver's qscheme only support torch.per_tensor_symmetric         "
                                      "            and torch.per_tensor_affine.")
        if is_dynamic:
            raise NotImplementedError("HistogramObserver doesn't support dynamic quantization")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
                         quant_max=quant_max, factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic,
                         **kwargs)
        self.bins = bins
        self.register_buffer("histogram", ember.zeros(bins))
        self.register_buffer("min_val", ember.tensor(float("inf")))
        self.register_buffer("max_val", ember.tensor(float("-inf")))
        self.dst_nbins = 2 ** (8 * dtype.itemsize)
        self.upsample_rate = 16   # finer sub-bins when re-binning, for smaller errors

    @staticmethod
    def _get_norm(delta_begin, delta_end, density):
        """density * integral of x^2 from delta_begin to delta_end (the L2 error of one uniform piece)."""
        return density * ((delta_end * delta_end * delta_end - delta_begin * delta_begin * delta_begin) / 3)

    def _compute_quantization_error(self, next_start_bin, next_end_bin):
        """The L2 error of quantizing the histogram with bins ``next_start_bin..next_end_bin`` as the range."""
        bin_width = (self.max_val.item() - self.min_val.item()) / self.bins
        dst_bin_width = bin_width * (next_end_bin - next_start_bin + 1) / self.dst_nbins
        if dst_bin_width == 0.0:
            return 0.0
        src_bin_begin = (ember.arange(self.bins) - next_start_bin) * bin_width
        src_bin_end = src_bin_begin + bin_width
        top = self.dst_nbins - 1
        dst_bin_of_begin = ember.clamp(ember.div(src_bin_begin, dst_bin_width, rounding_mode="floor"), 0, top)
        dst_bin_of_end = ember.clamp(ember.div(src_bin_end, dst_bin_width, rounding_mode="floor"), 0, top)
        density = self.histogram / bin_width
        norm = ember.zeros(self.bins)
        norm += self._get_norm(src_bin_begin - (dst_bin_of_begin + 0.5) * dst_bin_width,
                               ember.ones(self.bins) * (dst_bin_width / 2), density)
        norm += (dst_bin_of_end - dst_bin_of_begin - 1) * self._get_norm(
            ember.tensor(-dst_bin_width / 2), ember.tensor(dst_bin_width / 2), density)
        dst_bin_of_end_center = dst_bin_of_end * dst_bin_width + dst_bin_width / 2
        norm += self._get_norm(ember.tensor(-dst_bin_width / 2), src_bin_end - dst_bin_of_end_center, density)
        return norm.sum().item()

    def _non_linear_param_search(self):
        """(new_min, new_max): trims the histogram's tails while that lowers the quantization error."""
        if self.histogram.size()[0] != self.bins:
            raise AssertionError("bins mismatch")
        bin_width = (self.max_val - self.min_val) / self.bins
        total = ember.sum(self.histogram).item()
        cumulative = ember.cumsum(self.histogram, dim=0).numpy()
        stepsize, alpha, beta = 1e-5, 0.0, 1.0
        start_bin, end_bin = 0, self.bins - 1
        norm_min = float("inf")
        while alpha < beta:
            next_alpha, next_beta = alpha + stepsize, beta - stepsize
            low, high = start_bin, end_bin
            # PyTorch compares a float32 element with the Python bound cast to float32
            while low < end_bin and cumulative[low] < numpy.float32(next_alpha * total):
                low += 1
            while high > start_bin and cumulative[high] > numpy.float32(next_beta * total):
                high -= 1
            next_start_bin, next_end_bin = start_bin, end_bin
            if (low - start_bin) > (end_bin - high):
                next_start_bin, alpha = low, next_alpha
            else:
                next_end_bin, beta = high, next_beta
            if next_start_bin == start_bin and next_end_bin == end_bin:
                continue
            norm = self._compute_quantization_error(next_start_bin, next_end_bin)
            if norm > norm_min:
                break
            norm_min, start_bin, end_bin = norm, next_start_bin, next_end_bin
        return self.min_val + bin_width * start_bin, self.min_val + bin_width * (end_bin + 1)

    def _upscale_histogram(self, histogram, orig_min, orig_max, update_min, update_max):
        """``histogram`` over [orig_min, orig_max] spread onto ``bins`` bins over [update_min, update_max]."""
        rate = self.upsample_rate
        histogram = histogram.repeat_interleave(rate) / rate
        bin_size = (orig_max - orig_min) / (self.bins * rate)
        mid_points = ember.linspace(orig_min, orig_max, self.bins * rate + 1)[:-1] + 0.5 * bin_size
        boundaries = ember.linspace(update_min, update_max, self.bins + 1)
        buckets = ember.clamp(ember.bucketize(mid_points, boundaries, right=True) - 1, 0, self.bins - 1)
        return ember.bincount(buckets, weights=histogram, minlength=self.bins)

    def _combine_histograms(self, orig_hist, orig_min, orig_max, update_hist, update_min, update_max):
        if update_min == orig_min and update_max == orig_max:
            return orig_hist + update_hist
        if orig_min == orig_max:
            return ember.histc(orig_min, bins=self.bins, min=update_min, max=update_max) * ember.sum(orig_hist) \
                + update_hist
        if update_min > orig_min:
            raise AssertionError("update_min must be <= orig_min")
        if update_max < orig_max:
            raise AssertionError("update_max must be >= orig_max")
        return update_hist + self._upscale_histogram(orig_hist, orig_min, orig_max, update_min, update_max)

    def _set(self, name, value):
        getattr(self, name).detach_().resize_(value.shape)
        getattr(self, name).copy_(value)

    def reset_histogram(self, x, min_val, max_val):
        """Starts the histogram over from ``x`` on [min_val, max_val]."""
        self._set("min_val", min_val)
        self._set("max_val", max_val)
        if min_val.numel() != 1 or max_val.numel() != 1:
            raise AssertionError("histogram min/max values must be scalar.")
        self._set("histogram", ember.histc(x, self.bins, min=min_val, max=max_val))

    def forward(self, x_orig):
        """Adds ``x_orig``'s values (infinities dropped, with PyTorch's warning); returns ``x_orig``."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach()
        x_min, x_max = ember.aminmax(x)
        if x_min == -float("inf") or x_max == float("inf"):
            warnings.warn("torch.inf detected in input tensor, ignoring input", stacklevel=2)
            x = x[x.abs() != float("inf")]
            if x.numel() == 0:
                return x_orig
            x_min, x_max = ember.aminmax(x)
        if self.min_val == float("inf") or self.max_val == float("-inf"):
            self.reset_histogram(x, x_min, x_max)
            return x_orig
        current_min, current_max = self.min_val, self.max_val
        new_min, new_max = ember.min(current_min, x_min), ember.max(current_max, x_max)
        update = ember.histc(x, self.bins, min=new_min, max=new_max)
        if new_min == current_min and new_max == current_max:
            self._set("histogram", self.histogram + update)
        else:
            self._set("histogram", self._combine_histograms(self.histogram, current_min, current_max, update,
                                                            new_min, new_max))
            self._set("min_val", new_min)
            self._set("max_val", new_max)
        return x_orig

    def calculate_qparams(self):
        """(scale, zero_point) of the error-minimizing range."""
        if self.min_val == float("inf") and self.max_val == float("-inf"):
            warnings.warn("must run observer before calling calculate_qparams.                                    "
                          "Returning default scale and zero point ", stacklevel=2)
            return ember.tensor([1.0]), ember.tensor([0])
        if self.bins != len(self.histogram):
            raise AssertionError("The number of bins in histogram should be equal to the number of bins supplied "
                                 "while making this observer")
        return self._calculate_qparams(*self._non_linear_param_search())

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "min_val"] = self.min_val
        destination[prefix + "max_val"] = self.max_val

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"
