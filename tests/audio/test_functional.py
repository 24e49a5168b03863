"""ember.audio.functional and transforms against librosa and scipy.signal (torchaudio's own test references):
shapes, dtypes, values (1e-5 relative in float64, 1e-4 in float32) and gradients by gradcheck."""
import math
import sys
import warnings

import numpy
import pytest

import ember
import ember.audio.functional as AF
import ember.audio.transforms as T

librosa = pytest.importorskip("librosa")
scipy_signal = pytest.importorskip("scipy.signal")
import scipy.fft  # noqa: E402  (installed with scipy.signal)

SR = 16000
RNG = numpy.random.default_rng(0)
WAVE = RNG.standard_normal((2, 3, 2000)) * 0.1
TOL = {numpy.float64: 1e-5, numpy.float32: 1e-4}


def close(actual, expected, dtype=numpy.float64, atol_scale=1e-6):
    """Relative closeness at the issue's tolerance, with an absolute floor scaled to the expected magnitude."""
    actual = actual.detach().numpy() if isinstance(actual, ember.Tensor) else actual
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    numpy.testing.assert_allclose(actual, expected, rtol=TOL[dtype],
                                  atol=atol_scale * max(numpy.abs(expected).max(), 1e-30))


def waveform(dtype, shape=None):
    data = WAVE if shape is None else WAVE.reshape(-1)[:math.prod(shape)].reshape(shape)
    return ember.tensor(data.astype(dtype))


def librosa_stft(x, n_fft, hop, win_length=None, center=True, pad_mode="reflect"):
    return librosa.stft(x, n_fft=n_fft, hop_length=hop, win_length=win_length, window="hann", center=center,
                        pad_mode=pad_mode)


# --- spectrograms ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("power,normalized", [(2.0, False), (1.0, False), (None, False), (2.0, True),
                                              (1.0, "frame_length"), (3.0, "window")])
def test_spectrogram_matches_librosa(dtype, power, normalized):
    transform = T.Spectrogram(n_fft=256, hop_length=64, power=power, normalized=normalized)
    out = transform.to(ember.float64 if dtype == numpy.float64 else ember.float32)(waveform(dtype))
    reference = librosa_stft(WAVE.astype(dtype), 256, 64).astype(numpy.complex128)
    if normalized in (True, "window"):
        reference = reference / numpy.sqrt((numpy.hanning(257)[:-1] ** 2).sum())
    elif normalized == "frame_length":
        reference = reference / math.sqrt(256)
    if power is not None:
        reference = numpy.abs(reference) ** power
    assert out.dtype == (ember.complex64 if dtype == numpy.float32 else ember.complex128) if power is None else \
        out.dtype == ember.tensor(numpy.zeros(1, dtype)).dtype
    close(out, reference, dtype)


def test_spectrogram_options_match_librosa():
    x = WAVE[0, 0]
    out = AF.spectrogram(ember.tensor(x), pad=5, window=ember.hann_window(200, dtype=ember.float64), n_fft=256,
                         hop_length=50, win_length=200, power=2.0, normalized=False, center=False)
    reference = numpy.abs(librosa_stft(numpy.pad(x, 5), 256, 50, win_length=200, center=False)) ** 2
    close(out, reference)


def test_inverse_spectrogram_inverts_and_matches_librosa():
    forward = T.Spectrogram(n_fft=128, hop_length=32, power=None).double()
    inverse = T.InverseSpectrogram(n_fft=128, hop_length=32).double()
    x = waveform(numpy.float64)
    spec = forward(x)
    close(inverse(spec, length=2000), WAVE)
    close(inverse(spec), librosa.istft(librosa_stft(WAVE, 128, 32), hop_length=32, window="hann", n_fft=128))
    with pytest.raises(ValueError, match="complex"):
        inverse(spec.abs())


def test_griffinlim_matches_librosa():
    x = WAVE[0, 0]
    magnitude = numpy.abs(librosa_stft(x, 128, 32))
    transform = T.GriffinLim(n_fft=128, hop_length=32, n_iter=8, power=2.0, rand_init=False, length=2000).double()
    out = transform(ember.tensor(magnitude ** 2))
    reference = librosa.griffinlim(magnitude, n_iter=8, hop_length=32, n_fft=128, window="hann", length=2000,
                                   pad_mode="reflect", momentum=0.99, init=None)
    close(out, reference, atol_scale=1e-5)


