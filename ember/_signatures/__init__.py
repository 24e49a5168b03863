"""PyTorch 2.13's signatures of its ops as its argument parser prints them, read by ``_arg_parser`` on error paths
only (generated from torch's error messages and its .pyi stubs). A list: the op's visible overloads (PyTorch
reports a mismatch against all of them); a string: its one signature (PyTorch names the argument that does not
fit). ``Tensor?``: a tensor that may be None without a default (PyTorch prints it as ``Tensor``).
``tuple of ints*``: an int list of a fixed size, which a single int also is (printed without the star).
METHODS: Tensor methods whose signatures are not their function's without ``input`` and ``out``. Names whose torch
function is written in Python with other parameters than its binding are left out (their ember function is that
Python form) or, for nn.functional's forms only, listed in PYTHON_FORMS.
The table is split by namespace: ``torch_functions`` (``torch``), ``functional`` (``nn.functional``'s own ops and
its Python forms), ``linalg`` (``linalg``, ``fft``, ``special``) and ``tensor_methods`` (Tensor's)."""
from .functional import FUNCTIONS as _FUNCTIONAL, F_CALLS_METHOD, F_PYTHON, PYTHON_FORMS  # noqa: F401
from .linalg import FUNCTIONS as _LINALG
from .tensor_methods import METHODS  # noqa: F401
from .torch_functions import FUNCTIONS as _TORCH

FUNCTIONS = {**_TORCH, **_FUNCTIONAL, **_LINALG}

# ember's name of an op -> (PyTorch's name in its errors, called as a function even from a Tensor method)
RENAMED = {
    "split": ("split_with_sizes", True),
}

# The ops PyTorch's Python forms (Tensor.split with an int size, unique, unique_consecutive: its arguments go by
# keyword) call through torch._VF, named "_VF.<op>": ember's forms raise their errors by that name (raise_for); no
# frame is matched against them
VF_CALLS = {
    "_VF.split": ["Tensor input, int split_size, int dim = 0", "Tensor input, tuple of ints split_size, int dim = 0"],
    "_VF._unique2": "Tensor input, bool sorted = True, bool return_inverse = False, bool return_counts = False",
    "_VF.unique_consecutive": "Tensor input, bool return_inverse = False, bool return_counts = False, int? dim = None",
    "_VF.unique_dim": "Tensor input, int dim, bool sorted = True, bool return_inverse = False, "
                      "bool return_counts = False",
    # nn.utils.rnn's Python functions call these (pad_sequence through torch._C._nn)
    "_VF.pad_sequence": 'tuple of Tensors sequences, bool batch_first = False, float padding_value = 0.0, '
                        'str padding_side = "right"',
    "_VF._pack_padded_sequence": "Tensor input, Tensor lengths, bool batch_first",
    "_VF._pad_packed_sequence": "Tensor data, Tensor batch_sizes, bool batch_first, Number padding_value, "
                                "int total_length",
}

# Ops whose Tensor arguments take Python numbers too (PyTorch's should_allow_numbers_as_tensors)
NUMBERS_AS_TENSORS = {"add", "div", "divide", "mul", "multiply", "sub", "subtract", "true_divide", "floor_divide",
                      "to", "copy", "copy_"}

# PyTorch's Python functions that check their arguments before calling the op of that name, or pass them in
# another order (F.embedding calls embedding(weight, input)): their errors are their own
for _name in ("embedding", "dropout", "alpha_dropout", "feature_alpha_dropout", "batch_norm", "instance_norm",
              "group_norm", "rnn_tanh", "rnn_relu", "lstm", "gru"):
    FUNCTIONS.pop(_name, None)
FUNCTIONS["one_hot"] = "Tensor input, int num_classes = -1"
