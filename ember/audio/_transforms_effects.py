"""torchaudio.transforms' augmentation and measurement modules over ``ember.audio.functional`` (SpecAugment, speed
perturbation, noise, convolution, emphasis, pitch shift, spectral centroid, loudness, sliding-window CMN);
``ember.audio.transforms`` exports them beside the spectral transforms."""
import math

import ember
from ember import nn
from ember.nn.modules.lazy import LazyModuleMixin
from ember.nn.parameter import UninitializedParameter

from . import functional as F
from .functional.analysis import _fix_waveform_shape, _stretch_waveform
from .functional.convolution import _check_convolve_mode
from .functional.functional import _apply_sinc_resample_kernel, _sinc_resample_kernel

__all__ = ["SpecAugment", "Loudness", "SlidingWindowCmn", "SpectralCentroid", "PitchShift", "Convolve",
           "FFTConvolve", "Speed", "SpeedPerturbation", "AddNoise", "Preemphasis", "Deemphasis", "Vad", "PSD",
           "RTFMVDR", "SoudenMVDR"]


class SpecAugment(nn.Module):
    """SpecAugment: ``n_time_masks`` time masks and ``n_freq_masks`` frequency masks, filled with zeros
    (``zero_masking``) or the spectrogram's mean; independent per example and channel of a 3-d or longer input
    when ``iid_masks``."""

    __constants__ = ["n_time_masks", "time_mask_param", "n_freq_masks", "freq_mask_param", "iid_masks", "p",
                     "zero_masking"]

    def __init__(self, n_time_masks, time_mask_param, n_freq_masks, freq_mask_param, iid_masks=True, p=1.0,
                 zero_masking=False):
        super().__init__()
        self.n_time_masks, self.time_mask_param = n_time_masks, time_mask_param
        self.n_freq_masks, self.freq_mask_param = n_freq_masks, freq_mask_param
        self.iid_masks, self.p, self.zero_masking = iid_masks, p, zero_masking

    def forward(self, specgram):
        """(..., freq, time) -> the masked spectrogram, same shape."""
        mask_value = 0.0 if self.zero_masking else specgram.mean()
        time_dim = specgram.dim() - 1
        freq_dim = time_dim - 1
        mask = F.mask_along_axis_iid if specgram.dim() > 2 and self.iid_masks is True else F.mask_along_axis
        for _ in range(self.n_time_masks):
            specgram = mask(specgram, self.time_mask_param, mask_value, time_dim, p=self.p)
        for _ in range(self.n_freq_masks):
            specgram = mask(specgram, self.freq_mask_param, mask_value, freq_dim, p=self.p)
        return specgram


class Loudness(nn.Module):
    """Integrated loudness (ITU-R BS.1770-4) of (..., channels, time) audio, in LKFS."""

    __constants__ = ["sample_rate"]

    def __init__(self, sample_rate):
        super().__init__()
        self.sample_rate = sample_rate

    def forward(self, wavefrom):
        """(..., channels, time) -> (...)."""
        return F.loudness(wavefrom, self.sample_rate)


class SlidingWindowCmn(nn.Module):
    """Sliding-window cepstral mean (and variance) normalization of (..., time, freq) features."""

    def __init__(self, cmn_window=600, min_cmn_window=100, center=False, norm_vars=False):
        super().__init__()
        self.cmn_window, self.min_cmn_window = cmn_window, min_cmn_window
        self.center, self.norm_vars = center, norm_vars

    def forward(self, specgram):
        """(..., time, freq) -> same shape."""
        return F.sliding_window_cmn(specgram, self.cmn_window, self.min_cmn_window, self.center, self.norm_vars)


class SpectralCentroid(nn.Module):
    """The magnitude-weighted mean frequency of each STFT frame: (..., time) -> (..., frames)."""

    __constants__ = ["sample_rate", "n_fft", "win_length", "hop_length", "pad"]

    def __init__(self, sample_rate, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=ember.hann_window,
                 wkwargs=None):
        super().__init__()
        self.sample_rate, self.n_fft = sample_rate, n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        window = window_fn(self.win_length) if wkwargs is None else window_fn(self.win_length, **wkwargs)
        self.register_buffer("window", window)
        self.pad = pad

    def forward(self, waveform):
        """(..., time) -> (..., frames)."""
        return F.spectral_centroid(waveform, self.sample_rate, self.pad, self.window, self.n_fft, self.hop_length,
                                   self.win_length)


