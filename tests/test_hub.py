"""ember.hub against torch.hub: the same cache layout under TORCH_HOME, hash-prefix checks and errors, loading a
checkpoint the tests make; downloads come from a fake urlopen (no network)."""
import hashlib
import io
import sys

import numpy
import pytest
import torch
import torch.hub

import ember
import ember.hub


class FakeResponse:
    def __init__(self, payload):
        self.stream = io.BytesIO(payload)
        self.length = len(payload)

    def info(self):
        length = str(self.length)

        class Meta:
            def get_all(self, name):
                return [length] if name == "Content-Length" else None
        return Meta()

    def read(self, size=-1):
        return self.stream.read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def serve(monkeypatch, module, payload, requests):
    def fake_urlopen(request, *args, **kwargs):
        requests.append(request.full_url if hasattr(request, "full_url") else request)
        return FakeResponse(payload)
    monkeypatch.setattr(module, "urlopen", fake_urlopen)


@pytest.fixture
def checkpoint_bytes():
    buffer = io.BytesIO()
    torch.save({"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.tensor([1.0, -1.0])}, buffer)
    return buffer.getvalue()


def test_cache_dir_follows_torch_home(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    assert ember.hub.get_dir() == torch.hub.get_dir() == str(tmp_path / "home" / "hub")
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ember.hub.get_dir() == torch.hub.get_dir()
    ember.hub.set_dir(str(tmp_path / "custom"))
    try:
        assert ember.hub.get_dir() == str(tmp_path / "custom")
    finally:
        ember.hub._hub_dir = None


def test_load_state_dict_from_url_downloads_once_into_the_cache(monkeypatch, tmp_path, checkpoint_bytes, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    digest = hashlib.sha256(checkpoint_bytes).hexdigest()
    url = f"https://download.example.org/models/tiny-{digest[:8]}.pth"
    requests = []
    serve(monkeypatch, ember.hub, checkpoint_bytes, requests)
    state = ember.hub.load_state_dict_from_url(url, check_hash=True, progress=False)
    cached = tmp_path / "hub" / "checkpoints" / f"tiny-{digest[:8]}.pth"
    assert cached.read_bytes() == checkpoint_bytes and requests == [url]
    assert 'Downloading: "' + url + '" to ' + str(cached) in capsys.readouterr().err
    numpy.testing.assert_array_equal(state["weight"].numpy(), numpy.arange(6.0).reshape(2, 3))
    again = ember.hub.load_state_dict_from_url(url, progress=False)   # from the cache: no second request
    assert requests == [url] and set(again) == {"weight", "bias"}
    torch_requests = []
    serve(monkeypatch, torch.hub, checkpoint_bytes, torch_requests)
    torch_state = torch.hub.load_state_dict_from_url(url, progress=False)   # torch finds the same cached file
    assert torch_requests == [] and torch.equal(torch_state["bias"], torch.tensor([1.0, -1.0]))
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]   # no partial files left


def test_hash_mismatch_raises_as_torch_and_leaves_nothing(monkeypatch, tmp_path, checkpoint_bytes):
    url = "https://download.example.org/models/tiny-deadbeef.pth"
    errors = []
    for module, lib in ((torch.hub, "torch"), (ember.hub, "ember")):
        target = tmp_path / lib
        serve(monkeypatch, module, checkpoint_bytes, [])
        with pytest.raises(RuntimeError) as error:
            module.load_state_dict_from_url(url, model_dir=str(target), check_hash=True, progress=False)
        errors.append(str(error.value))
        assert list(target.iterdir()) == []
    assert errors[0] == errors[1]


def test_download_url_to_file_and_file_name(monkeypatch, tmp_path, checkpoint_bytes):
    serve(monkeypatch, ember.hub, checkpoint_bytes, [])
    destination = tmp_path / "file.bin"
    ember.hub.download_url_to_file("https://x.example/any", str(destination), progress=False)
    assert destination.read_bytes() == checkpoint_bytes
    state = ember.hub.load_state_dict_from_url("https://x.example/weights?download=1", model_dir=str(tmp_path / "m"),
                                               file_name="renamed.pt", progress=False)
    assert (tmp_path / "m" / "renamed.pt").exists() and "weight" in state
    model = ember.nn.Linear(3, 2)
    model.load_state_dict(state)
    numpy.testing.assert_array_equal(model.bias.detach().numpy(), [1.0, -1.0])


def test_tqdm_is_tqdms_class_or_torchs_stand_in(monkeypatch, capsys):
    tqdm = pytest.importorskip("tqdm")
    from torch.hub import tqdm as theirs
    from ember.hub import tqdm as ours
    assert ours is theirs is tqdm.tqdm
    monkeypatch.setitem(sys.modules, "tqdm", None)   # as without tqdm installed: the stand-in writes percentages
    outputs = []
    for bar_class in (ember.hub.tqdm, torch.hub._Faketqdm):
        for total in (200, None):
            with bar_class(total=total, unit="B") as bar:
                bar.update(50)
                bar.set_description("ignored")
                bar.update(100)
                bar.write("note")
            bar.update(7)   # closed bars stay silent only after close(); the context exit does not close
            bar.close()
            bar.update(9)
        outputs.append(capsys.readouterr().err)
    assert outputs[0] == outputs[1] and "75.0%" in outputs[0] and "150.0 bytes" in outputs[0]
    assert ember.hub.tqdm is not torch.hub._Faketqdm
