"""The short-time Fourier transform and its inverse, composed from framing (``unfold``), the FFT primitives and
overlap-add (``fold``), so they are differentiable through every argument that requires grad."""

from ..autograd.function import composite
from ._kernel_dtypes import legacy_type_name
from ._util import int_arg, tensor_method, warn_once
from .complex import view_as_complex, view_as_real
from .padding import pad
from .sampling import fold
from .spectral import fft, ifft, irfft, rfft

__all__ = ["istft", "stft"]


_STFT_NO_WINDOW = ("A window was not provided. A rectangular window will be applied,which is known to cause spectral "
                   "leakage. Other windows such as torch.hann_window or torch.hamming_window are recommended to "
                   "reduce spectral leakage.To suppress this warning and use a rectangular window, explicitly set "
                   "`window=torch.ones(n_fft, device=<device>)`.")
_ISTFT_NO_WINDOW = ("A window was not provided. A rectangular window will be applied.Please provide the same window "
                    "used by stft to make the inversion lossless.To suppress this warning and use a rectangular "
                    "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.")


def _described(tensor, braces=False):
    """A tensor as PyTorch's stft/istft errors print it: its legacy type and sizes (torch.FloatTensor[2, 80])."""
    if tensor is None:
        return "None"
    sizes = "[" + ", ".join(str(size) for size in tensor.shape) + "]"
    return legacy_type_name(tensor.dtype) + ("{" + sizes + "}" if braces else sizes)


def _flag(value):
    """An optional bool or int as PyTorch's C++ streams it: None, 0/1 or the number."""
    return "None" if value is None else str(int(value))


def _padded_window(window, win_length, n_fft):
    """The window zero-padded on both sides to n_fft points."""
    left = (n_fft - win_length) // 2
    return pad(window, (left, n_fft - win_length - left)) if win_length < n_fft else window


