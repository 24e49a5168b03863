"""Modules built twice, in ember and in torch, with the same weights: the export tests' subjects. Each builder
takes the library (``ember`` or ``torch``) and returns a module."""
import warnings

import numpy
import torch

import ember


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))


def cnn(lib):
    """Conv, BatchNorm, ReLU, pooling, Dropout and a Linear head."""
    nn = lib.nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.pool = nn.MaxPool2d(2)
            self.drop = nn.Dropout(0.3)
            self.fc = nn.Linear(4 * 4 * 4, 5)

        def forward(self, x):
            x = self.pool(lib.relu(self.bn(self.conv(x))))
            return self.fc(self.drop(x.flatten(1)))
    return CNN()


def buffered(lib):
    """A persistent and a non-persistent buffer, a tensor attribute, and a keyword input."""
    nn = lib.nn

    class Buffered(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.register_buffer("scale", lib.linspace(0.5, 1.5, 3))
            self.register_buffer("shift", lib.ones(3), persistent=False)
            self.offset = lib.full((3,), 0.25)

        def forward(self, x, bias=None):
            out = self.fc(x) * self.scale + self.shift + self.offset
            return out if bias is None else out + bias
    return Buffered()


def recurrent(lib):
    """An LSTM whose last step feeds a Linear head; returns the head's output and the hidden state."""
    nn = lib.nn

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 5, batch_first=True)
            self.head = nn.Linear(5, 2)

        def forward(self, x):
            out, (h, _) = self.lstm(x)
            return self.head(out[:, -1]), h
    return Recurrent()


def encoder(lib):
    """A Transformer encoder layer (its attention is ``self_attn``: PyTorch drops the ``self_`` from input names)."""
    return lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)


def language(lib):
    """Embedding, attention with a padding mask, LayerNorm, a GRU and a log-softmax head over token ids."""
    nn = lib.nn

    class Language(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(20, 8, padding_idx=0)
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
            self.norm = nn.LayerNorm(8)
            self.gru = nn.GRU(8, 8, batch_first=True)
            self.out = nn.Linear(8, 20)

        def forward(self, tokens, mask):
            x = self.emb(tokens)
            attended, _ = self.attn(x, x, x, key_padding_mask=mask)
            hidden, _ = self.gru(self.norm(x + attended))
            return lib.nn.functional.log_softmax(self.out(hidden), -1)
    return Language()


def pair(builder, train=False):
    """(ember module, torch module) with the same weights and buffers, both in train or eval mode."""
    ember_module = builder(ember)
    torch_module = builder(torch)
    state = {k: torch.from_numpy(numpy.array(v.detach().numpy())) for k, v in ember_module.state_dict().items()}
    torch_module.load_state_dict(state)
    return ember_module.train(train), torch_module.train(train)


def torch_export(module, args, kwargs=None, **options):
    """torch.export.export without the warnings torch 2.13 emits on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.export.export(module, args, kwargs, **options)


def same_inputs(*shapes):
    """(ember tensors, torch tensors) holding the same random float32 values."""
    arrays = [numpy.random.randn(*shape).astype(numpy.float32) for shape in shapes]
    return [ember.from_numpy(a.copy()) for a in arrays], [torch.from_numpy(a.copy()) for a in arrays]


def close(got, expected, atol=1e-5):
    """Asserts an ember output equals a torch output (nested tuples too)."""
    if isinstance(expected, (tuple, list)):
        assert type(got) is type(expected) and len(got) == len(expected)
        for g, e in zip(got, expected):
            close(g, e, atol)
        return
    numpy.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=atol)
