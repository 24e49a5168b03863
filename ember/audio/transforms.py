"""``ember.audio.transforms``: torchaudio's transforms as modules over ``ember.audio.functional`` (buffers hold the
windows, filter banks and kernels, so ``.to(device)`` and ``state_dict`` behave as torchaudio's)."""
import math
import warnings

import ember
from ember import nn

from . import functional as F

__all__ = ["Spectrogram", "InverseSpectrogram", "GriffinLim", "MelScale", "InverseMelScale", "MelSpectrogram", "MFCC",
           "LFCC", "AmplitudeToDB", "Resample", "FrequencyMasking", "TimeMasking", "TimeStretch", "Vol", "Fade",
           "ComputeDeltas", "MuLawEncoding", "MuLawDecoding", "SpecAugment", "Loudness", "SlidingWindowCmn",
           "SpectralCentroid", "PitchShift", "Convolve", "FFTConvolve", "Speed", "SpeedPerturbation", "AddNoise",
           "Preemphasis", "Deemphasis", "Vad", "PSD", "RTFMVDR", "SoudenMVDR"]


def _make_window(window_fn, win_length, wkwargs):
    return window_fn(win_length) if wkwargs is None else window_fn(win_length, **wkwargs)


class Spectrogram(nn.Module):
    """The (power) spectrogram of (..., time) waveforms: (..., n_fft // 2 + 1, frames)."""

    __constants__ = ["n_fft", "win_length", "hop_length", "pad", "power", "normalized"]

    def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=ember.hann_window, power=2.0,
                 normalized=False, wkwargs=None, center=True, pad_mode="reflect", onesided=True,
                 return_complex=None):
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.pad, self.power, self.normalized = pad, power, normalized
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided
        if return_complex is not None:
            warnings.warn("`return_complex` argument is now deprecated and is not effective."
                          "`torchaudio.transforms.Spectrogram(power=None)` always returns a tensor with "
                          "complex dtype. Please remove the argument in the function call.", UserWarning)

    def forward(self, waveform):
        """(..., time) -> (..., freq, frames)."""
        return F.spectrogram(waveform, self.pad, self.window, self.n_fft, self.hop_length, self.win_length,
                             self.power, self.normalized, self.center, self.pad_mode, self.onesided)


class InverseSpectrogram(nn.Module):
    """Waveforms from complex spectrograms by the inverse STFT."""

    def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=ember.hann_window,
                 normalized=False, wkwargs=None, center=True, pad_mode="reflect", onesided=True):
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.pad, self.normalized = pad, normalized
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided

    def forward(self, spectrogram, length=None):
        """(..., freq, frames) complex -> (..., time), trimmed or padded to ``length`` when given."""
        return F.inverse_spectrogram(spectrogram, length, self.pad, self.window, self.n_fft, self.hop_length,
                                     self.win_length, self.normalized, self.center, self.pad_mode, self.onesided)


class GriffinLim(nn.Module):
    """A waveform from a magnitude spectrogram by the fast Griffin-Lim algorithm."""

    def __init__(self, n_fft=400, n_iter=32, win_length=None, hop_length=None, window_fn=ember.hann_window,
                 power=2.0, wkwargs=None, momentum=0.99, length=None, rand_init=True):
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in the range [0, 1). Found: {momentum}")
        self.n_fft, self.n_iter = n_fft, n_iter
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.length, self.power, self.momentum, self.rand_init = length, power, momentum, rand_init

    def forward(self, specgram):
        """(..., freq, frames) magnitudes (to ``power``) -> (..., time)."""
        return F.griffinlim(specgram, self.window, self.n_fft, self.hop_length, self.win_length, self.power,
                            self.n_iter, self.momentum, self.length, self.rand_init)


