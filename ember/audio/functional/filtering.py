"""IIR filtering (torchaudio's ``lfilter`` and the biquads), differentiable in the waveform and the coefficients."""
import math

import numpy

import ember
import ember.nn.functional as F

__all__ = ["lfilter", "biquad", "lowpass_biquad", "highpass_biquad"]


class _Recursion(ember.autograd.Function):
    """y[n] = u[n] - sum_{k >= 1} a[c, k] y[n - k] over (batch, channel, time) with zero initial state (a[:, 0] = 1).

    Its adjoint in u is the same recursion run backwards in time; in a[:, k] it is -sum_n g_u[n] y[n - k]."""

    @staticmethod
    def forward(ctx, u, a):
        signal, coefficients = u.detach().cpu().numpy(), a.detach().cpu().numpy()
        order = coefficients.shape[1] - 1
        batch, channels, length = signal.shape
        out = numpy.zeros((batch, channels, length + order), dtype=signal.dtype)
        feedback = coefficients[None, :, :0:-1] if order else None   # a[k] for k = order .. 1, aligned with y[n-k]
        for n in range(length):
            value = signal[:, :, n]
            if order:
                value = value - (out[:, :, n:n + order] * feedback).sum(-1)
            out[:, :, n + order] = value
        y = ember.from_numpy(out[:, :, order:].copy()).to(u.device)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, y = ctx.saved_tensors
        grad_u = _Recursion.apply(grad.flip(-1), a).flip(-1)
        grad_a = None
        if ctx.needs_input_grad[1]:
            length = y.shape[-1]
            columns = [ember.zeros(a.shape[0], dtype=a.dtype, device=a.device)]
            for k in range(1, a.shape[1]):
                columns.append(-(grad_u[..., k:] * y[..., :length - k]).sum((0, 2)) if k < length
                               else ember.zeros(a.shape[0], dtype=a.dtype, device=a.device))
            grad_a = ember.stack(columns, 1)
        return grad_u, grad_a


def lfilter(waveform, a_coeffs, b_coeffs, clamp=True, batching=True):
    """Filters (..., time) waveforms by the IIR filter b / a (scipy.signal.lfilter's difference equation, a[0]
    normalizing), output clamped to [-1, 1] when ``clamp``. 2-d coefficients filter channel c of (..., c, time)
    with row c (``batching``) or every waveform with every row (a new dim before time)."""
    if a_coeffs.shape != b_coeffs.shape:
        raise ValueError(f"Expected coeffs to be the same size. Found a_coeffs size: {a_coeffs.shape}, b_coeffs "
                         f"size: {b_coeffs.shape}")
    if a_coeffs.ndim > 2:
        raise ValueError(f"Expected coeffs to have greater than 1 dimension. Found {a_coeffs.ndim}")
    if a_coeffs.ndim > 1:
        if batching:
            if waveform.ndim < 2 or waveform.shape[-2] != a_coeffs.shape[0]:
                raise ValueError("Expected waveform to have the same number of channels as filters in coeffs. "
                                 f"Found waveform shape: {tuple(waveform.shape)}, a_coeffs shape: "
                                 f"{tuple(a_coeffs.shape)}")
        else:
            waveform = ember.stack([waveform] * a_coeffs.shape[0], -2)
    else:
        a_coeffs, b_coeffs = a_coeffs.unsqueeze(0), b_coeffs.unsqueeze(0)
    shape = waveform.shape
    channels, order = a_coeffs.shape[0], a_coeffs.shape[1]
    signal = waveform.reshape(-1, channels, shape[-1])
    a0 = a_coeffs[:, :1]
    padded = F.pad(signal, (order - 1, 0))
    fir = F.conv1d(padded, b_coeffs.flip(1).unsqueeze(1).to(signal.dtype), groups=channels) / a0.to(signal.dtype)
    output = _Recursion.apply(fir, (a_coeffs / a0).to(signal.dtype))
    if clamp:
        output = ember.clamp(output, min=-1.0, max=1.0)
    return output.reshape(shape)


def _coefficient(value, like):
    return ember.as_tensor(value, dtype=like.dtype, device=like.device).view(1)


def biquad(waveform, b0, b1, b2, a0, a1, a2):
    """The second-order IIR filter (b0 + b1 z^-1 + b2 z^-2) / (a0 + a1 z^-1 + a2 z^-2)."""
    a = ember.cat([_coefficient(c, waveform) for c in (a0, a1, a2)])
    b = ember.cat([_coefficient(c, waveform) for c in (b0, b1, b2)])
    return lfilter(waveform, a, b)


def _w0_alpha(waveform, sample_rate, cutoff_freq, Q):
    cutoff_freq = ember.as_tensor(cutoff_freq, dtype=waveform.dtype, device=waveform.device)
    Q = ember.as_tensor(Q, dtype=waveform.dtype, device=waveform.device)
    w0 = 2 * math.pi * cutoff_freq / sample_rate
    return w0, ember.sin(w0) / 2 / Q


def lowpass_biquad(waveform, sample_rate, cutoff_freq, Q=0.707):
    """A two-pole low-pass filter (Audio EQ Cookbook) at ``cutoff_freq`` Hz with quality factor Q."""
    w0, alpha = _w0_alpha(waveform, sample_rate, cutoff_freq, Q)
    cos = ember.cos(w0)
    b0 = (1 - cos) / 2
    return biquad(waveform, b0, 1 - cos, b0, 1 + alpha, -2 * cos, 1 - alpha)


def highpass_biquad(waveform, sample_rate, cutoff_freq, Q=0.707):
    """A two-pole high-pass filter (Audio EQ Cookbook) at ``cutoff_freq`` Hz with quality factor Q."""
    w0, alpha = _w0_alpha(waveform, sample_rate, cutoff_freq, Q)
    cos = ember.cos(w0)
    b0 = (1 + cos) / 2
    return biquad(waveform, b0, -1 - cos, b0, 1 + alpha, -2 * cos, 1 - alpha)
