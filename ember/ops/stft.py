"""The short-time Fourier transform and its inverse, composed from framing (``unfold``), the FFT primitives and
overlap-add (``fold``), so they are differentiable through every argument that requires grad."""

from .._warnings import warn
from .. import _dtype
from ..autograd.function import composite
from ._util import tensor_method
from .complex import view_as_complex, view_as_real
from .padding import pad
from .sampling import fold
from .spectral import fft, ifft, irfft, rfft

__all__ = ["stft", "istft"]


def _window(window, win_length, n_fft, like, name):
    """The window zero-padded on both sides to n_fft points (ones of win_length when None)."""
    if window is None:
        from .creation import ones
        window = ones(win_length, dtype=like.real.dtype, device=like.device)
    elif window.ndim != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"{name}: expected a 1D window tensor of size equal to win_length={win_length}, but got "
                           f"window with size {list(window.shape)}")
    left = (n_fft - win_length) // 2
    return pad(window, (left, n_fft - win_length - left)) if win_length < n_fft else window


def _lengths(n_fft, hop_length, win_length, name):
    hop_length = n_fft // 4 if hop_length is None else int(hop_length)
    win_length = n_fft if win_length is None else int(win_length)
    if hop_length <= 0:
        raise RuntimeError(f"{name}: expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{name}: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    return hop_length, win_length


@tensor_method
@composite("stft", trace_inside=True)
def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """The short-time Fourier transform of a (batch of) signal(s): (B?, n_fft // 2 + 1 or n_fft, frames)."""
    complex_input = input.dtype.is_complex or (window is not None and window.dtype.is_complex)
    if return_complex is None:
        if not complex_input:
            raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                               "require that return_complex=True in a future PyTorch release.")
        return_complex = True
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.ndim}D")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"stft: expected a tensor of floating point or complex values, got "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    hop_length, win_length = _lengths(n_fft, hop_length, win_length, "stft")
    signal = input.unsqueeze(0) if input.ndim == 1 else input
    if center:
        half = n_fft // 2
        signal = pad(signal.unsqueeze(0), (half, half), pad_mode).squeeze(0)
    length = signal.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"stft: expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if window is None:
        warn("A window was not provided. A rectangular window will be applied,which is known to cause "
             "spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are "
             "recommended to reduce spectral leakage.To suppress this warning and use a rectangular "
             "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
    window = _window(window, win_length, n_fft, signal, "stft")
    if align_to_window:   # frames hold the window's win_length points, placed where the window sits in n_fft
        left = (n_fft - win_length) // 2
        frames = signal.unfold(-1, win_length, hop_length) * window[left:left + win_length]
        frames = pad(frames, (left, n_fft - win_length - left))
    else:
        frames = signal.unfold(-1, n_fft, hop_length) * window
    norm = "ortho" if normalized else "backward"
    if onesided is None:
        onesided = not complex_input
    if onesided and complex_input:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    spectrum = rfft(frames, norm=norm) if onesided else fft(frames, norm=norm)
    spectrum = spectrum.transpose(-1, -2)
    if input.ndim == 1:
        spectrum = spectrum.squeeze(0)
    if return_complex:
        return spectrum
    warn("stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
         "complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you can "
         "still call torch.view_as_real on the complex output to recover the old return format.",
         UserWarning, stacklevel=2)
    return view_as_real(spectrum)


@tensor_method
def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """The least-squares inverse of ``stft``: overlap-adds the windowed inverse FFTs of the frames and divides by
    the summed squared window (which must not vanish: the NOLA condition)."""
    if not input.dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex, but got {input.ndim}D")
    hop_length, win_length = _lengths(n_fft, hop_length, win_length, "istft")
    spectrum = input.unsqueeze(0) if input.ndim == 2 else input
    bins, n_frames = spectrum.shape[-2], spectrum.shape[-1]
    if onesided is None:
        onesided = bins != n_fft
    if onesided:
        if n_fft // 2 + 1 != bins:
            raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the input tensor to "
                               f"match n_fft / 2 + 1 when onesided=True, but got {bins}")
        if return_complex:
            raise RuntimeError("cannot have onesided output if window or input is complex")
    elif bins != n_fft:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the input tensor to match "
                           f"n_fft when onesided=False, but got {bins}")
    if window is None:
        warn("A window was not provided. A rectangular window will be applied.Please provide the same "
             "window used by stft to make the inversion lossless.To suppress this warning and use a "
             "rectangular window, explicitly set `window=torch.ones(n_fft, device=<device>)`.", UserWarning,
             stacklevel=2)
    window = _window(window, win_length, n_fft, spectrum, "istft")
    if not return_complex and window.dtype.is_complex:
        raise RuntimeError("istft: complex windows require return_complex=True")
    norm = "ortho" if normalized else "backward"
    columns = spectrum.transpose(-1, -2)
    if onesided:
        frames = irfft(columns, n=n_fft, norm=norm)
    else:
        frames = ifft(columns, n=n_fft, norm=norm)
        if not return_complex:
            frames = frames.real
    frames = frames * window
    total = n_fft + hop_length * (n_frames - 1)
    signal = _overlap_add(frames, total, n_fft, hop_length)
    envelope = _overlap_add((window * window.conj()).real.expand(1, n_frames, n_fft), total, n_fft, hop_length)
    start = n_fft // 2 if center else 0
    end = total - n_fft // 2 if center else total
    if length is not None:
        end = start + int(length)
    end = min(end, total)
    signal, envelope = signal[..., start:end], envelope[..., start:end]
    if bool((envelope.abs() < 1e-11).any()):
        raise RuntimeError("istft: window overlap add min: 0")
    signal = signal / envelope
    if length is not None and signal.shape[-1] < length:
        warn("The length of signal is shorter than the length parameter. Result is being padded with zeros "
             "in the tail. Please check your center and hop_length settings.", UserWarning, stacklevel=2)
        signal = pad(signal, (0, int(length) - signal.shape[-1]))
    return signal.squeeze(0) if input.ndim == 2 else signal


def _overlap_add(frames, total, n_fft, hop_length):
    """Sums (B, frames, n_fft) frames placed hop_length apart into (B, total) signals."""
    if frames.dtype.is_complex:
        parts = view_as_real(frames)   # (B, T, n_fft, 2): fold the real and imaginary parts side by side
        summed = _overlap_add(parts.movedim(-1, 1).reshape(-1, frames.shape[1], n_fft), total, n_fft, hop_length)
        return view_as_complex(summed.reshape(frames.shape[0], 2, total).movedim(1, -1).contiguous())
    columns = frames.transpose(1, 2)
    return fold(columns, (1, total), (1, n_fft), stride=(1, hop_length)).reshape(frames.shape[0], total)