# --- filter banks, mel, cepstra ------------------------------------------------------------------------------

@pytest.mark.parametrize("n_freqs,n_mels,f_min,f_max,norm,scale", [
    (201, 40, 0.0, 8000.0, None, "htk"), (257, 64, 20.0, 7600.0, "slaney", "slaney"),
    (129, 23, 0.0, 8000.0, None, "slaney"), (513, 80, 50.0, 8000.0, "slaney", "htk")])
def test_melscale_fbanks_match_librosa(n_freqs, n_mels, f_min, f_max, norm, scale):
    fb = AF.melscale_fbanks(n_freqs, f_min, f_max, n_mels, SR, norm, scale)
    reference = librosa.filters.mel(sr=SR, n_fft=2 * (n_freqs - 1), n_mels=n_mels, fmin=f_min, fmax=f_max,
                                    htk=scale == "htk", norm=norm, dtype=numpy.float64).T
    assert fb.dtype == ember.float32
    close(fb, reference, numpy.float32)


def test_melscale_fbanks_warns_on_empty_filters_and_checks_arguments():
    with pytest.warns(UserWarning, match="all zero values"):
        AF.melscale_fbanks(20, 0.0, 8000.0, 64, SR)
    with pytest.raises(ValueError, match="mel_scale"):
        AF.melscale_fbanks(201, 0.0, 8000.0, 40, SR, mel_scale="bark")
    with pytest.raises(ValueError, match="f_min"):
        T.MelScale(f_min=9000.0)


def test_warnings_have_torchaudios_text_and_location():
    # torchaudio warns from its own line (default stacklevel), except TimeStretch, which points at the caller
    import os
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        AF.mu_law_encoding(ember.tensor([0, 1]), 256)
        T.MelSpectrogram(onesided=True)
        T.Spectrogram(return_complex=True)
        T.TimeStretch(fixed_rate=1.2)(ember.zeros(1, 201, 5)); line = sys._getframe().f_lineno  # noqa: E702
    found = {str(w.message): (os.path.basename(w.filename), w.lineno) for w in caught}
    assert found["The input Tensor must be of floating type.             This will be an error in the v0.12 "
                 "release."][0] == "functional.py"
    assert found["Argument 'onesided' has been deprecated and has no influence on the behavior of this module."][0] \
        == "transforms.py"
    assert found["At least one mel filterbank has all zero values. The value for `n_mels` (128) may be set too "
                 "high. Or, the value for `n_freqs` (201) may be set too low."][0] == "functional.py"
    assert found["`return_complex` argument is now deprecated and is not effective.`torchaudio.transforms."
                 "Spectrogram(power=None)` always returns a tensor with complex dtype. Please remove the argument in "
                 "the function call."][0] == "transforms.py"
    assert found["The input to TimeStretch must be complex type. Providing non-complex tensor produces invalid "
                 "results."] == (os.path.basename(__file__), line)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("kwargs", [{}, {"norm": "slaney", "mel_scale": "slaney", "f_min": 30.0, "f_max": 7000.0}])
def test_mel_spectrogram_matches_librosa(dtype, kwargs):
    transform = T.MelSpectrogram(SR, n_fft=400, hop_length=160, n_mels=48, **kwargs)
    out = transform.to(ember.float64) if dtype == numpy.float64 else transform
    out = out(waveform(dtype))
    reference = librosa.feature.melspectrogram(
        y=WAVE.astype(numpy.float64), sr=SR, n_fft=400, hop_length=160, n_mels=48, pad_mode="reflect",
        htk=kwargs.get("mel_scale", "htk") == "htk", norm=kwargs.get("norm"), fmin=kwargs.get("f_min", 0.0),
        fmax=kwargs.get("f_max", SR / 2))
    assert out.shape == (2, 3, 48, 13)
    close(out, reference, dtype, atol_scale=1e-5)


