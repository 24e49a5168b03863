"""torchtext.transforms: composable text pipelines as modules."""
import re

import ember
from ember import nn

from . import functional as F
from .vocab import Vocab

__all__ = ["Sequential", "VocabTransform", "ToTensor", "LabelToIndex", "Truncate", "AddToken", "PadTransform",
           "StrToIntTransform", "RegexTokenizer"]


class Sequential(nn.Sequential):
    """Applies the transforms in order."""

    def forward(self, input):
        """The input passed through every transform."""
        for module in self:
            input = module(input)
        return input


class VocabTransform(nn.Module):
    """Tokens (a list, or a batch of lists) to vocab indices."""

    def __init__(self, vocab):
        super().__init__()
        if not isinstance(vocab, Vocab):
            raise TypeError(f"vocab must be a Vocab, got {type(vocab).__name__}")
        self.vocab = vocab

    def forward(self, input):
        """Indices shaped like the input."""
        if F._is_list_of(input, str):
            return self.vocab.lookup_indices(input)
        if F._is_nested(input):
            return [self.vocab.lookup_indices(tokens) for tokens in input]
        raise TypeError("Input type not supported")


class ToTensor(nn.Module):
    """Ids (or a batch of them, padded with ``padding_value``) to a tensor of ``dtype``."""

    def __init__(self, padding_value=None, dtype=ember.long):
        super().__init__()
        self.padding_value, self.dtype = padding_value, dtype

    def forward(self, input):
        """A 1-d or 2-d tensor."""
        return F.to_tensor(input, padding_value=self.padding_value, dtype=self.dtype)


class LabelToIndex(nn.Module):
    """String labels to indices, from ``label_names`` or a file of one label per line."""

    def __init__(self, label_names=None, label_path=None, sort_names=False):
        super().__init__()
        if not (label_names or label_path):
            raise AssertionError("label_names or label_path is required")
        if label_names and label_path:
            raise AssertionError("label_names and label_path are mutually exclusive")
        if label_path:
            with open(label_path) as f:
                label_names = [line.strip() for line in f if line.strip()]
        self._label_names = sorted(label_names) if sort_names else list(label_names)
        self._label_vocab = Vocab(self._label_names)

    @property
    def label_names(self):
        """The labels, by index."""
        return self._label_names

    def forward(self, input):
        """The index of a label, or the indices of a list of labels."""
        if isinstance(input, str):
            return self._label_vocab[input]
        if F._is_list_of(input, str):
            return self._label_vocab.lookup_indices(input)
        raise TypeError("Input type not supported")


class Truncate(nn.Module):
    """Cuts sequences to at most ``max_seq_len`` items."""

    def __init__(self, max_seq_len):
        super().__init__()
        self.max_seq_len = max_seq_len

    def forward(self, input):
        """The truncated sequence(s)."""
        return F.truncate(input, self.max_seq_len)


class AddToken(nn.Module):
    """Adds a token (id or string) at the start (``begin``) or end of sequences."""

    def __init__(self, token, begin=True):
        super().__init__()
        self.token, self.begin = token, begin

    def forward(self, input):
        """The sequence(s) with the token added."""
        return F.add_token(input, self.token, self.begin)


class PadTransform(nn.Module):
    """Pads the last dim of a tensor with ``pad_value`` up to ``max_length`` (longer ones stay as they are)."""

    def __init__(self, max_length, pad_value):
        super().__init__()
        self.max_length, self.pad_value = max_length, pad_value

    def forward(self, x):
        """The padded tensor."""
        length = x.shape[-1]
        if length < self.max_length:
            x = nn.functional.pad(x, (0, self.max_length - length), value=self.pad_value)
        return x


class StrToIntTransform(nn.Module):
    """Numeric strings (or a batch of lists of them) to ints."""

    def forward(self, input):
        """The ints, shaped like the input."""
        return F.str_to_int(input)


class RegexTokenizer(nn.Module):
    """Applies each (pattern, replacement) of ``patterns_list`` in order over the whole string, then splits on
    spaces, dropping empty tokens (torchtext's RE2-based tokenizer)."""

    def __init__(self, patterns_list):
        super().__init__()
        self._patterns = [(re.compile(pattern), replacement) for pattern, replacement in patterns_list]

    def _tokenize(self, line):
        for pattern, replacement in self._patterns:
            line = pattern.sub(replacement, line)
        return [token for token in line.split(" ") if token]

    def forward(self, input):
        """Tokens of a string, or a list of token lists for a list of strings."""
        if isinstance(input, str):
            return self._tokenize(input)
        if F._is_list_of(input, str):
            return [self._tokenize(line) for line in input]
        raise TypeError("Input type not supported")
