"""ember.audio.functional's convolutions, noise mixing, emphasis, SoX-like biquads and effects, and measurements
(pitch, spectral centroid, CMN, loudness, pitch shift, distances) against scipy / librosa / numpy references and
known values. tests/audio/test_torchaudio_oracle.py compares the same functions with torchaudio itself."""
import math

import numpy
import pytest

import ember
import ember.audio.functional as AF
import ember.audio.transforms as T

scipy_signal = pytest.importorskip("scipy.signal")
import scipy.fft  # noqa: E402  (installed with scipy.signal)
import scipy.linalg  # noqa: E402

RNG = numpy.random.default_rng(1)
X = RNG.standard_normal((2, 3, 600)) * 0.1


def close(actual, expected, rtol=1e-6, atol=1e-9):
    actual = actual.detach().numpy() if isinstance(actual, ember.Tensor) else actual
    assert actual.shape == numpy.shape(expected), f"shape {actual.shape} != {numpy.shape(expected)}"
    numpy.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# --- convolutions, noise, speed, emphasis -------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["full", "valid", "same"])
@pytest.mark.parametrize("function", ["fftconvolve", "convolve"])
def test_convolutions_match_scipy_and_broadcast(function, mode):
    x, y = X[:, :, :200], X[:1, :, :37]
    out = getattr(AF, function)(ember.tensor(x), ember.tensor(y), mode=mode)
    expected = numpy.stack([[scipy_signal.convolve(x[b, c], y[0, c], mode=mode) for c in range(3)]
                            for b in range(2)])
    close(out, expected, atol=1e-12)
    # the longer operand second: "same" keeps x's length, "valid" the overlap
    swapped = getattr(AF, function)(ember.tensor(y[0]), ember.tensor(x[0]), mode=mode)
    close(swapped, numpy.stack([scipy_signal.convolve(y[0, c], x[0, c], mode=mode) for c in range(3)]),
          atol=1e-12)


def test_convolution_argument_errors():
    with pytest.raises(ValueError, match="Unrecognized mode value 'circular'"):
        AF.fftconvolve(ember.ones(2, 5), ember.ones(2, 3), mode="circular")
    with pytest.raises(ValueError, match="must be the same dimension"):
        AF.convolve(ember.ones(2, 5), ember.ones(3))
    with pytest.raises(ValueError, match="not broadcastable"):
        AF.convolve(ember.ones(2, 5), ember.ones(3, 3))


def test_add_noise_reaches_the_requested_snr():
    speech, noise = ember.tensor(X[:, 0]), ember.tensor(X[:, 1])
    snr = ember.tensor([10.0, -3.0])
    noisy = AF.add_noise(speech, noise, snr)
    added = (noisy - speech).numpy()
    measured = 10 * numpy.log10((X[:, 0] ** 2).sum(-1) / (added ** 2).sum(-1))
    close(measured, [10.0, -3.0], rtol=1e-9)
    lengths = ember.tensor([300, 600])
    noisy = AF.add_noise(speech, noise, snr, lengths)
    added = (noisy - speech).numpy()
    for row, length in enumerate((300, 600)):
        energy = (X[row, 0, :length] ** 2).sum() / (added[row, :length] ** 2).sum()
        assert math.isclose(10 * math.log10(energy), snr[row].item(), rel_tol=1e-9)
    with pytest.raises(ValueError, match="leading dimensions don't match"):
        AF.add_noise(speech, noise, ember.tensor(3.0))


def test_speed_resamples_and_scales_lengths():
    wave = ember.tensor(X[0])
    out, lengths = AF.speed(wave, 16000, 1.25, ember.tensor([600, 401, 7]))
    close(out, AF.resample(wave, 5, 4).numpy())
    assert lengths.tolist() == [480, 321, 6] and lengths.dtype == ember.int64
    assert AF.speed(wave, 16000, 0.5)[1] is None


def test_preemphasis_and_deemphasis_match_scipy_lfilter():
    out = AF.preemphasis(ember.tensor(X), 0.9)
    close(out, scipy_signal.lfilter([1.0, -0.9], [1.0], X))
    restored = AF.deemphasis(out, 0.9)
    close(restored, X, atol=1e-12)
    close(AF.deemphasis(ember.tensor(X), 0.5), numpy.clip(scipy_signal.lfilter([1.0], [1.0, -0.5], X), -1, 1))