def test_mel_scale_and_inverse_mel_scale():
    spec = ember.tensor(numpy.abs(librosa_stft(WAVE[0], 256, 64)) ** 2)
    mel = T.MelScale(n_mels=32, sample_rate=SR, n_stft=129).double()(spec)
    reference = librosa.feature.melspectrogram(S=spec.numpy(), sr=SR, n_mels=32, htk=True, norm=None)
    close(mel, reference)
    recovered = T.InverseMelScale(n_stft=129, n_mels=32, sample_rate=SR).double()(mel)
    fb = AF.melscale_fbanks(129, 0.0, 8000.0, 32, SR).double()
    expected = numpy.maximum(numpy.linalg.lstsq(fb.numpy().T, mel.numpy().reshape(3, 32, -1)[0], rcond=None)[0], 0)
    assert recovered.shape == (3, 129, spec.shape[-1])
    close(recovered[0], expected, atol_scale=1e-6)


def test_create_dct_matches_scipy():
    for n_mfcc, n_mels in ((13, 40), (20, 20)):
        close(AF.create_dct(n_mfcc, n_mels, "ortho"),
              scipy.fft.dct(numpy.eye(n_mels), type=2, norm="ortho", axis=0)[:n_mfcc].T, numpy.float32)
        close(AF.create_dct(n_mfcc, n_mels, None), scipy.fft.dct(numpy.eye(n_mels), type=2, axis=0)[:n_mfcc].T,
              numpy.float32)
    with pytest.raises(ValueError, match="ortho"):
        AF.create_dct(3, 4, "backward")


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_mfcc_matches_librosa(dtype):
    melkwargs = {"n_fft": 400, "hop_length": 160, "n_mels": 40}
    transform = T.MFCC(SR, n_mfcc=13, melkwargs=melkwargs)
    out = (transform.to(ember.float64) if dtype == numpy.float64 else transform)(waveform(dtype))
    mel = librosa.feature.melspectrogram(y=WAVE, sr=SR, n_fft=400, hop_length=160, n_mels=40, pad_mode="reflect",
                                         htk=True, norm=None)
    db = numpy.stack([librosa.power_to_db(channels, top_db=80.0) for channels in mel])   # per (channel, mel, time)
    close(out, librosa.feature.mfcc(S=db, n_mfcc=13), dtype, atol_scale=1e-5)
    logged = T.MFCC(SR, n_mfcc=13, log_mels=True, melkwargs=melkwargs).double()(waveform(numpy.float64))
    close(logged, scipy.fft.dct(numpy.log(mel + 1e-6), type=2, norm="ortho", axis=-2)[..., :13, :])
    with pytest.raises(ValueError, match="DCT type"):
        T.MFCC(dct_type=3)
    with pytest.raises(ValueError, match="more MFCC"):
        T.MFCC(n_mfcc=50, melkwargs={"n_mels": 40})


def test_lfcc_matches_a_numpy_linear_filterbank():
    transform = T.LFCC(SR, n_filter=32, n_lfcc=12, speckwargs={"n_fft": 256, "hop_length": 128}).double()
    out = transform(waveform(numpy.float64))
    freqs = numpy.linspace(0, SR / 2, 129)
    edges = numpy.linspace(0, SR / 2, 34)
    fb = numpy.stack([numpy.interp(freqs, edges[i:i + 3], [0, 1, 0]) for i in range(32)], 1)   # triangles
    power = numpy.abs(librosa_stft(WAVE, 256, 128)) ** 2
    linear = numpy.einsum("...ft,fk->...kt", power, fb)
    db = numpy.stack([librosa.power_to_db(channels, top_db=80.0) for channels in linear])
    close(out, scipy.fft.dct(db, type=2, norm="ortho", axis=-2)[..., :12, :], atol_scale=1e-5)


