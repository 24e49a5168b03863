"""torchtext.functional: token-id lists to tensors, truncation and special tokens."""
import ember
from ember.nn.utils.rnn import pad_sequence

__all__ = ["to_tensor", "truncate", "add_token", "str_to_int"]


def _is_list_of(value, kind):
    return isinstance(value, list) and all(isinstance(item, kind) for item in value)


def _is_nested(value):
    return isinstance(value, list) and all(isinstance(item, list) for item in value)


def to_tensor(input, padding_value=None, dtype=ember.long):
    """A list of ids as a 1-d tensor, a list of lists as a 2-d one padded with ``padding_value`` (if given)."""
    if _is_list_of(input, int):
        return ember.tensor(input, dtype=dtype)
    if _is_nested(input):
        if padding_value is None:
            return ember.tensor(input, dtype=dtype)
        return pad_sequence([ember.tensor(ids, dtype=dtype) for ids in input], batch_first=True,
                            padding_value=float(padding_value))
    raise TypeError("Input type not supported")


def truncate(input, max_seq_len):
    """The sequence (or each sequence of a batch) cut to at most ``max_seq_len`` items."""
    if _is_list_of(input, (int, str)):
        return input[:max_seq_len]
    if _is_nested(input):
        return [ids[:max_seq_len] for ids in input]
    raise TypeError("Input type not supported")


def add_token(input, token_id, begin=True):
    """The sequence (or each sequence of a batch) with ``token_id`` added at the start (or the end)."""
    if _is_list_of(input, (int, str)):
        return [token_id] + input if begin else input + [token_id]
    if _is_nested(input):
        return [[token_id] + ids if begin else ids + [token_id] for ids in input]
    raise TypeError("Input type not supported")


def str_to_int(input):
    """A list of numeric strings (or a batch of such lists) as ints."""
    if _is_list_of(input, str):
        return [int(element) for element in input]
    if _is_nested(input) and all(_is_list_of(ids, str) for ids in input):
        return [[int(element) for element in ids] for ids in input]
    raise TypeError("Input type not supported")