def test_filtfilt_runs_the_filter_both_ways():
    b, a = scipy_signal.butter(2, 0.3)
    out = AF.filtfilt(ember.tensor(X), ember.tensor(a), ember.tensor(b), clamp=False)
    forward = scipy_signal.lfilter(b, a, X)
    close(out, scipy_signal.lfilter(b, a, forward[..., ::-1])[..., ::-1], atol=1e-12)


# --- biquads: frequency responses from the impulse response -------------------------------------------------

SR = 16000


def _response(filter_fn, *args, **kwargs):
    """|H| over the rfft bins of a 8192-sample impulse response (impulse scaled to stay clear of the clamp)."""
    impulse = numpy.zeros(8192)
    impulse[0] = 0.01
    out = filter_fn(ember.tensor(impulse), *args, **kwargs).numpy() / 0.01
    return numpy.abs(numpy.fft.rfft(out))


def _at(response, freq, sample_rate=SR):
    return response[round(freq / (sample_rate / 2) * (len(response) - 1))]


def test_biquad_responses():
    assert numpy.allclose(_response(AF.allpass_biquad, SR, 1000.0, 0.5), 1.0, atol=1e-6)
    assert _at(_response(AF.bandreject_biquad, SR, 2000.0), 2000.0) < 1e-2
    assert math.isclose(_at(_response(AF.bandpass_biquad, SR, 2000.0), 2000.0), 1.0, rel_tol=1e-3)
    skirt = _response(AF.bandpass_biquad, SR, 2000.0, 3.0, const_skirt_gain=True)
    assert math.isclose(_at(skirt, 2000.0), 3.0, rel_tol=1e-3)
    assert math.isclose(_at(_response(AF.equalizer_biquad, SR, 3000.0, 6.0, 1.5), 3000.0), 10 ** (6 / 20),
                        rel_tol=1e-3)
    bass = _response(AF.bass_biquad, SR, -6.0, 200.0)
    assert math.isclose(bass[0], 10 ** (-6 / 20), rel_tol=1e-6) and math.isclose(bass[-1], 1.0, rel_tol=1e-3)
    treble = _response(AF.treble_biquad, SR, 4.0, 3000.0)
    assert math.isclose(treble[-1], 10 ** (4 / 20), rel_tol=1e-6) and math.isclose(treble[0], 1.0, rel_tol=1e-6)
    riaa = _response(AF.riaa_biquad, 44100)
    assert math.isclose(_at(riaa, 1000.0, 44100), 1.0, rel_tol=2e-2) and riaa[1] > 5 > riaa[-1] * 10
    deemph = _response(AF.deemph_biquad, 48000)
    assert math.isclose(deemph[0], 1.0, rel_tol=1e-2) and deemph[-1] < 0.4
    band = _response(AF.band_biquad, SR, 2000.0, 2.0)
    assert band.argmax() == pytest.approx(2000 / 8000 * 4096, abs=40)
    with pytest.raises(ValueError, match="44100"):
        AF.deemph_biquad(ember.zeros(10), 16000)
    with pytest.raises(ValueError, match="44.1k"):
        AF.riaa_biquad(ember.zeros(10), 16000)


def test_biquads_keep_float32_and_are_differentiable():
    wave = ember.tensor(X[0].astype(numpy.float32))
    for fn, args in [(AF.allpass_biquad, (SR, 500.0)), (AF.band_biquad, (SR, 500.0)),
                     (AF.bass_biquad, (SR, 3.0)), (AF.treble_biquad, (SR, 3.0)),
                     (AF.equalizer_biquad, (SR, 900.0, 2.0)), (AF.riaa_biquad, (44100,))]:
        assert fn(wave, *args).dtype == ember.float32
    wave = ember.tensor(X[0, :, :30], requires_grad=True)
    assert ember.autograd.gradcheck(lambda w: AF.equalizer_biquad(w, SR, 900.0, 2.0), (wave,))


# --- effects ------------------------------------------------------------------------------------------------

def test_contrast_dcshift_overdrive_known_formulas():
    close(AF.contrast(ember.tensor(X), 50.0),
          numpy.sin(X * math.pi / 2 + 50 / 750 * numpy.sin(X * math.pi / 2 * 4)))
    close(AF.dcshift(ember.tensor(X * 5), 0.4), numpy.clip(X * 5 + 0.4, -1, 1))
    loud = ember.tensor(X * 5)
    shifted = AF.dcshift(loud, 0.4, 0.05)
    assert shifted is loud   # torchaudio's limiter writes into the input
    threshold = 1.0 - (0.4 - 0.05)
    big = X * 5 > threshold
    expected = numpy.where(big, numpy.minimum((X * 5 - threshold) * 0.05 / (1 - threshold) + threshold + 0.4,
                                              threshold), numpy.clip(X * 5 + 0.4, -1, 1))
    close(shifted, expected)
    driven = X * 10 ** (10 / 20) + 30 / 200
    clipped = numpy.where(driven < -1, -2 / 3, numpy.where(driven > 1, 2 / 3, driven - driven ** 3 / 3))
    blocked = scipy_signal.lfilter([1.0, -1.0], [1.0, -0.995], clipped)
    close(AF.overdrive(ember.tensor(X), 10.0, 30.0), numpy.clip(X * 0.5 + blocked * 0.75, -1, 1))
    with pytest.raises(ValueError, match="0-100"):
        AF.contrast(ember.tensor(X), 120.0)


