"""torchaudio.functional's SoX-like effects on (..., time) waveforms: contrast, DC shift, overdrive."""
import math

import ember

from .filtering import lfilter

__all__ = ["contrast", "dcshift", "overdrive"]


def contrast(waveform, enhancement_amount=75.0):
    """SoX's contrast: sin(x pi / 2 + c sin(2 pi x)), c = enhancement_amount / 750 (louder, like compression)."""
    if not 0 <= enhancement_amount <= 100:
        raise ValueError("Allowed range of values for enhancement_amount : 0-100")
    scaled = waveform * (math.pi / 2)
    return ember.sin(scaled + enhancement_amount / 750.0 * ember.sin(scaled * 4))


def dcshift(waveform, shift, limiter_gain=None):
    """Adds ``shift`` (clamped to [-1, 1]); with ``limiter_gain``, peaks beyond 1 - (|shift| - limiter_gain) are
    compressed by that gain instead. As torchaudio's, the limiter writes into ``waveform`` itself."""
    if limiter_gain is None or shift == 0:
        return (waveform + shift).clamp(min=-1, max=1)
    threshold = 1.0 - (abs(shift) - limiter_gain)
    output = waveform
    if shift > 0:
        mask = waveform > threshold
        limited = (waveform[mask] - threshold) * limiter_gain / (1 - threshold)
        output[mask] = (limited + threshold + shift).clamp(max=threshold)
    else:
        mask = waveform < -threshold
        limited = (waveform[mask] + threshold) * limiter_gain / (1 - threshold)
        output[mask] = (limited - threshold + shift).clamp(min=-threshold)
    output[~mask] = (waveform[~mask] + shift).clamp(min=-1, max=1)
    return output


def overdrive(waveform, gain=20, colour=20):
    """SoX's overdrive: x * 10 ** (gain / 20) + colour / 200 through the soft clipper t - t^3 / 3 (+-2/3 beyond
    +-1), DC-blocked (y[n] = t[n] - t[n-1] + 0.995 y[n-1]) and mixed as 0.5 x + 0.75 y, clamped to [-1, 1]."""
    shape = waveform.shape
    waveform = waveform.view(-1, shape[-1])
    driven = waveform * math.exp(gain * math.log(10) / 20.0) + colour / 200
    clipped = ember.where(driven < -1, ember.tensor(-2.0 / 3.0, dtype=waveform.dtype, device=waveform.device),
                          ember.where(driven > 1, ember.tensor(2.0 / 3.0, dtype=waveform.dtype,
                                                               device=waveform.device),
                                      driven - driven ** 3 * (1.0 / 3)))
    a_coeffs = ember.tensor([1.0, -0.995], dtype=waveform.dtype, device=waveform.device)
    b_coeffs = ember.tensor([1.0, -1.0], dtype=waveform.dtype, device=waveform.device)
    blocked = lfilter(clipped, a_coeffs, b_coeffs, clamp=False)
    return (waveform * 0.5 + blocked * 0.75).clamp(min=-1, max=1).view(shape)