class MelScale(nn.Module):
    """Maps a (..., n_stft, time) spectrogram to (..., n_mels, time) with triangular mel filters."""

    __constants__ = ["n_mels", "sample_rate", "f_min", "f_max"]

    def __init__(self, n_mels=128, sample_rate=16000, f_min=0.0, f_max=None, n_stft=201, norm=None,
                 mel_scale="htk"):
        super().__init__()
        self.n_mels, self.sample_rate = n_mels, sample_rate
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.f_min, self.norm, self.mel_scale = f_min, norm, mel_scale
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        self.register_buffer("fb", F.melscale_fbanks(n_stft, self.f_min, self.f_max, self.n_mels, self.sample_rate,
                                                     self.norm, self.mel_scale))

    def forward(self, specgram):
        """(..., freq, time) -> (..., n_mels, time)."""
        return ember.matmul(specgram.transpose(-1, -2), self.fb.to(specgram.dtype)).transpose(-1, -2)


class InverseMelScale(nn.Module):
    """The least-squares (non-negative by clipping) spectrogram whose mel scale is the given one."""

    __constants__ = ["n_stft", "n_mels", "sample_rate", "f_min", "f_max"]

    def __init__(self, n_stft, n_mels=128, sample_rate=16000, f_min=0.0, f_max=None, norm=None, mel_scale="htk",
                 driver="gels"):
        super().__init__()
        self.n_mels, self.sample_rate = n_mels, sample_rate
        self.f_max = f_max or float(sample_rate // 2)
        self.f_min, self.driver = f_min, driver
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        if driver not in ("gels", "gelsy", "gelsd", "gelss"):
            raise ValueError(f'driver must be one of ["gels", "gelsy", "gelsd", "gelss"]. Found {driver}.')
        self.register_buffer("fb", F.melscale_fbanks(n_stft, self.f_min, self.f_max, self.n_mels, self.sample_rate,
                                                     norm, mel_scale))

    def forward(self, melspec):
        """(..., n_mels, time) -> (..., n_stft, time)."""
        shape = melspec.shape
        melspec = melspec.reshape(-1, shape[-2], shape[-1])
        if self.n_mels != shape[-2]:
            raise ValueError(f"Expected an input with {self.n_mels} mel bins. Found: {shape[-2]}")
        solution = ember.linalg.lstsq(self.fb.to(melspec.dtype).transpose(-1, -2)[None], melspec).solution
        return ember.relu(solution).reshape(tuple(shape[:-2]) + (self.fb.shape[0], shape[-1]))


class MelSpectrogram(nn.Module):
    """Spectrogram followed by MelScale: (..., time) -> (..., n_mels, frames)."""

    __constants__ = ["sample_rate", "n_fft", "win_length", "hop_length", "pad", "n_mels", "f_min"]

    def __init__(self, sample_rate=16000, n_fft=400, win_length=None, hop_length=None, f_min=0.0, f_max=None,
                 pad=0, n_mels=128, window_fn=ember.hann_window, power=2.0, normalized=False, wkwargs=None,
                 center=True, pad_mode="reflect", onesided=None, norm=None, mel_scale="htk"):
        super().__init__()
        if onesided is not None:
            warnings.warn("Argument 'onesided' has been deprecated and has no influence on the behavior of this "
                          "module.", UserWarning)
        self.sample_rate, self.n_fft, self.n_mels = sample_rate, n_fft, n_mels
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.pad, self.power, self.normalized = pad, power, normalized
        self.f_max, self.f_min = f_max, f_min
        self.spectrogram = Spectrogram(n_fft=n_fft, win_length=self.win_length, hop_length=self.hop_length, pad=pad,
                                       window_fn=window_fn, power=power, normalized=normalized, wkwargs=wkwargs,
                                       center=center, pad_mode=pad_mode, onesided=True)
        self.mel_scale = MelScale(n_mels, sample_rate, f_min, f_max, n_fft // 2 + 1, norm, mel_scale)

    def forward(self, waveform):
        """(..., time) -> (..., n_mels, frames)."""
        return self.mel_scale(self.spectrogram(waveform))


class AmplitudeToDB(nn.Module):
    """Power or amplitude spectrograms to decibels, optionally floored ``top_db`` below the maximum."""

    __constants__ = ["multiplier", "amin", "ref_value", "db_multiplier"]

    def __init__(self, stype="power", top_db=None):
        super().__init__()
        self.stype = stype
        if top_db is not None and top_db < 0:
            raise ValueError("top_db must be positive value")
        self.top_db = top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin, self.ref_value = 1e-10, 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x):
        """Values in decibels, same shape."""
        return F.amplitude_to_DB(x, self.multiplier, self.amin, self.db_multiplier, self.top_db)


class _CepstralBase(nn.Module):
    def _log(self, specgram, log_flag):
        if log_flag:
            return ember.log(specgram + 1e-6)
        return self.amplitude_to_DB(specgram)

    def _dct(self, specgram):
        return ember.matmul(specgram.transpose(-1, -2), self.dct_mat.to(specgram.dtype)).transpose(-1, -2)


class MFCC(_CepstralBase):
    """Mel-frequency cepstral coefficients: the DCT of the log (dB) mel spectrogram, (..., n_mfcc, frames)."""

    __constants__ = ["sample_rate", "n_mfcc", "dct_type", "top_db", "log_mels"]

    def __init__(self, sample_rate=16000, n_mfcc=40, dct_type=2, norm="ortho", log_mels=False, melkwargs=None):
        super().__init__()
        if dct_type != 2:
            raise ValueError(f"DCT type not supported: {dct_type}")
        self.sample_rate, self.n_mfcc, self.dct_type, self.norm = sample_rate, n_mfcc, dct_type, norm
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.MelSpectrogram = MelSpectrogram(sample_rate=self.sample_rate, **(melkwargs or {}))
        if self.n_mfcc > self.MelSpectrogram.n_mels:
            raise ValueError("Cannot select more MFCC coefficients than # mel bins")
        self.register_buffer("dct_mat", F.create_dct(self.n_mfcc, self.MelSpectrogram.n_mels, self.norm))
        self.log_mels = log_mels

    def forward(self, waveform):
        """(..., time) -> (..., n_mfcc, frames)."""
        return self._dct(self._log(self.MelSpectrogram(waveform), self.log_mels))


class LFCC(_CepstralBase):
    """Linear-frequency cepstral coefficients: the DCT of the log (dB) linear-filter-bank spectrogram."""

    __constants__ = ["sample_rate", "n_filter", "n_lfcc", "dct_type", "top_db", "log_lf"]

    def __init__(self, sample_rate=16000, n_filter=128, f_min=0.0, f_max=None, n_lfcc=40, dct_type=2,
                 norm="ortho", log_lf=False, speckwargs=None):
        super().__init__()
        if dct_type != 2:
            raise ValueError(f"DCT type not supported: {dct_type}")
        self.sample_rate, self.f_min = sample_rate, f_min
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.n_filter, self.n_lfcc, self.dct_type, self.norm = n_filter, n_lfcc, dct_type, norm
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.Spectrogram = Spectrogram(**(speckwargs or {}))
        if self.n_lfcc > self.Spectrogram.n_fft:
            raise ValueError("Cannot select more LFCC coefficients than # fft bins")
        self.register_buffer("filter_mat", F.linear_fbanks(self.Spectrogram.n_fft // 2 + 1, self.f_min, self.f_max,
                                                           self.n_filter, self.sample_rate))
        self.register_buffer("dct_mat", F.create_dct(self.n_lfcc, self.n_filter, self.norm))
        self.log_lf = log_lf

    def forward(self, waveform):
        """(..., time) -> (..., n_lfcc, frames)."""
        specgram = self.Spectrogram(waveform)
        specgram = ember.matmul(specgram.transpose(-1, -2), self.filter_mat.to(specgram.dtype)).transpose(-1, -2)
        return self._dct(self._log(specgram, self.log_lf))


class Resample(nn.Module):
    """Resamples (..., time) waveforms from orig_freq to new_freq with a cached windowed-sinc kernel."""

    def __init__(self, orig_freq=16000, new_freq=16000, resampling_method="sinc_interp_hann",
                 lowpass_filter_width=6, rolloff=0.99, beta=None, *, dtype=None):
        super().__init__()
        self.orig_freq, self.new_freq = orig_freq, new_freq
        self.gcd = math.gcd(int(self.orig_freq), int(self.new_freq))
        self.resampling_method, self.lowpass_filter_width = resampling_method, lowpass_filter_width
        self.rolloff, self.beta = rolloff, beta
        if self.orig_freq != self.new_freq:
            kernel, self.width = F.functional._sinc_resample_kernel(
                self.orig_freq, self.new_freq, self.gcd, self.lowpass_filter_width, self.rolloff,
                self.resampling_method, beta, dtype=dtype)
            self.register_buffer("kernel", kernel, persistent=False)

    def forward(self, waveform):
        """(..., time) -> (..., ceil(time * new_freq / orig_freq))."""
        if self.orig_freq == self.new_freq:
            return waveform
        return F.functional._apply_sinc_resample_kernel(waveform, self.orig_freq, self.new_freq, self.gcd,
                                                        self.kernel, self.width)


class _AxisMasking(nn.Module):
    __constants__ = ["mask_param", "axis", "iid_masks", "p"]

    def __init__(self, mask_param, axis, iid_masks, p=1.0):
        super().__init__()
        self.mask_param, self.axis, self.iid_masks, self.p = mask_param, axis, iid_masks, p

    def forward(self, specgram, mask_value=0.0):
        """The spectrogram with one random band filled with ``mask_value`` (one per example when iid_masks)."""
        axis = self.axis + specgram.ndim - 3
        if self.iid_masks:
            return F.mask_along_axis_iid(specgram, self.mask_param, mask_value, axis, p=self.p)
        return F.mask_along_axis(specgram, self.mask_param, mask_value, axis, p=self.p)


class FrequencyMasking(_AxisMasking):
    """SpecAugment's frequency masking: a random band of up to ``freq_mask_param`` bins filled."""

    def __init__(self, freq_mask_param, iid_masks=False):
        super().__init__(freq_mask_param, 1, iid_masks)


class TimeMasking(_AxisMasking):
    """SpecAugment's time masking: a random span of up to ``time_mask_param`` frames (at most p of them) filled."""

    def __init__(self, time_mask_param, iid_masks=False, p=1.0):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")
        super().__init__(time_mask_param, 2, iid_masks, p=p)


class TimeStretch(nn.Module):
    """Speeds complex spectrograms up by a rate (slows them down below 1) with a phase vocoder."""

    __constants__ = ["fixed_rate"]

    def __init__(self, hop_length=None, n_freq=201, fixed_rate=None):
        super().__init__()
        self.fixed_rate = fixed_rate
        n_fft = (n_freq - 1) * 2
        hop_length = hop_length if hop_length is not None else n_fft // 2
        self.register_buffer("phase_advance", ember.linspace(0, math.pi * hop_length, n_freq)[..., None])

    def forward(self, complex_specgrams, overriding_rate=None):
        """(..., freq, time) complex -> (..., freq, ceil(time / rate))."""
        if not complex_specgrams.is_complex():
            warnings.warn("The input to TimeStretch must be complex type. Providing non-complex tensor produces "
                          "invalid results.", stacklevel=3)
        if overriding_rate is None:
            if self.fixed_rate is None:
                raise ValueError("If no fixed_rate is specified, must pass a valid rate to the forward method.")
            rate = self.fixed_rate
        else:
            rate = overriding_rate
        return F.phase_vocoder(complex_specgrams, rate, self.phase_advance.to(complex_specgrams.real.dtype))


class Vol(nn.Module):
    """Scales the waveform by a gain (amplitude ratio, power ratio or decibels) and clamps to [-1, 1]."""

    def __init__(self, gain, gain_type="amplitude"):
        super().__init__()
        self.gain, self.gain_type = gain, gain_type
        if gain_type in ("amplitude", "power") and gain < 0:
            raise ValueError("If gain_type = amplitude or power, gain must be positive.")

    def forward(self, waveform):
        """The scaled, clamped waveform."""
        if self.gain_type == "amplitude":
            waveform = waveform * self.gain
        elif self.gain_type == "db":
            waveform = F.gain(waveform, self.gain)
        elif self.gain_type == "power":
            waveform = F.gain(waveform, 10 * math.log10(self.gain))
        else:
            raise ValueError(f"gain_type must be one of amplitude, power or db, got {self.gain_type}")
        return ember.clamp(waveform, -1, 1)


_FADE_IN = {"linear": lambda f: f, "exponential": lambda f: ember.pow(2, (f - 1) * 5) * f,
            "logarithmic": lambda f: ember.log10(0.1 + f) + 1, "quarter_sine": lambda f: ember.sin(f * math.pi / 2),
            "half_sine": lambda f: ember.sin(f * math.pi - math.pi / 2) / 2 + 0.5}
_FADE_OUT = {"linear": lambda f: -f + 1, "exponential": lambda f: ember.pow(2, -f * 5) * (1 - f),
             "logarithmic": lambda f: ember.log10(1.1 - f) + 1,
             "quarter_sine": lambda f: ember.sin(f * math.pi / 2 + math.pi / 2),
             "half_sine": lambda f: ember.sin(f * math.pi + math.pi / 2) / 2 + 0.5}


class Fade(nn.Module):
    """Fades the start and end of (..., time) waveforms in and out with a linear, exponential, logarithmic,
    quarter-sine or half-sine shape."""

    def __init__(self, fade_in_len=0, fade_out_len=0, fade_shape="linear"):
        super().__init__()
        if fade_shape not in _FADE_IN:
            raise ValueError(f"fade_shape must be one of {sorted(_FADE_IN)}, got {fade_shape}")
        self.fade_in_len, self.fade_out_len, self.fade_shape = fade_in_len, fade_out_len, fade_shape

    def forward(self, waveform):
        """The faded waveform."""
        length = waveform.shape[-1]
        fade_in = _FADE_IN[self.fade_shape](ember.linspace(0, 1, self.fade_in_len, device=waveform.device))
        fade_in = ember.cat((fade_in, ember.ones(length - self.fade_in_len, device=waveform.device))).clamp(0, 1)
        fade_out = _FADE_OUT[self.fade_shape](ember.linspace(0, 1, self.fade_out_len, device=waveform.device))
        fade_out = ember.cat((ember.ones(length - self.fade_out_len, device=waveform.device), fade_out)).clamp(0, 1)
        return fade_in.to(waveform.dtype) * fade_out.to(waveform.dtype) * waveform


class ComputeDeltas(nn.Module):
    """Delta coefficients of a (..., freq, time) spectrogram along time."""

    __constants__ = ["win_length"]

    def __init__(self, win_length=5, mode="replicate"):
        super().__init__()
        self.win_length, self.mode = win_length, mode

    def forward(self, specgram):
        """Same shape as the input."""
        return F.compute_deltas(specgram, win_length=self.win_length, mode=self.mode)


class MuLawEncoding(nn.Module):
    """mu-law companding of [-1, 1] signals to integers in [0, quantization_channels)."""

    __constants__ = ["quantization_channels"]

    def __init__(self, quantization_channels=256):
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x):
        """Integer codes, same shape."""
        return F.mu_law_encoding(x, self.quantization_channels)


class MuLawDecoding(nn.Module):
    """The inverse of MuLawEncoding."""

    __constants__ = ["quantization_channels"]

    def __init__(self, quantization_channels=256):
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x_mu):
        """Values in [-1, 1], same shape."""
        return F.mu_law_decoding(x_mu, self.quantization_channels)


# the augmentation and measurement transforms live in their own module (it builds Speed on Resample above)
from ._transforms_effects import (PSD, RTFMVDR, AddNoise, Convolve, Deemphasis, FFTConvolve, Loudness,  # noqa: E402
                                  PitchShift, Preemphasis, SlidingWindowCmn, SoudenMVDR, SpecAugment,
                                  SpectralCentroid, Speed, SpeedPerturbation, Vad)