# --- measurements -------------------------------------------------------------------------------------------

def test_detect_pitch_frequency_finds_a_tone():
    t = numpy.arange(8000) / 8000
    tone = numpy.stack([numpy.sin(2 * math.pi * 200 * t), numpy.sin(2 * math.pi * 320 * t)]).astype(numpy.float32)
    pitch = AF.detect_pitch_frequency(ember.tensor(tone), 8000)
    # 100 frames of 10 ms, less the median window's 30 - 1 - 14 trailing frames
    assert pitch.shape == (2, 85) and pitch.dtype == ember.float32
    # the period, 40 (resp. 25) samples
    close(pitch[:, 10:80], numpy.repeat([[200.0], [320.0]], 70, 1), rtol=1e-6)


def test_spectral_centroid_matches_librosa():
    librosa = pytest.importorskip("librosa")
    wave = X[0, 0] + numpy.sin(numpy.arange(600) * 0.3)
    out = T.SpectralCentroid(SR, n_fft=128, hop_length=32)(ember.tensor(wave.astype(numpy.float32)))
    expected = librosa.feature.spectral_centroid(y=wave, sr=SR, n_fft=128, hop_length=32, pad_mode="reflect")[0]
    close(out, expected.astype(numpy.float32), rtol=1e-4)


def test_sliding_window_cmn_whole_window_and_variance():
    feats = X[0, :, :40].T          # (time, freq)
    out = AF.sliding_window_cmn(ember.tensor(feats), cmn_window=600, min_cmn_window=100)
    close(out, feats - feats.mean(0), atol=1e-12)
    centred = AF.sliding_window_cmn(ember.tensor(feats), cmn_window=100, center=True, norm_vars=True)
    close(centred, (feats - feats.mean(0)) / feats.std(0), rtol=1e-9)
    # a 3-frame left window: frame t is normalized by frames max(0, t - 3) .. max(t, 1)
    left = AF.sliding_window_cmn(ember.tensor(feats), cmn_window=3, min_cmn_window=2)
    t = 10
    close(left[t], feats[t] - feats[t - 3:t + 1].mean(0), atol=1e-12)
    close(left[0], feats[0] - feats[0:2].mean(0), atol=1e-12)


def test_loudness_of_a_997_hz_sine():
    # BS.1770: a full-scale 997 Hz sine reads -3.01 LKFS; at half scale (the K-weighting biquads clamp to [-1, 1],
    # as torchaudio's do) 6.02 dB less, within the cookbook-biquad K-weighting's 0.05 dB
    sr = 48000
    t = numpy.arange(sr * 2) / sr
    tone = ember.tensor(0.5 * numpy.sin(2 * math.pi * 997 * t)[None])
    assert AF.loudness(tone, sr).item() == pytest.approx(-9.03, abs=0.06)
    assert T.Loudness(sr)(ember.cat([tone, tone])).item() == pytest.approx(-9.03 + 3.01, abs=0.06)
    with pytest.raises(ValueError, match="5 channels"):
        AF.loudness(ember.zeros(6, 100), sr)


def test_pitch_shift_moves_a_tone_by_an_octave():
    sr = 8000
    t = numpy.arange(sr) / sr
    tone = ember.tensor((0.5 * numpy.sin(2 * math.pi * 300 * t))[None].astype(numpy.float32))
    shifted = AF.pitch_shift(tone, sr, 12)
    assert shifted.shape == tone.shape and shifted.dtype == ember.float32
    spectrum = numpy.abs(numpy.fft.rfft(shifted.numpy()[0, 1000:7000]))
    assert abs(spectrum.argmax() * sr / 6000 - 600) < 5
    module = T.PitchShift(sr, -12)
    lowered = numpy.abs(numpy.fft.rfft(module(tone).detach().numpy()[0, 1000:7000]))
    assert abs(lowered.argmax() * sr / 6000 - 150) < 5