def test_amplitude_to_db_and_back_match_librosa():
    power = numpy.abs(librosa_stft(WAVE[0], 128, 32)) ** 2
    x = ember.tensor(power)
    close(T.AmplitudeToDB("power")(x), librosa.power_to_db(power, amin=1e-10, top_db=None))
    close(T.AmplitudeToDB("power", top_db=40.0)(x), librosa.power_to_db(power, amin=1e-10, top_db=40.0))
    magnitude = numpy.sqrt(power[0])
    close(T.AmplitudeToDB("magnitude", top_db=30.0)(ember.tensor(magnitude)),
          librosa.power_to_db(magnitude ** 2, amin=1e-20, top_db=30.0))
    db = librosa.power_to_db(power)
    close(AF.DB_to_amplitude(ember.tensor(db), 1.0, 1.0), librosa.db_to_power(db))
    close(AF.DB_to_amplitude(ember.tensor(db), 2.0, 0.5), 2.0 * librosa.db_to_amplitude(db))
    with pytest.raises(ValueError, match="top_db"):
        T.AmplitudeToDB(top_db=-1.0)


def test_mu_law_matches_librosa():
    x = numpy.linspace(-1, 1, 101)
    codes = T.MuLawEncoding(256)(ember.tensor(x))
    compressed = librosa.mu_compress(x, mu=255, quantize=False)
    assert codes.dtype == ember.int64
    numpy.testing.assert_array_equal(codes.numpy(), ((compressed + 1) / 2 * 255 + 0.5).astype(numpy.int64))
    decoded = T.MuLawDecoding(256)(codes)
    assert decoded.dtype == ember.float32
    close(decoded, librosa.mu_expand(codes.numpy() / 255 * 2 - 1, mu=255, quantize=False), numpy.float32)


@pytest.mark.parametrize("win_length", [3, 5, 9])
def test_compute_deltas_match_librosa(win_length):
    spec = WAVE[:, :, :50]
    close(T.ComputeDeltas(win_length)(ember.tensor(spec)),
          librosa.feature.delta(spec, width=win_length, mode="nearest"))
    with pytest.raises(ValueError, match="greater than or equal to 3"):
        AF.compute_deltas(ember.tensor(spec), 1)


# --- resampling -----------------------------------------------------------------------------------------------

def _windowed_sinc(x, orig, new, width=6, rolloff=0.99, method="sinc_interp_hann", beta=14.769656459379492):
    """The resampled signal by direct summation of the windowed-sinc interpolation formula (float64)."""
    g = math.gcd(orig, new)
    o, n = orig // g, new // g
    base = min(o, n) * rolloff
    out = numpy.zeros(x.shape[:-1] + (math.ceil(n * x.shape[-1] / o),))
    for j in range(out.shape[-1]):
        t = numpy.clip((numpy.arange(x.shape[-1]) / o - j / n) * base, -width, width)   # in zero crossings
        if method == "sinc_interp_hann":
            window = numpy.cos(t * math.pi / width / 2) ** 2
        else:
            window = numpy.i0(beta * numpy.sqrt(1 - (t / width) ** 2)) / numpy.i0(beta)
        out[..., j] = (x * numpy.sinc(t) * window).sum(-1) * base / o
    return out


@pytest.mark.parametrize("orig,new,method,kwargs", [
    (16000, 8000, "sinc_interp_hann", {}), (8000, 12000, "sinc_interp_hann", {"lowpass_filter_width": 4}),
    (44100, 16000, "sinc_interp_kaiser", {"rolloff": 0.9}), (16000, 22050, "sinc_interp_kaiser", {"beta": 8.0})])
def test_resample_matches_the_windowed_sinc_formula(orig, new, method, kwargs):
    x = WAVE[0, :, :300]
    out = AF.resample(ember.tensor(x), orig, new, resampling_method=method, **kwargs)
    reference = _windowed_sinc(x, orig, new, kwargs.get("lowpass_filter_width", 6), kwargs.get("rolloff", 0.99),
                               method, kwargs.get("beta", 14.769656459379492))
    close(out, reference)
    transform = T.Resample(orig, new, resampling_method=method, dtype=ember.float64, **kwargs)
    close(transform(ember.tensor(x)), reference)
    assert "kernel" not in transform.state_dict()