class PitchShift(LazyModuleMixin, nn.Module):
    """Shifts the pitch by ``n_steps`` of 1 / bins_per_octave octave; the resampling kernel is a lazy parameter
    made on the first call in the input's dtype, as torchaudio's."""

    __constants__ = ["sample_rate", "n_steps", "bins_per_octave", "n_fft", "win_length", "hop_length"]

    def __init__(self, sample_rate, n_steps, bins_per_octave=12, n_fft=512, win_length=None, hop_length=None,
                 window_fn=ember.hann_window, wkwargs=None):
        super().__init__()
        self.n_steps, self.bins_per_octave, self.sample_rate, self.n_fft = n_steps, bins_per_octave, sample_rate, n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 4
        window = window_fn(self.win_length) if wkwargs is None else window_fn(self.win_length, **wkwargs)
        self.register_buffer("window", window)
        rate = 2.0 ** (-float(n_steps) / bins_per_octave)
        self.orig_freq = int(sample_rate / rate)
        self.gcd = math.gcd(int(self.orig_freq), int(sample_rate))
        if self.orig_freq != sample_rate:
            self.width = -1
            self.kernel = UninitializedParameter(device=None, dtype=None)

    def initialize_parameters(self, input):
        """Makes the resampling kernel in the first input's dtype and device."""
        if self.has_uninitialized_params() and self.orig_freq != self.sample_rate:
            with ember.no_grad():
                kernel, self.width = _sinc_resample_kernel(self.orig_freq, self.sample_rate, self.gcd,
                                                           dtype=input.dtype, device=input.device)
                self.kernel.materialize(kernel.shape)
                self.kernel.copy_(kernel)

    def forward(self, waveform):
        """(..., time) -> the pitch-shifted waveform, same shape."""
        shape = waveform.size()
        stretched = _stretch_waveform(waveform, self.n_steps, self.bins_per_octave, self.n_fft, self.win_length,
                                      self.hop_length, self.window)
        if self.orig_freq != self.sample_rate:
            stretched = _apply_sinc_resample_kernel(stretched, self.orig_freq, self.sample_rate, self.gcd,
                                                    self.kernel, self.width)
        return _fix_waveform_shape(stretched, shape)


class Convolve(nn.Module):
    """F.convolve (direct convolution along the last dim) with a fixed ``mode``."""

    def __init__(self, mode="full"):
        _check_convolve_mode(mode)
        super().__init__()
        self.mode = mode

    def forward(self, x, y):
        """The convolution of x (..., N) and y (..., M)."""
        return F.convolve(x, y, mode=self.mode)


class FFTConvolve(nn.Module):
    """F.fftconvolve (convolution through the FFT along the last dim) with a fixed ``mode``."""

    def __init__(self, mode="full"):
        _check_convolve_mode(mode)
        super().__init__()
        self.mode = mode

    def forward(self, x, y):
        """The convolution of x (..., N) and y (..., M)."""
        return F.fftconvolve(x, y, mode=self.mode)


def _source_target_sample_rate(orig_freq, speed):
    source, target = int(speed * orig_freq), int(orig_freq)
    gcd = math.gcd(source, target)
    return source // gcd, target // gcd


class Speed(nn.Module):
    """Changes speed by ``factor`` through a cached Resample from factor * orig_freq to orig_freq."""

    def __init__(self, orig_freq, factor):
        super().__init__()
        from .transforms import Resample
        self.orig_freq, self.factor = orig_freq, factor
        self.source_sample_rate, self.target_sample_rate = _source_target_sample_rate(orig_freq, factor)
        self.resampler = Resample(orig_freq=self.source_sample_rate, new_freq=self.target_sample_rate)

    def forward(self, waveform, lengths=None):
        """(the sped-up waveform, its valid lengths or None)."""
        out_lengths = None
        if lengths is not None:
            out_lengths = ember.ceil(lengths * self.target_sample_rate / self.source_sample_rate).to(lengths.dtype)
        return self.resampler(waveform), out_lengths


class SpeedPerturbation(nn.Module):
    """Speed perturbation (Ko et al. 2015): each call applies one of ``factors`` drawn uniformly at random."""

    def __init__(self, orig_freq, factors):
        super().__init__()
        self.speeders = nn.ModuleList([Speed(orig_freq=orig_freq, factor=factor) for factor in factors])

    def forward(self, waveform, lengths=None):
        """(the sped-up waveform, its valid lengths or None)."""
        return self.speeders[int(ember.randint(len(self.speeders), ()))](waveform, lengths)


class AddNoise(nn.Module):
    """F.add_noise as a module: noise scaled to a signal-to-noise ratio and added."""

    def forward(self, waveform, noise, snr, lengths=None):
        """waveform + scaled noise, same shape as waveform."""
        return F.add_noise(waveform, noise, snr, lengths)