def test_edit_and_frechet_distances():
    assert AF.edit_distance("kitten", "sitting") == 3
    assert AF.edit_distance("a b c".split(), "a c d e".split()) == 3
    assert AF.edit_distance("", "abc") == 3 and AF.edit_distance([], []) == 0
    mu_x, mu_y = RNG.standard_normal(4), RNG.standard_normal(4)
    a, b = RNG.standard_normal((4, 4)), RNG.standard_normal((4, 4))
    sigma_x, sigma_y = a @ a.T + numpy.eye(4), b @ b.T + numpy.eye(4)
    expected = ((mu_x - mu_y) ** 2).sum() + numpy.trace(sigma_x + sigma_y
                                                        - 2 * scipy.linalg.sqrtm(sigma_x @ sigma_y).real)
    out = AF.frechet_distance(*(ember.tensor(v) for v in (mu_x, sigma_x, mu_y, sigma_y)))
    assert out.item() == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="mu_x must be one-dimensional"):
        AF.frechet_distance(ember.ones(2, 2), ember.ones(2, 2), ember.ones(2), ember.ones(2, 2))


# --- Kaldi-compatible features ------------------------------------------------------------------------------

def test_kaldi_spectrogram_fbank_mfcc_against_numpy():
    kaldi = pytest.importorskip("ember.audio.compliance.kaldi")
    wave = RNG.standard_normal((1, 4000)) * 0.1
    plain = dict(window_type="rectangular", preemphasis_coefficient=0.0, remove_dc_offset=False,
                 energy_floor=0.0)
    spec = kaldi.spectrogram(ember.tensor(wave), **plain)
    frames = numpy.stack([wave[0, i * 160:i * 160 + 400] for i in range(1 + (4000 - 400) // 160)])
    power = numpy.abs(numpy.fft.rfft(numpy.pad(frames, ((0, 0), (0, 112))), axis=1)) ** 2
    close(spec[:, 1:], numpy.log(power[:, 1:]), rtol=1e-9)
    close(spec[:, 0], numpy.log((frames ** 2).sum(1)), rtol=1e-9)   # column 0: the frame's log energy
    fbank = kaldi.fbank(ember.tensor(wave), num_mel_bins=23, **plain)
    banks = kaldi.get_mel_banks(23, 512, 16000.0, 20.0, 0.0, 100.0, -500.0, 1.0)[0].numpy()
    close(fbank, numpy.log(power @ numpy.pad(banks, ((0, 0), (0, 1))).T), rtol=1e-5)
    mfcc = kaldi.mfcc(ember.tensor(wave), num_ceps=13, **plain)
    dct = scipy.fft.dct(numpy.eye(23), norm="ortho", axis=0)[:13].T
    lifter = 1 + 11 * numpy.sin(numpy.pi * numpy.arange(13) / 22)
    # (create_dct is float32, as torchaudio's, so the float64 MFCCs carry its rounding)
    close(mfcc, fbank.numpy() @ dct * lifter, rtol=1e-5, atol=1e-6 * numpy.abs(mfcc.numpy()).max())
    # frames centred on multiples of the shift when edges are not snipped
    assert kaldi.fbank(ember.tensor(wave), snip_edges=False).shape == ((4000 + 80) // 160, 23)
    assert kaldi.fbank(ember.tensor(wave.astype(numpy.float32))).dtype == ember.float32
    with pytest.raises(AssertionError, match="Invalid channel 1 for size 1"):
        kaldi.fbank(ember.tensor(wave), channel=1)


def test_flanger_phaser_dither_known_cases():
    wave = ember.tensor(X.astype(numpy.float32))
    # no delayed signal mixed in: the input itself; no feedback: input * gain_in * gain_out
    close(AF.flanger(wave, 8000, width=0.0), numpy.clip(X.astype(numpy.float32), -1, 1))
    close(AF.phaser(wave, 8000, gain_in=0.5, gain_out=0.8, decay=0.0),
          (X.astype(numpy.float32) * numpy.float32(0.5) * numpy.float32(0.8)))
    flanged = AF.flanger(wave * 8, 8000, regen=50.0)
    assert flanged.shape == wave.shape and flanged.abs().max().item() <= 1.0 and not numpy.allclose(flanged, X * 8)
    with pytest.raises(ValueError, match="Max 4 channels"):
        AF.flanger(ember.zeros(5, 100), 8000)
    ember.manual_seed(0)
    dithered = AF.dither(wave)
    assert numpy.allclose(dithered.numpy() * 32768, numpy.round(dithered.numpy() * 32768))   # 16-bit steps
    assert numpy.abs(dithered.numpy() - X).max() < 3 / 32768
    ember.manual_seed(0)
    assert ember.equal(AF.dither(wave), dithered)
    shaped = AF.dither(wave, "RPDF", noise_shaping=True)
    assert shaped.shape == wave.shape and shaped.dtype == ember.float32


def test_vad_trims_the_silence_before_a_voiced_sound():
    t = numpy.arange(16000) / 8000
    voiced = sum(numpy.sin(2 * math.pi * 150 * k * t) / k for k in range(1, 20)) * 0.3
    signal = numpy.concatenate([RNG.standard_normal(4000) * 0.001, voiced]).astype(numpy.float32)
    trimmed = AF.vad(ember.tensor(signal), 8000)
    # speech starts at sample 4000; SoX keeps up to search_time (1 s) of measures before the trigger point
    assert 16000 <= trimmed.shape[0] < 20000
    numpy.testing.assert_array_equal(trimmed.numpy(), signal[-trimmed.shape[0]:])
    stereo = T.Vad(8000)(ember.tensor(numpy.stack([signal, signal])))
    assert stereo.shape == (2, trimmed.shape[0])
    quiet = ember.tensor(RNG.standard_normal(8000).astype(numpy.float32) * 0.001)
    assert AF.vad(quiet, 8000, pre_trigger_time=0.1).shape == (800,)   # nothing triggers: the pre-trigger part
    with pytest.warns(UserWarning, match="Batch semantics is not supported"):
        AF.vad(ember.zeros(1, 1, 4000), 8000)


def test_beamforming_against_numpy():
    spec = RNG.standard_normal((2, 3, 5, 7)) + 1j * RNG.standard_normal((2, 3, 5, 7))   # (batch, channel, freq, time)
    mask = RNG.uniform(size=(2, 5, 7))
    psd_n = AF.psd(ember.tensor(spec), ember.tensor(mask))
    weights = mask / (mask.sum(-1, keepdims=True) + 1e-10)
    expected = numpy.einsum("bcft,bdft,bft->bfcd", spec, spec.conj(), weights)
    close(psd_n, expected, rtol=1e-10)
    psd_s = AF.psd(ember.tensor(spec[:, :, :, ::-1].copy()))
    s, n = psd_s.numpy(), psd_n.numpy()
    loaded = n + (numpy.trace(n, axis1=-2, axis2=-1).real * 1e-7 + 1e-8)[..., None, None] * numpy.eye(3)
    phi = numpy.linalg.solve(loaded, s)
    souden = (phi / (numpy.trace(phi, axis1=-2, axis2=-1)[..., None, None] + 1e-8))[..., :, 1]
    close(AF.mvdr_weights_souden(psd_s, psd_n, 1), souden, rtol=1e-9)
    enhanced = T.SoudenMVDR()(ember.tensor(spec), psd_s, psd_n, 1)
    close(enhanced, numpy.einsum("bfc,bcft->bft", souden.conj(), spec), rtol=1e-9)
    close(AF.rtf_power(psd_s, psd_n, 2, n_iter=1), (loaded @ phi[..., :, 2:3])[..., 0], rtol=1e-9)
    top = AF.rtf_evd(psd_s).numpy()
    vectors = numpy.linalg.eigh(s)[1][..., -1]
    close(numpy.abs(numpy.einsum("...c,...c->...", top.conj(), vectors)), numpy.ones((2, 5)), rtol=1e-9)
    with pytest.raises(TypeError, match="must be ``torch.cfloat`` or ``torch.cdouble``"):
        AF.mvdr_weights_souden(psd_s.real, psd_n.real, 0)


def test_merge_tokens_into_spans():
    tokens = ember.tensor([0, 0, 3, 3, 3, 0, 5, 5, 2, 0, 0, 2])
    scores = ember.linspace(0, 1, 12)
    spans = AF.merge_tokens(tokens, scores)
    assert [(s.token, s.start, s.end) for s in spans] == [(3, 2, 5), (5, 6, 8), (2, 8, 9), (2, 11, 12)]
    assert spans[0].score == pytest.approx(scores[2:5].mean().item()) and len(spans[0]) == 3
    assert spans[1] == AF.TokenSpan(token=5, start=6, end=8, score=scores[6:8].mean().item())
    assert [s.token for s in AF.merge_tokens(tokens, scores, blank=3)] == [0, 0, 5, 2, 0, 2]
    with pytest.raises(ValueError, match="must be the same length"):
        AF.merge_tokens(tokens, scores[:5])