def _torch_sinc_kernel(torch, orig, new, width, rolloff, method, beta, dtype):
    """torchaudio's resampling kernel, op for op in PyTorch (its float32 beta tensor included)."""
    base = min(orig, new) * rolloff
    half = math.ceil(width * orig / base)
    idx = torch.arange(-half, half + orig, dtype=dtype if dtype is not None else torch.float64)[None, None] / orig
    t = torch.arange(0, -new, -1, dtype=dtype)[:, None, None] / new + idx
    t *= base
    t = t.clamp_(-width, width)
    if method == "sinc_interp_hann":
        window = torch.cos(t * math.pi / width / 2) ** 2
    else:
        beta_tensor = torch.tensor(float(beta))
        window = torch.i0(beta_tensor * torch.sqrt(1 - (t / width) ** 2)) / torch.i0(beta_tensor)
    t *= math.pi
    kernels = torch.where(t == 0, torch.tensor(1.0).to(t), t.sin() / t)
    kernels *= window * (base / orig)
    return kernels.to(torch.float32) if dtype is None else kernels


@pytest.mark.parametrize("method,beta", [("sinc_interp_hann", None), ("sinc_interp_kaiser", 14.769656459379492),
                                         ("sinc_interp_kaiser", 8.555504641634386)])
@pytest.mark.parametrize("dtype", ["float64", "float32", None])
def test_resample_kernel_matches_torch_op_for_op(method, beta, dtype):
    torch = pytest.importorskip("torch")
    expected = _torch_sinc_kernel(torch, 3, 2, 16, 0.85, method, beta, dtype and getattr(torch, dtype))
    kernel, width = AF.functional._sinc_resample_kernel(48000, 32000, 16000, 16, 0.85, method, beta,
                                                       dtype=dtype and getattr(ember, dtype))
    assert width == math.ceil(16 * 3 / (2 * 0.85))
    assert kernel.dtype == (ember.float32 if dtype is None else getattr(ember, dtype))
    if dtype == "float64":
        numpy.testing.assert_allclose(kernel.numpy(), expected.numpy(), rtol=1e-13, atol=1e-15)
    else:   # float32: NumPy's and PyTorch's cos / sin / sqrt may round the last bit differently
        numpy.testing.assert_allclose(kernel.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)


def test_resample_keeps_a_band_limited_tone_and_checks_arguments():
    t = numpy.arange(4410) / 44100
    tone = numpy.sin(2 * math.pi * 440 * t).astype(numpy.float32)
    out = T.Resample(44100, 16000)(ember.tensor(tone))
    assert out.shape == (1600,) and out.dtype == ember.float32
    expected = numpy.sin(2 * math.pi * 440 * numpy.arange(1600) / 16000)
    numpy.testing.assert_allclose(out.numpy()[100:-100], expected[100:-100], atol=2e-3)
    assert AF.resample(ember.tensor(tone), 8000, 8000) is not None
    with pytest.raises(ValueError, match="positive"):
        AF.resample(ember.tensor(tone), -1, 8000)
    with pytest.raises(ValueError, match="Invalid resampling method"):
        AF.resample(ember.tensor(tone), 16000, 8000, resampling_method="linear")
    with pytest.raises(TypeError, match="floating point"):
        AF.resample(ember.ones(10, dtype=ember.int64), 16000, 8000)


# --- filters --------------------------------------------------------------------------------------------------

def test_lfilter_matches_scipy():
    b, a = scipy_signal.butter(3, 0.2)
    x = WAVE[:, :, :400]
    out = AF.lfilter(ember.tensor(x), ember.tensor(a), ember.tensor(b), clamp=False)
    close(out, scipy_signal.lfilter(b, a, x))
    clamped = AF.lfilter(ember.tensor(x * 20), ember.tensor(a), ember.tensor(b))
    close(clamped, numpy.clip(scipy_signal.lfilter(b, a, x * 20), -1, 1))
    rows_a = numpy.stack([a, [1.0, -0.5, 0.1, 0.0]])
    rows_b = numpy.stack([b, [0.5, 0.2, 0.0, 0.0]])
    per_channel = AF.lfilter(ember.tensor(x[:, :2]), ember.tensor(rows_a), ember.tensor(rows_b), clamp=False)
    close(per_channel, numpy.stack([scipy_signal.lfilter(rows_b[c], rows_a[c], x[:, c], axis=-1) for c in (0, 1)], 1))
    every = AF.lfilter(ember.tensor(x[0, 0]), ember.tensor(rows_a), ember.tensor(rows_b), clamp=False,
                       batching=False)
    close(every, numpy.stack([scipy_signal.lfilter(rows_b[c], rows_a[c], x[0, 0]) for c in (0, 1)]))
    with pytest.raises(ValueError, match="same size"):
        AF.lfilter(ember.tensor(x), ember.tensor(a), ember.tensor(b[:2]))