class Preemphasis(nn.Module):
    """y[i] = x[i] - coeff * x[i - 1]."""

    def __init__(self, coeff=0.97):
        super().__init__()
        self.coeff = coeff

    def forward(self, waveform):
        """The pre-emphasized waveform, same shape."""
        return F.preemphasis(waveform, coeff=self.coeff)


class Deemphasis(nn.Module):
    """y[i] = x[i] + coeff * y[i - 1], the inverse of Preemphasis."""

    def __init__(self, coeff=0.97):
        super().__init__()
        self.coeff = coeff

    def forward(self, waveform):
        """The de-emphasized waveform, same shape."""
        return F.deemphasis(waveform, coeff=self.coeff)


class Vad(nn.Module):
    """F.vad as a module: trims the silence before the first speech (SoX's voice activity detector)."""

    def __init__(self, sample_rate, trigger_level=7.0, trigger_time=0.25, search_time=1.0, allowed_gap=0.25,
                 pre_trigger_time=0.0, boot_time=0.35, noise_up_time=0.1, noise_down_time=0.01,
                 noise_reduction_amount=1.35, measure_freq=20.0, measure_duration=None, measure_smooth_time=0.4,
                 hp_filter_freq=50.0, lp_filter_freq=6000.0, hp_lifter_freq=150.0, lp_lifter_freq=2000.0):
        super().__init__()
        self.sample_rate, self.trigger_level, self.trigger_time = sample_rate, trigger_level, trigger_time
        self.search_time, self.allowed_gap, self.pre_trigger_time = search_time, allowed_gap, pre_trigger_time
        self.boot_time, self.noise_up_time, self.noise_down_time = boot_time, noise_up_time, noise_down_time
        self.noise_reduction_amount, self.measure_freq = noise_reduction_amount, measure_freq
        self.measure_duration, self.measure_smooth_time = measure_duration, measure_smooth_time
        self.hp_filter_freq, self.lp_filter_freq = hp_filter_freq, lp_filter_freq
        self.hp_lifter_freq, self.lp_lifter_freq = hp_lifter_freq, lp_lifter_freq

    def forward(self, waveform):
        """(channels, time) or (time,) -> the waveform from shortly before the first speech."""
        return F.vad(waveform=waveform, sample_rate=self.sample_rate, trigger_level=self.trigger_level,
                     trigger_time=self.trigger_time, search_time=self.search_time, allowed_gap=self.allowed_gap,
                     pre_trigger_time=self.pre_trigger_time, boot_time=self.boot_time,
                     noise_up_time=self.noise_up_time, noise_down_time=self.noise_down_time,
                     noise_reduction_amount=self.noise_reduction_amount, measure_freq=self.measure_freq,
                     measure_duration=self.measure_duration, measure_smooth_time=self.measure_smooth_time,
                     hp_filter_freq=self.hp_filter_freq, lp_filter_freq=self.lp_filter_freq,
                     hp_lifter_freq=self.hp_lifter_freq, lp_lifter_freq=self.lp_lifter_freq)


class PSD(nn.Module):
    """F.psd as a module; ``multi_mask`` averages a (..., channel, freq, time) mask over channels first."""

    def __init__(self, multi_mask=False, normalize=True, eps=1e-15):
        super().__init__()
        self.multi_mask, self.normalize, self.eps = multi_mask, normalize, eps

    def forward(self, specgram, mask=None):
        """(..., channel, freq, time) complex -> (..., freq, channel, channel)."""
        if mask is not None and self.multi_mask:
            mask = mask.mean(dim=-3)
        return F.psd(specgram, mask, self.normalize, self.eps)


class RTFMVDR(nn.Module):
    """MVDR beamforming from a relative transfer function and the noise covariance."""

    def forward(self, specgram, rtf, psd_n, reference_channel, diagonal_loading=True, diag_eps=1e-7, eps=1e-8):
        """(..., channel, freq, time) complex -> the enhanced (..., freq, time)."""
        weights = F.mvdr_weights_rtf(rtf, psd_n, reference_channel, diagonal_loading, diag_eps, eps)
        return F.apply_beamforming(weights, specgram)


class SoudenMVDR(nn.Module):
    """Souden's MVDR beamforming from the speech and noise covariances."""

    def forward(self, specgram, psd_s, psd_n, reference_channel, diagonal_loading=True, diag_eps=1e-7, eps=1e-8):
        """(..., channel, freq, time) complex -> the enhanced (..., freq, time)."""
        weights = F.mvdr_weights_souden(psd_s, psd_n, reference_channel, diagonal_loading, diag_eps, eps)
        return F.apply_beamforming(weights, specgram)
