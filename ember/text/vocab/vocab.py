"""The Vocab: a token <-> index map with an optional default index for unknown tokens (torchtext.vocab.Vocab)."""
from ember import nn

__all__ = ["Vocab"]


class Vocab(nn.Module):
    """Maps tokens to indices in insertion order; ``vocab(tokens)`` looks a list of tokens up."""

    def __init__(self, tokens=()):
        super().__init__()
        self._itos = []
        self._stoi = {}
        self._default_index = None
        for token in tokens:
            if token in self._stoi:
                raise RuntimeError(f"Duplicate token found in tokens list: {token}")
            self._stoi[token] = len(self._itos)
            self._itos.append(token)

    def forward(self, tokens):
        """The indices of a list of tokens."""
        return self.lookup_indices(tokens)

    def __len__(self):
        return len(self._itos)

    def __contains__(self, token):
        return token in self._stoi

    def __getitem__(self, token):
        index = self._stoi.get(token)
        if index is not None:
            return index
        if self._default_index is None:
            raise RuntimeError(f"Token {token} not found and default index is not set")
        return self._default_index

    def set_default_index(self, index):
        """The index returned for tokens not in the vocab (None: raise RuntimeError instead)."""
        self._default_index = index

    def get_default_index(self):
        """The default index, or None."""
        return self._default_index

    def insert_token(self, token, index):
        """Inserts ``token`` at ``index``, moving the tokens from there on one place up."""
        if token in self._stoi:
            raise RuntimeError(f"Token {token} already exists in the Vocab with index: {self._stoi[token]}")
        if not 0 <= index <= len(self._itos):
            raise RuntimeError(f"Specified index {index} is out of bounds for vocab of size {len(self._itos)}")
        self._itos.insert(index, token)
        for position in range(index, len(self._itos)):
            self._stoi[self._itos[position]] = position

    def append_token(self, token):
        """Adds ``token`` at the end."""
        if token in self._stoi:
            raise RuntimeError(f"Token {token} already exists in the Vocab with index: {self._stoi[token]}")
        self._stoi[token] = len(self._itos)
        self._itos.append(token)

    def lookup_token(self, index):
        """The token at ``index``."""
        if not 0 <= index < len(self._itos):
            raise RuntimeError(f"Specified index {index} is out of bounds of the size of itos dictionary: "
                               f"{len(self._itos)}.")
        return self._itos[index]

    def lookup_tokens(self, indices):
        """The tokens at ``indices``."""
        return [self.lookup_token(index) for index in indices]

    def lookup_indices(self, tokens):
        """The indices of ``tokens`` (the default index for unknown ones)."""
        return [self[token] for token in tokens]

    def get_stoi(self):
        """A dict from token to index."""
        return dict(self._stoi)

    def get_itos(self):
        """The list of tokens, by index."""
        return list(self._itos)
