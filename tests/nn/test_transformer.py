"""Transformer layers and stacks against torch with copied weights: outputs and gradients."""
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, check, sample

F32 = numpy.float32
SRC, TGT = sample((3, 5, 8), F32, seed=1), sample((3, 4, 8), F32, seed=2)
PADDING = numpy.zeros((3, 5), bool)
PADDING[1, 3:] = True


def copy_weights(torch_module, ember_module):
    assert list(torch_module.state_dict()) == list(ember_module.state_dict())
    ember_module.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()})


def build(name, *args, **kwargs):
    """The same layer in both libraries, ember's with torch's weights."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # both warn alike when nested tensors cannot be used
        t_layer, e_layer = getattr(torch.nn, name)(*args, **kwargs), getattr(ember.nn, name)(*args, **kwargs)
    copy_weights(t_layer, e_layer)
    return t_layer, e_layer


LAYER_OPTIONS = [dict(), dict(norm_first=True, activation="gelu"), dict(activation=torch.nn.functional.silu)]


@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=["post-norm", "pre-norm-gelu", "callable"])
def test_encoder_layer_matches_torch(options):
    e_options = dict(options)
    if callable(options.get("activation")):
        e_options["activation"] = ember.nn.functional.silu
    torch.manual_seed(0)
    t_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, **options)
    e_layer = ember.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, **e_options)
    copy_weights(t_layer, e_layer)
    check(lambda lib, x: (t_layer if lib is torch else e_layer.to(x.device))(
        x, src_key_padding_mask=lib.tensor(PADDING)), SRC, rtol=1e-4, atol=1e-5)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(5).numpy()
    check(lambda lib, x: (t_layer if lib is torch else e_layer.to(x.device))(
        x, src_mask=lib.tensor(causal), is_causal=True), SRC, rtol=1e-4, atol=1e-5)
    assert e_layer.activation_relu_or_gelu == t_layer.activation_relu_or_gelu


def test_decoder_layer_matches_torch():
    for options in (dict(), dict(norm_first=True)):
        t_layer, e_layer = build("TransformerDecoderLayer", 8, 2, 16, dropout=0.0, **options)
        src, tgt = SRC.swapaxes(0, 1).copy(), TGT.swapaxes(0, 1).copy()
        tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()
        check(lambda lib, t, m: (t_layer if lib is torch else e_layer.to(t.device))(
            t, m, tgt_mask=lib.tensor(tgt_mask), memory_key_padding_mask=lib.tensor(PADDING)), tgt, src, rtol=1e-4,
            atol=1e-5)


def test_transformer_matches_torch_train_and_eval():
    t_model, e_model = build("Transformer", 8, 2, 2, 2, 16, dropout=0.0, batch_first=True)
    assert_same(ember.nn.Transformer.generate_square_subsequent_mask(4),
                torch.nn.Transformer.generate_square_subsequent_mask(4))
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()

    def run(lib, s, t):
        return (t_model if lib is torch else e_model.to(s.device))(s, t, tgt_mask=lib.tensor(tgt_mask),
                                                      src_key_padding_mask=lib.tensor(PADDING),
                                                      memory_key_padding_mask=lib.tensor(PADDING))
    check(run, SRC, TGT, rtol=1e-4, atol=1e-5)
    t_model.eval(), e_model.to("cpu").eval()   # the sample's CUDA run (where a GPU is) moved it
    with torch.no_grad(), ember.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns that nested tensors are a prototype
        # Inference with a padding mask: torch's nested-tensor path gives zeros at padded positions before the norm.
        assert_same(e_model.encoder(ember.tensor(SRC), src_key_padding_mask=ember.tensor(PADDING)),
                    t_model.encoder(torch.tensor(SRC), src_key_padding_mask=torch.tensor(PADDING)), 1e-4, 1e-5)
        assert_same(e_model(ember.tensor(SRC), ember.tensor(TGT)), t_model(torch.tensor(SRC), torch.tensor(TGT)),
                    1e-4, 1e-5)


def test_fastpath_switch_keeps_padded_positions_as_torch():
    """With torch.backends.mha's fast path off, the encoder computes padded positions instead of zeroing them."""
    t_model, e_model = build("Transformer", 8, 2, 2, 2, 16, dropout=0.0, batch_first=True)
    t_model.eval(), e_model.eval()
    outputs = []
    for fast in (False, True):
        for lib in (ember, torch):
            lib.backends.mha.set_fastpath_enabled(fast)
        try:
            with torch.no_grad(), ember.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = e_model.encoder(ember.tensor(SRC), src_key_padding_mask=ember.tensor(PADDING))
                theirs = t_model.encoder(torch.tensor(SRC), src_key_padding_mask=torch.tensor(PADDING))
            assert_same(ours, theirs, 1e-4, 1e-5)
            assert ember.backends.mha.get_fastpath_enabled() is fast
            outputs.append(ours)
        finally:
            for lib in (ember, torch):
                lib.backends.mha.set_fastpath_enabled(True)
    assert not ember.equal(outputs[0], outputs[1])   # the switch changed what padded positions hold


def test_stacks_are_deep_copies_and_checks():
    layer = ember.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    encoder = ember.nn.TransformerEncoder(layer, 3)
    assert len(encoder.layers) == 3 and encoder.layers[0] is not layer
    assert encoder.layers[0].linear1.weight is not encoder.layers[1].linear1.weight
    assert len(list(encoder.parameters())) == 3 * len(list(layer.parameters()))
    with pytest.warns(UserWarning, match="enable_nested_tensor is True"):
        ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(8, 2, 16), 1)
    model = ember.nn.Transformer(8, 2, 1, 1, 16, batch_first=True)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(ember.ones(2, 3, 8), ember.ones(3, 3, 8))
    with pytest.raises(RuntimeError, match="feature number"):
        model(ember.ones(2, 3, 8), ember.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        ember.nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_mismatched_mask_warning_names_the_masks_caller():
    # PyTorch warns from _canonical_mask at stacklevel 2: the line of the forward that canonicalizes the masks
    for lib in (torch, ember):
        layer = lib.nn.MultiheadAttention(8, 2)
        x = lib.randn(3, 1, 8)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer(x, x, x, key_padding_mask=lib.zeros(1, 3, dtype=lib.bool), attn_mask=lib.zeros(3, 3))
        assert [str(w.message) for w in caught] == [
            "Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for both instead."]
        assert caught[0].filename == type(layer).forward.__code__.co_filename


def test_nested_tensor_path_warns_once_that_nested_tensors_are_a_prototype(monkeypatch):
    """PyTorch warns (once per process) when its inference path first makes a nested tensor; not in training."""
    from ember.nn.modules import transformer
    monkeypatch.setattr(transformer, "_nested_warned", [])
    encoder = ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)
    src, padding = ember.tensor(SRC), ember.tensor(PADDING)
    with warnings.catch_warnings(record=True) as caught, ember.no_grad():
        warnings.simplefilter("always")
        encoder(src, src_key_padding_mask=padding)   # training: no nested tensors
        encoder.eval()
        encoder(src, src_key_padding_mask=padding)
        encoder(src, src_key_padding_mask=padding)
    assert [str(w.message).split(".")[0] for w in caught] == ["The PyTorch API of nested tensors is in prototype "
                                                              "stage and will change in the near future"]
