"""Signatures of ``torch.linalg``, ``torch.fft`` and ``torch.special``'s ops, under their ATen names
(``linalg_qr``, ``fft_rfft``, ``special_erfcx``)."""

FUNCTIONS = {
    'fft_fft': 'Tensor input, int? n = None, int dim = -1, str? norm = None, *, Tensor out = None',
    'fft_fft2': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = (-2, -1), '
                'str? norm = None, *, Tensor out = None',
    'fft_fftn': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = None, '
                'str? norm = None, *, Tensor out = None',
    'fft_fftfreq': 'int n, float d = 1.0, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, '
                   'torch.device device = None, bool pin_memory = False, bool requires_grad = False',
    'fft_fftshift': 'Tensor input, tuple of ints* dim = None',
    'fft_hfft': 'Tensor input, int? n = None, int dim = -1, str? norm = None, *, Tensor out = None',
    'fft_hfft2': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = (-2, -1), '
                 'str? norm = None, *, Tensor out = None',
    'fft_hfftn': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = None, '
                 'str? norm = None, *, Tensor out = None',
    'fft_ifft': 'Tensor input, int? n = None, int dim = -1, str? norm = None, *, Tensor out = None',
    'fft_ifft2': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = (-2, -1), '
                 'str? norm = None, *, Tensor out = None',
    'fft_ifftn': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = None, '
                 'str? norm = None, *, Tensor out = None',
    'fft_ifftshift': 'Tensor input, tuple of ints* dim = None',
    'fft_ihfft': 'Tensor input, int? n = None, int dim = -1, str? norm = None, *, Tensor out = None',
    'fft_ihfft2': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = (-2, -1), '
                  'str? norm = None, *, Tensor out = None',
    'fft_ihfftn': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = None, '
                  'str? norm = None, *, Tensor out = None',
    'fft_irfft': 'Tensor input, int? n = None, int dim = -1, str? norm = None, *, Tensor out = None',
    'fft_irfft2': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = (-2, -1), '
                  'str? norm = None, *, Tensor out = None',
    'fft_irfftn': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = None, '
                  'str? norm = None, *, Tensor out = None',
    'fft_rfftfreq': 'int n, float d = 1.0, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, '
                    'torch.device device = None, bool pin_memory = False, bool requires_grad = False',
    'fft_rfft': 'Tensor input, int? n = None, int dim = -1, str? norm = None, *, Tensor out = None',
    'fft_rfft2': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = (-2, -1), '
                 'str? norm = None, *, Tensor out = None',
    'fft_rfftn': 'Tensor input, tuple of ints* s = None, tuple of ints* dim = None, '
                 'str? norm = None, *, Tensor out = None',
    'linalg_cross': 'Tensor input, Tensor other, *, int dim = -1, Tensor out = None',
    'linalg_vector_norm': 'Tensor input, Number ord = 2, tuple of ints* dim = None, bool keepdim = False, *, '
                          'torch.dtype dtype = None, Tensor out = None',
}

# One signature where the stubs list several overloads
FUNCTIONS["linalg_inv"] = "Tensor A, *, Tensor out = None"