@tensor_method
@composite("stft", trace_inside=True)
def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """The short-time Fourier transform of a (batch of) signal(s): (B?, n_fft // 2 + 1 or n_fft, frames).
    The checks and their messages are PyTorch's: torch.stft's Python padding first, then its C++ kernel's."""
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if center:   # as torch.stft: reflect-style modes pad the (1, 1, L)-viewed signal
        signal_dim = input.ndim
        half = n_fft // 2
        input = pad(input.view([1] * (3 - signal_dim) + list(input.shape)), [half, half], pad_mode)
        input = input.view(input.shape[-signal_dim:] if signal_dim else ())
    n_fft = int_arg(n_fft)
    hop_length = n_fft >> 2 if hop_length is None else int_arg(hop_length)
    win_length = n_fft if win_length is None else int_arg(win_length)
    if window is None:
        warn_once("stft window", _STFT_NO_WINDOW)
    complex_input = input.dtype.is_complex or (window is not None and window.dtype.is_complex)
    if not (complex_input if return_complex is None else return_complex):
        if return_complex is None:
            raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                               "require that return_complex=True in a future PyTorch release.")
        warn_once("stft real", "stft with return_complex=False is deprecated. In a future pytorch release, stft will "
                  "return complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you "
                  "can still call torch.view_as_real on the complex output to recover the old return format.")
    called = (f"stft({_described(input)}, n_fft={n_fft}, hop_length={hop_length}, win_length={win_length}, "
              f"window={_described(window, True)}, normalized={int(normalized)}, onesided={_flag(onesided)}, "
              f"return_complex={_flag(return_complex)}, align_to_window={_flag(align_to_window)}) : ")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(called + "expected a tensor of floating point or complex values")
    if input.ndim not in (1, 2):
        raise RuntimeError(called + "expected a 1D or 2D tensor")
    signal = input.unsqueeze(0) if input.ndim == 1 else input
    if not 0 < n_fft <= signal.shape[1]:   # (PyTorch's message prints win_length as n_fft)
        raise RuntimeError(called + f"expected 0 < n_fft < {signal.shape[1]}, but got n_fft={win_length}")
    if hop_length <= 0:
        raise RuntimeError(called + f"expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(called + f"expected 0 < win_length <= n_fft, but got win_length={win_length}")
    if window is not None and (window.ndim != 1 or window.shape[0] != win_length):
        raise RuntimeError(called + f"expected a 1D window tensor of size equal to win_length={win_length}, but got "
                           f"window with size {list(window.shape)}")
    if window is None:
        from .creation import ones
        window = ones(win_length, dtype=signal.real.dtype, device=signal.device)
    left = (n_fft - win_length) // 2
    if align_to_window:   # frames hold the window's win_length points, placed where the window sits in n_fft
        frames = pad(signal.unfold(-1, win_length, hop_length) * window, (left, n_fft - win_length - left))
    else:
        frames = signal.unfold(-1, n_fft, hop_length) * _padded_window(window, win_length, n_fft)
    if onesided is None:
        onesided = not complex_input
    if onesided and complex_input:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spectrum = (rfft(frames, norm=norm) if onesided else fft(frames, norm=norm)).transpose(-1, -2)
    if input.ndim == 1:
        spectrum = spectrum.squeeze(0)
    return spectrum if return_complex or return_complex is None else view_as_real(spectrum)


@tensor_method
def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """The least-squares inverse of ``stft``: overlap-adds the windowed inverse FFTs of the frames and divides by
    the summed squared window (which must not vanish: the NOLA condition). PyTorch's checks and messages."""
    n_fft = int_arg(n_fft)
    hop_length = n_fft >> 2 if hop_length is None else int_arg(hop_length)
    win_length = n_fft if win_length is None else int_arg(win_length)
    length = None if length is None else int_arg(length)
    if window is None:
        warn_once("istft window", _ISTFT_NO_WINDOW)
    if not input.dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    called = (f"istft({_described(input)}, n_fft={n_fft}, hop_length={hop_length}, win_length={win_length}, "
              f"window={_described(window, True)}, center={int(center)}, normalized={int(normalized)}, "
              f"onesided={_flag(onesided)}, length={_flag(length)}, return_complex={int(return_complex)}) ")
    pairs = view_as_real(input.resolve_conj())   # PyTorch reads the sizes from this view (a 1-D input's IndexError)
    bins, n_frames = pairs.size(-3), pairs.size(-2)
    if input.numel() == 0:
        raise RuntimeError(called + ": input tensor cannot be empty.")
    if input.ndim not in (2, 3):
        raise RuntimeError(called + f": expected a tensor with 3 or 4 dimensions, but got {input.ndim + 1}")
    if onesided is None:
        onesided = bins != n_fft
    if onesided and n_fft // 2 + 1 != bins:
        raise RuntimeError(called + ": expected the frequency dimension (3rd to the last) of the input tensor to "
                           f"match n_fft / 2 + 1 when onesided=True, but got {bins}")
    if not onesided and bins != n_fft:
        raise RuntimeError(called + ": expected the frequency dimension (3rd to the last) of the input tensor to "
                           f"match n_fft when onesided=False, but got {bins}")
    if not 0 < hop_length <= win_length:
        raise RuntimeError(called + ": expected 0 < hop_length <= win_length")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(called + ": expected 0 < win_length <= n_fft")
    if window is not None and (window.ndim != 1 or window.shape[0] != win_length):
        raise RuntimeError(called + ": Invalid window shape. window has to be 1D and length of `win_length`")
    if window is None:
        from .creation import ones
        window = ones(win_length, dtype=input.real.dtype, device=input.device)
    window = _padded_window(window, win_length, n_fft)
    columns = (input.unsqueeze(0) if input.ndim == 2 else input).transpose(-1, -2)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = ifft(columns, n=n_fft, norm=norm)
    else:
        if window.dtype.is_complex:
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        frames = irfft(columns[..., :n_fft // 2 + 1], n=n_fft, norm=norm)   # a two-sided input's first half
    total = n_fft + hop_length * (n_frames - 1)
    signal = _overlap_add(frames * window, total, n_fft, hop_length)
    envelope = _overlap_add((window * window).expand(1, n_frames, n_fft), total, n_fft, hop_length)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else -(n_fft // 2) if center else total
    signal, envelope = signal[..., start:end], envelope[..., start:end]
    if bool(envelope.abs().min() < 1e-11):
        raise RuntimeError(called + "window overlap add min: 1\n[ CPUBoolType{} ]")
    signal = signal / envelope
    if input.ndim == 2:
        signal = signal.squeeze(0)
    if end > total:
        warn_once("istft length", "The length of signal is shorter than the length parameter. Result is being "
                  "padded with zeros in the tail. Please check your center and hop_length settings.")
        signal = pad(signal, (0, end - total))
    return signal


def _overlap_add(frames, total, n_fft, hop_length):
    """Sums (B, frames, n_fft) frames placed hop_length apart into (B, total) signals."""
    if frames.dtype.is_complex:
        parts = view_as_real(frames)   # (B, T, n_fft, 2): fold the real and imaginary parts side by side
        summed = _overlap_add(parts.movedim(-1, 1).reshape(-1, frames.shape[1], n_fft), total, n_fft, hop_length)
        return view_as_complex(summed.reshape(frames.shape[0], 2, total).movedim(1, -1).contiguous())
    columns = frames.transpose(1, 2)
    return fold(columns, (1, total), (1, n_fft), stride=(1, hop_length)).reshape(frames.shape[0], total)
