"""ember.utils.summary prints the same tables as torchinfo 1.8 and torchsummary for the same models."""
import pytest

import ember
from ember.utils import summary as ember_summary
from ember.utils.summary import torchsummary as ember_torchsummary

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")
torchsummary = pytest.importorskip("torchsummary")


class Net:
    """The same small models built with either library."""

    @staticmethod
    def cnn(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Sequential(nn.Conv2d(8, 4, 3), nn.BatchNorm2d(4)),
                             nn.Flatten(), nn.Linear(4 * 24 * 24, 10))

    @staticmethod
    def lenet(lib):
        nn = lib.nn

        class LeNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
                                              nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2))
                self.head = nn.ModuleList([nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)])
                self.frozen = nn.Linear(10, 10)
                for p in self.frozen.parameters():
                    p.requires_grad_(False)

            def forward(self, x):
                x = self.features(x).flatten(1)
                for layer in self.head:
                    x = lib.relu(layer(x))
                return self.frozen(x)
        return LeNet()

    @staticmethod
    def rnn(lib):
        nn = lib.nn

        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(50, 16)
                self.lstm = nn.LSTM(16, 32, batch_first=True)
                self.out = nn.Linear(32, 5)

            def forward(self, tokens):
                return self.out(self.lstm(self.embed(tokens))[0])
        return Tagger()


def normalized(text):
    # torchinfo 1.8 on Python 3.11 prints its Units enum as "Units.MEGABYTES"; it means "M".
    for name, short in (("MEGABYTES", "M"), ("GIGABYTES", "G"), ("TERABYTES", "T")):
        text = text.replace(f"(Units.{name})", f"({short})")
    return text


@pytest.mark.parametrize("build, kwargs", [
    (Net.cnn, dict(input_size=(2, 1, 28, 28))),
    (Net.cnn, dict(input_size=(2, 1, 28, 28), depth=1,
                   col_names=("input_size", "output_size", "num_params", "mult_adds", "trainable"))),
    (Net.lenet, dict(input_size=(3, 1, 28, 28), col_names=("kernel_size", "num_params", "params_percent"))),
    (Net.lenet, dict(input_size=[(3, 1, 28, 28)], row_settings=("var_names", "depth"))),
    (Net.rnn, dict(input_data="tokens", col_names=("input_size", "output_size", "num_params", "mult_adds"))),
    (Net.lenet, dict()),
])
def test_summary_table_matches_torchinfo(build, kwargs, capsys):
    theirs_model, ours_model = build(torch), build(ember)
    ours_model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in theirs_model.state_dict().items()})
    their_kwargs, our_kwargs = dict(kwargs), dict(kwargs)
    if kwargs.get("input_data") == "tokens":
        their_kwargs["input_data"] = torch.randint(0, 50, (4, 7))
        our_kwargs["input_data"] = ember.tensor(their_kwargs["input_data"].numpy())
    theirs = torchinfo.summary(theirs_model, verbose=1, **their_kwargs)
    their_text = normalized(capsys.readouterr().out)
    ours = ember_summary.summary(ours_model, verbose=1, **our_kwargs)
    our_text = capsys.readouterr().out
    assert our_text == their_text
    assert (ours.total_params, ours.trainable_params, ours.total_mult_adds) == (
        theirs.total_params, theirs.trainable_params, theirs.total_mult_adds)


@pytest.mark.parametrize("build, size", [(Net.cnn, (1, 28, 28)), (Net.lenet, (1, 28, 28))])
def test_torchsummary_table_matches(build, size, capsys):
    torchsummary.summary(build(torch), size, device="cpu")
    theirs = capsys.readouterr().out
    ember_torchsummary.summary(build(ember), size, device="cpu")
    assert capsys.readouterr().out == theirs


def test_bad_input_size_is_reported():
    with pytest.raises(ValueError, match="negative size found"):
        ember_summary.summary(Net.cnn(ember), input_size=(2, -1, 28, 28))
    with pytest.raises(ValueError, match="'shapes' is not a valid ColumnSettings"):
        ember_summary.summary(Net.cnn(ember), input_size=(2, 1, 28, 28), col_names=("shapes",))