@pytest.mark.parametrize("kind", ["lowpass", "highpass"])
def test_biquads_match_the_audio_eq_cookbook_through_scipy(kind):
    x = WAVE[0, :, :500]
    cutoff, q = 1500.0, 0.9
    w0 = 2 * math.pi * cutoff / SR
    alpha, cos = math.sin(w0) / 2 / q, math.cos(w0)
    if kind == "lowpass":
        b = [(1 - cos) / 2, 1 - cos, (1 - cos) / 2]
        out = AF.lowpass_biquad(ember.tensor(x), SR, cutoff, q)
    else:
        b = [(1 + cos) / 2, -1 - cos, (1 + cos) / 2]
        out = AF.highpass_biquad(ember.tensor(x), SR, cutoff, q)
    close(out, numpy.clip(scipy_signal.lfilter(b, [1 + alpha, -2 * cos, 1 - alpha], x), -1, 1))


def test_lfilter_gradcheck():
    w = ember.tensor(WAVE[0, :2, :25], requires_grad=True)
    a = ember.tensor([1.2, -0.5, 0.2], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([0.3, 0.2, 0.1], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda w, a, b: AF.lfilter(w, a, b, clamp=False), (w, a, b))
    assert ember.autograd.gradgradcheck(lambda w, a, b: AF.lfilter(w, a, b, clamp=False), (w, a, b))
    cutoff = ember.tensor(800.0, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda c: AF.lowpass_biquad(w, SR, c), (cutoff,))


# --- time stretching, masking, gain, fades ------------------------------------------------------------------

@pytest.mark.parametrize("rate", [0.8, 1.3])
def test_time_stretch_matches_librosa_phase_vocoder(rate):
    spec = librosa_stft(WAVE[0, 0], 256, 64)
    out = T.TimeStretch(hop_length=64, n_freq=129, fixed_rate=rate)(ember.tensor(spec))
    close(out, librosa.phase_vocoder(spec, rate=rate, hop_length=64, n_fft=256))
    batched = T.TimeStretch(hop_length=64, n_freq=129)(ember.tensor(numpy.stack([spec, spec])), rate)
    assert batched.shape == (2,) + out.shape
    with pytest.raises(ValueError, match="fixed_rate"):
        T.TimeStretch(n_freq=129)(ember.tensor(spec))


@pytest.mark.parametrize("transform,axis", [(T.FrequencyMasking(10), -2), (T.TimeMasking(15), -1),
                                            (T.TimeMasking(15, p=0.2), -1)])
def test_masking_fills_one_band_and_is_seeded(transform, axis):
    spec = ember.tensor(numpy.abs(WAVE[:, :, :60]) + 1.0)
    ember.manual_seed(3)
    out = transform(spec, mask_value=-1.0)
    masked = (out.numpy() == -1.0)
    band = masked.any(axis=tuple(d for d in range(3) if d != axis % 3))
    width = band.sum()
    assert width < min(transform.mask_param, 60 * transform.p if transform.p < 1 else 60) or width == 0
    if width:
        positions = numpy.flatnonzero(band)
        assert positions[-1] - positions[0] + 1 == width   # one contiguous band
        assert masked.sum() == width * spec.numel() // spec.shape[axis]   # filled across every other dim
    numpy.testing.assert_array_equal(out.numpy()[~masked], spec.numpy()[~masked])
    ember.manual_seed(3)
    numpy.testing.assert_array_equal(transform(spec, mask_value=-1.0).numpy(), out.numpy())


def test_iid_masks_differ_per_example():
    spec = ember.ones(16, 2, 20, 30)
    ember.manual_seed(0)
    out = T.TimeMasking(20, iid_masks=True)(spec)
    columns = (out.numpy() == 0).all(axis=2)   # (16, 2, 30): masked time steps per example and channel
    assert len({row.tobytes() for row in columns.reshape(32, 30)}) > 1


def test_vol_and_fade_known_values():
    x = ember.tensor([0.5, -0.25, 0.9, 0.1])
    numpy.testing.assert_allclose(T.Vol(2.0)(x).numpy(), [1.0, -0.5, 1.0, 0.2])
    numpy.testing.assert_allclose(T.Vol(6.0, "db")(x).numpy(), numpy.clip(x.numpy() * 10 ** (6 / 20), -1, 1),
                                  rtol=1e-6)
    numpy.testing.assert_allclose(T.Vol(0.25, "power")(x).numpy(), x.numpy() * 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="positive"):
        T.Vol(-1.0)
    ones = ember.ones(2, 8)
    numpy.testing.assert_allclose(T.Fade(4, 3)(ones).numpy()[0], [0, 1 / 3, 2 / 3, 1, 1, 1, 0.5, 0], atol=1e-7)
    f = numpy.linspace(0, 1, 4)
    shapes = {"exponential": 2 ** ((f - 1) * 5) * f, "logarithmic": numpy.log10(0.1 + f) + 1,
              "quarter_sine": numpy.sin(f * math.pi / 2), "half_sine": numpy.sin(f * math.pi - math.pi / 2) / 2 + 0.5}
    for shape, fade_in in shapes.items():
        out = T.Fade(4, 0, shape)(ones).numpy()[1]
        numpy.testing.assert_allclose(out, numpy.concatenate([numpy.clip(fade_in, 0, 1), numpy.ones(4)]), atol=1e-6)


# --- gradients ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: T.Spectrogram(n_fft=32, hop_length=8),
    lambda: T.MelSpectrogram(SR, n_fft=32, hop_length=8, n_mels=6),
    lambda: T.MFCC(SR, n_mfcc=4, log_mels=True, melkwargs={"n_fft": 32, "hop_length": 8, "n_mels": 6}),
    lambda: T.Resample(16000, 12000),
    lambda: T.ComputeDeltas(),
    lambda: T.AmplitudeToDB(top_db=20.0),
    lambda: T.Fade(10, 10, "half_sine"),
], ids=["spectrogram", "mel", "mfcc", "resample", "deltas", "db", "fade"])
def test_transforms_gradcheck(make):
    transform = make().double()
    x = ember.tensor(numpy.abs(WAVE[0, :2, :64]) + 0.1, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # tiny filter banks have empty mel filters
        assert ember.autograd.gradcheck(transform, (x,), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("make", [
    lambda: T.InverseSpectrogram(n_fft=16, hop_length=4),
    lambda: T.TimeStretch(hop_length=4, n_freq=9, fixed_rate=1.4),
], ids=["inverse_spectrogram", "time_stretch"])
def test_complex_input_transforms_gradcheck(make):
    spec = librosa_stft(WAVE[0, 0, :40], 16, 4).astype(numpy.complex128)
    z = ember.tensor(spec, requires_grad=True)
    assert ember.autograd.gradcheck(make().double(), (z,), atol=1e-5, rtol=1e-4)


def test_more_transforms_gradcheck():
    x = ember.tensor(numpy.abs(WAVE[0, :2, :64]) + 0.1, requires_grad=True)
    lfcc = T.LFCC(SR, n_filter=8, n_lfcc=4, log_lf=True, speckwargs={"n_fft": 32, "hop_length": 8}).double()
    assert ember.autograd.gradcheck(lfcc, (x,), atol=1e-5, rtol=1e-4)
    assert ember.autograd.gradcheck(T.Vol(0.7), (x,))
    spec = ember.tensor(numpy.abs(WAVE[0, :2, :17 * 5]).reshape(2, 17, 5), requires_grad=True)
    assert ember.autograd.gradcheck(T.MelScale(n_mels=4, sample_rate=SR, n_stft=17).double(), (spec,))
