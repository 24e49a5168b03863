"""nn.utils.prune against torch: every method on Linear and Conv2d weights and biases, amounts, iterative and global
pruning, importance scores, ties, the same random draws for the same seed, remove / is_pruned, state_dict keys and
values through save/load, forward outputs and gradients, and the errors."""
import pytest
import numpy
import torch
import torch.nn.utils.prune as torch_prune

import ember
import ember.nn.utils.prune as ember_prune

PRUNE = {ember: ember_prune, torch: torch_prune}


def build(lib, kind, seed=0, integer=False):
    """Linear(6, 4), Conv2d(3, 5, 3) or a Sequential of both, with the same weights in either library; ``integer``
    weights take few distinct magnitudes, so pruning by magnitude has ties to break."""
    rng = numpy.random.default_rng(seed)
    if kind == "linear":
        module = lib.nn.Linear(6, 4)
    elif kind == "conv":
        module = lib.nn.Conv2d(3, 5, 3)
    else:
        module = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 2), lib.nn.Flatten(), lib.nn.Linear(12, 4))
    with lib.no_grad():
        for p in module.parameters():
            values = rng.integers(-3, 4, p.shape) if integer else rng.uniform(-1, 1, p.shape)
            p.copy_(lib.tensor(values.astype(numpy.float32)))
    return module


def pair(kind, **options):
    return build(ember, kind, **options), build(torch, kind, **options)


def values(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def assert_same_state(e_module, t_module, hooks=True):
    """Same state_dict keys and values, parameter and buffer names, pruned attributes and pruning hooks."""
    e_state, t_state = e_module.state_dict(), t_module.state_dict()
    assert list(e_state) == list(t_state)
    for key in t_state:
        numpy.testing.assert_array_equal(values(e_state[key]), values(t_state[key]), err_msg=key)
        assert str(e_state[key].dtype).split(".")[-1] == str(t_state[key].dtype).split(".")[-1]
    assert [n for n, _ in e_module.named_parameters()] == [n for n, _ in t_module.named_parameters()]
    assert [n for n, _ in e_module.named_buffers()] == [n for n, _ in t_module.named_buffers()]
    for (name, e_sub), (_, t_sub) in zip(e_module.named_modules(), t_module.named_modules()):
        e_hooks = [type(h).__name__ for h in e_sub._forward_pre_hooks.values()]
        assert not hooks or e_hooks == [type(h).__name__ for h in t_sub._forward_pre_hooks.values()], name
        for attr in ("weight", "bias"):
            if attr + "_orig" in t_sub._parameters:
                assert not isinstance(getattr(e_sub, attr), ember.nn.Parameter)
                numpy.testing.assert_array_equal(values(getattr(e_sub, attr)), values(getattr(t_sub, attr)))
    assert ember_prune.is_pruned(e_module) == torch_prune.is_pruned(t_module)


def both(fn, e_module, t_module, seed=0):
    """``fn(lib, prune, module)`` on each library after seeding both generators alike; returns the results."""
    ember.manual_seed(seed)
    e_result = fn(ember, ember_prune, e_module)
    torch.manual_seed(seed)
    t_result = fn(torch, torch_prune, t_module)
    return e_result, t_result


def assert_same_error(fn, e_module, t_module):
    """Both raise the same exception type with the same message (up to the library's name)."""
    with pytest.raises(Exception) as t_error:
        torch.manual_seed(0)
        fn(torch, torch_prune, t_module)
    with pytest.raises(type(t_error.value)) as e_error:
        ember.manual_seed(0)
        fn(ember, ember_prune, e_module)
    assert str(e_error.value).replace("ember.", "torch.") == str(t_error.value)
    return e_error.value


AMOUNTS = [0, 1, 3, 0.0, 0.3, 0.5, 1.0]
UNSTRUCTURED = {"random_unstructured": lambda p, m, name, a: p.random_unstructured(m, name, a),
                "l1_unstructured": lambda p, m, name, a: p.l1_unstructured(m, name, amount=a)}
STRUCTURED = {"random_structured": lambda p, m, name, a, dim: p.random_structured(m, name, a, dim),
              "ln_structured_2": lambda p, m, name, a, dim: p.ln_structured(m, name, a, 2, dim),
              "ln_structured_1": lambda p, m, name, a, dim: p.ln_structured(m, name, a, n=1, dim=dim),
              "ln_structured_inf": lambda p, m, name, a, dim: p.ln_structured(m, name, a, float("inf"), dim),
              "ln_structured_-inf": lambda p, m, name, a, dim: p.ln_structured(m, name, a, float("-inf"), dim),
              "ln_structured_fro": lambda p, m, name, a, dim: p.ln_structured(m, name, a, "fro", dim)}


@pytest.mark.parametrize("integer", [False, True])
@pytest.mark.parametrize("amount", AMOUNTS)
@pytest.mark.parametrize("name", ["weight", "bias"])
@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("method", sorted(UNSTRUCTURED))
def test_unstructured_methods_match_torch(method, kind, name, amount, integer):
    e_module, t_module = pair(kind, integer=integer)
    results = both(lambda lib, p, m: UNSTRUCTURED[method](p, m, name, amount), e_module, t_module, seed=7)
    assert results[0] is e_module
    assert_same_state(e_module, t_module)
    mask = getattr(e_module, name + "_mask")
    expected = amount if isinstance(amount, int) else round(amount * mask.numel())
    assert int((mask == 0).sum()) == expected


@pytest.mark.parametrize("amount", [0, 1, 2, 0.0, 0.4, 0.5, 1.0])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("method", sorted(STRUCTURED))
def test_structured_methods_match_torch(method, kind, dim, amount):
    for integer in (False, True):
        e_module, t_module = pair(kind, integer=integer, seed=3)
        prune_it = lambda lib, p, m: STRUCTURED[method](p, m, "weight", amount, dim)   # noqa: E731
        if method == "ln_structured_fro" and kind == "conv":   # torch.norm: 'fro' over three dims is a matrix norm
            error = assert_same_error(prune_it, e_module, t_module)
            assert str(error) == "linalg.matrix_norm: dim must be a 2-tuple. Got " + {0: "1 2 3", 1: "0 2 3"}.get(
                dim, "0 1 2")
        else:
            both(prune_it, e_module, t_module, seed=11)
        assert_same_state(e_module, t_module)


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_identity_and_nuclear_norm(kind):
    e_module, t_module = pair(kind)
    both(lambda lib, p, m: p.identity(m, "bias"), e_module, t_module)
    assert_same_state(e_module, t_module)
    numpy.testing.assert_array_equal(e_module.bias_mask.numpy(), numpy.ones(e_module.bias.shape, numpy.float32))
    if kind == "conv":   # the norm of each out-channel's 3x3x3 block is not a matrix norm: only dims of size 2
        e_module, t_module = pair(kind)
        assert_same_error(lambda lib, p, m: p.ln_structured(m, "weight", 2, "nuc", 0), e_module, t_module)
        weights = numpy.random.default_rng(5).uniform(-1, 1, (4, 3, 5)).astype(numpy.float32)
        e_method, t_method = ember_prune.LnStructured(2, "nuc", dim=1), torch_prune.LnStructured(2, "nuc", dim=1)
        numpy.testing.assert_array_equal(e_method.compute_mask(ember.tensor(weights), ember.ones(4, 3, 5)).numpy(),
                                         t_method.compute_mask(torch.tensor(weights), torch.ones(4, 3, 5)).numpy())
    else:
        assert_same_error(lambda lib, p, m: p.ln_structured(m, "weight", 2, "nuc", 0), e_module, t_module)


def test_random_methods_draw_torch_values_for_the_same_seed():
    for seed in range(5):
        e_module, t_module = pair("conv")
        both(lambda lib, p, m: p.random_unstructured(m, "weight", amount=0.37), e_module, t_module, seed=seed)
        both(lambda lib, p, m: p.random_structured(m, "weight", amount=2, dim=1), e_module, t_module, seed=seed + 9)
        assert_same_state(e_module, t_module)


def test_ties_are_broken_as_torch_topk():
    """Few distinct magnitudes: which of the tied entries or channels go is torch.topk's CPU choice."""
    rng = numpy.random.default_rng(0)
    for trial in range(40):
        shape = [(7, 9), (16, 4, 3, 3), (130, 2), (40, 40)][trial % 4]
        weight = rng.integers(-2, 3, shape).astype(numpy.float32)
        size = weight.size
        for amount in (1, size // 3, 0.5, size - 1, int(rng.integers(0, size))):
            masks = []
            for lib, p in PRUNE.items():
                method = p.L1Unstructured(amount)
                masks.append(method.compute_mask(lib.tensor(weight), lib.ones(shape)).numpy())
            numpy.testing.assert_array_equal(*masks)
        for amount in (1, 0.5, shape[1] - 1):
            masks = []
            for lib, p in PRUNE.items():
                method = p.LnStructured(amount, n=1, dim=1)
                masks.append(method.compute_mask(lib.tensor(weight), lib.ones(shape)).numpy())
            numpy.testing.assert_array_equal(*masks)


def test_global_ties_after_remove_and_pruning_again():
    """Pruning a weight whose earlier pruning was made permanent: the zeros tie, and torch.topk picks among them."""
    e_module, t_module = pair("linear")
    both(lambda lib, p, m: p.remove(p.l1_unstructured(m, "weight", 0.5), "weight"), e_module, t_module)
    both(lambda lib, p, m: p.l1_unstructured(m, "weight", 5), e_module, t_module)
    assert_same_state(e_module, t_module)


ITERATIONS = [lambda lib, p, m: p.l1_unstructured(m, "weight", 0.3),
              lambda lib, p, m: p.random_structured(m, "weight", 1, dim=0),
              lambda lib, p, m: p.ln_structured(m, "weight", 0.5, n=2, dim=1),
              lambda lib, p, m: p.random_unstructured(m, "weight", 2),
              lambda lib, p, m: p.custom_from_mask(m, "weight", lib.tensor(CUSTOM[m.weight.dim()])),
              lambda lib, p, m: p.identity(m, "weight"),
              lambda lib, p, m: p.ln_structured(m, "weight", 1, n=float("inf"), dim=-1),
              lambda lib, p, m: p.l1_unstructured(m, "weight", 0.25)]
CUSTOM = {2: (numpy.arange(24).reshape(4, 6) % 5 != 0).astype(numpy.int64),
          4: (numpy.arange(135).reshape(5, 3, 3, 3) % 4 != 0).astype(numpy.int64)}


@pytest.mark.parametrize("order", [range(8), [3, 1, 0, 2, 6, 5, 4, 7], [4, 2, 7, 1, 0]])
@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_iterative_pruning_combines_masks_as_torch(kind, order):
    e_module, t_module = pair(kind)
    for step, i in enumerate(order):
        both(ITERATIONS[i], e_module, t_module, seed=step)
        assert_same_state(e_module, t_module)
    e_hook, t_hook = list(e_module._forward_pre_hooks.values()), list(t_module._forward_pre_hooks.values())
    assert len(e_hook) == len(t_hook) == 1
    assert isinstance(e_hook[0], ember_prune.PruningContainer) and len(e_hook[0]) == len(order)
    assert [type(m).__name__ for m in e_hook[0]] == [type(m).__name__ for m in t_hook[0]]
    assert e_hook[0][-1] is list(e_hook[0])[-1] and e_hook[0]._tensor_name == "weight"


def test_pruning_weight_and_bias_of_one_module():
    e_module, t_module = pair("linear")
    both(lambda lib, p, m: p.l1_unstructured(p.random_unstructured(m, "bias", 2), "weight", 0.5), e_module, t_module)
    assert_same_state(e_module, t_module)
    assert len(e_module._forward_pre_hooks) == 2
    both(lambda lib, p, m: p.remove(m, "bias"), e_module, t_module)
    assert_same_state(e_module, t_module)


@pytest.mark.parametrize("amount", [0, 7, 0.2, 0.6, 1.0])
@pytest.mark.parametrize("method", ["L1Unstructured", "RandomUnstructured"])
def test_global_unstructured_over_several_modules(method, amount):
    e_model, t_model = pair("seq")

    def prune_all(lib, p, model):
        params = [(model[0], "weight"), (model[2], "weight"), (model[2], "bias")]
        return p.global_unstructured(params, pruning_method=getattr(p, method), amount=amount)
    assert both(prune_all, e_model, t_model, seed=4) == (None, None)
    assert_same_state(e_model, t_model)
    both(prune_all, e_model, t_model, seed=5)   # again: only the unpruned entries are considered
    assert_same_state(e_model, t_model)


def test_global_unstructured_ties_importance_scores_and_pruned_parameters():
    e_model, t_model = pair("seq", integer=True)
    both(lambda lib, p, m: p.ln_structured(m[2], "weight", 1, 2, 0), e_model, t_model)
    scores = {0: numpy.random.default_rng(1).integers(0, 3, (3, 2, 2, 2)).astype(numpy.float32)}

    def prune_all(lib, p, model):
        params = [(model[0], "weight"), (model[2], "weight"), (model[0], "bias")]
        importance = {(model[0], "weight"): lib.tensor(scores[0])}
        p.global_unstructured(params, p.L1Unstructured, importance_scores=importance, amount=20)
    both(prune_all, e_model, t_model)
    assert_same_state(e_model, t_model)


def test_global_unstructured_errors():
    e_model, t_model = pair("seq")
    assert_same_error(lambda lib, p, m: p.global_unstructured(m[0], p.L1Unstructured, amount=1), e_model, t_model)
    assert_same_error(lambda lib, p, m: p.global_unstructured([(m[0], "weight")], p.L1Unstructured,
                                                              importance_scores=[1], amount=1), e_model, t_model)
    error = assert_same_error(lambda lib, p, m: p.global_unstructured([(m[0], "weight")], p.RandomStructured,
                                                                      amount=1), e_model, t_model)
    assert isinstance(error, TypeError)
    assert_same_error(lambda lib, p, m: p.global_unstructured([(m[0], "weight")], p.L1Unstructured, amount=1000),
                      e_model, t_model)


def test_custom_from_mask():
    e_module, t_module = pair("linear")
    both(lambda lib, p, m: p.custom_from_mask(m, name="bias", mask=lib.tensor([0, 1, 0, 1])), e_module, t_module)
    assert_same_state(e_module, t_module)
    assert e_module.bias_mask.dtype == ember.float32
    both(lambda lib, p, m: p.custom_from_mask(m, "bias", lib.tensor([True, True, False, True])), e_module, t_module)
    assert_same_state(e_module, t_module)
    assert_same_error(lambda lib, p, m: p.custom_from_mask(m, "bias", lib.ones(3)), e_module, t_module)


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_importance_scores(kind):
    e_module, t_module = pair(kind)
    scores = numpy.random.default_rng(2).integers(0, 4, e_module.weight.shape).astype(numpy.float32)
    both(lambda lib, p, m: p.l1_unstructured(m, "weight", 0.4, importance_scores=lib.tensor(scores)), e_module,
         t_module)
    assert_same_state(e_module, t_module)
    both(lambda lib, p, m: p.ln_structured(m, "weight", 1, 1, dim=1, importance_scores=-lib.tensor(scores)),
         e_module, t_module)
    assert_same_state(e_module, t_module)
    e_module, t_module = pair(kind)
    assert_same_error(lambda lib, p, m: p.l1_unstructured(m, "weight", 1, importance_scores=lib.ones(2)), e_module,
                      t_module)
    assert_same_state(e_module, t_module)


def test_prune_method_on_a_tensor():
    weight = numpy.random.default_rng(3).uniform(-1, 1, (5, 4)).astype(numpy.float32)
    scores = numpy.abs(weight)[::-1].copy()
    got = [p.L1Unstructured(0.5).prune(lib.tensor(weight)).numpy() for lib, p in PRUNE.items()]
    numpy.testing.assert_array_equal(*got)
    got = [p.LnStructured(2, 2, 0).prune(lib.tensor(weight), lib.ones(5, 4), lib.tensor(scores)).numpy()
           for lib, p in PRUNE.items()]
    numpy.testing.assert_array_equal(*got)
    for lib, p in PRUNE.items():
        with pytest.raises(AssertionError, match="importance_scores should have the same shape as tensor t"):
            p.L1Unstructured(1).prune(lib.tensor(weight), importance_scores=lib.ones(3))


@pytest.mark.parametrize("kind", ["linear", "conv", "seq"])
def test_remove_makes_pruning_permanent(kind):
    e_module, t_module = pair(kind)
    target = (lambda m: m[2]) if kind == "seq" else (lambda m: m)
    both(lambda lib, p, m: p.l1_unstructured(target(m), "weight", 0.5), e_module, t_module)
    both(lambda lib, p, m: p.random_structured(target(m), "weight", 1, 0), e_module, t_module)
    both(lambda lib, p, m: p.identity(target(m), "bias"), e_module, t_module)
    assert ember_prune.is_pruned(e_module)
    results = both(lambda lib, p, m: p.remove(target(m), "weight"), e_module, t_module)
    assert results[0] is target(e_module)
    assert_same_state(e_module, t_module)
    assert isinstance(target(e_module).weight, ember.nn.Parameter) and target(e_module).weight.requires_grad
    assert "weight" not in vars(target(e_module))
    assert ember_prune.is_pruned(e_module)
    both(lambda lib, p, m: p.remove(target(m), "bias"), e_module, t_module)
    assert_same_state(e_module, t_module)
    assert not ember_prune.is_pruned(e_module) and not target(e_module)._forward_pre_hooks
    assert_same_error(lambda lib, p, m: p.remove(target(m), "weight"), e_module, t_module)


def test_is_pruned():
    e_model, t_model = pair("seq")
    assert not ember_prune.is_pruned(e_model)
    e_model[2].register_forward_pre_hook(lambda module, args: None)
    assert not ember_prune.is_pruned(e_model)
    ember_prune.identity(e_model[0], "weight")
    assert ember_prune.is_pruned(e_model) and ember_prune.is_pruned(e_model[0])
    assert not ember_prune.is_pruned(e_model[2])


@pytest.mark.parametrize("kind", ["linear", "conv", "seq"])
def test_forward_and_gradients_after_pruning(kind):
    e_model, t_model = pair(kind)
    sub = (lambda m: m[2]) if kind == "seq" else (lambda m: m)

    def prune_it(lib, p, m):
        p.l1_unstructured(sub(m), "weight", 0.4)
        p.random_unstructured(sub(m), "bias", 1)
        p.ln_structured(sub(m), "weight", 1, 2, 0)
    both(prune_it, e_model, t_model, seed=2)
    shape = {"linear": (3, 6), "conv": (2, 3, 6, 6), "seq": (2, 2, 3, 3)}[kind]
    x = numpy.random.default_rng(4).standard_normal(shape).astype(numpy.float32)
    outs = []
    for lib, model in ((ember, e_model), (torch, t_model)):
        out = model(lib.tensor(x))
        (out * out).sum().backward()
        outs.append(out)
    numpy.testing.assert_allclose(values(outs[0]), values(outs[1]), rtol=1e-5, atol=1e-6)
    e_grads, t_grads = dict(e_model.named_parameters()), dict(t_model.named_parameters())
    assert list(e_grads) == list(t_grads)
    for name in t_grads:
        numpy.testing.assert_allclose(values(e_grads[name].grad), values(t_grads[name].grad), rtol=1e-4, atol=1e-5)
    mask = sub(e_model).weight_mask.numpy()
    assert (sub(e_model).weight_orig.grad.numpy()[mask == 0] == 0).all()
    assert sub(e_model).weight_mask.grad is None and not sub(e_model).weight_mask.requires_grad


def test_forward_pre_hook_recomputes_the_pruned_weight():
    e_module, t_module = pair("linear")
    both(lambda lib, p, m: p.l1_unstructured(m, "weight", 0.5), e_module, t_module)
    x = numpy.ones((1, 6), numpy.float32)
    for lib, module in ((ember, e_module), (torch, t_module)):
        with lib.no_grad():
            module.weight_orig.mul_(3)
        module(lib.tensor(x))
    assert_same_state(e_module, t_module)


def test_state_dict_save_load_round_trip(tmp_path):
    e_model, t_model = pair("seq")

    def prune_it(lib, p, m):
        p.global_unstructured([(m[0], "weight"), (m[2], "weight")], p.L1Unstructured, amount=0.3)
        p.random_structured(m[2], "weight", 1, dim=1)
        p.custom_from_mask(m[0], "bias", lib.tensor([1, 0, 1]))
    both(prune_it, e_model, t_model, seed=6)
    assert list(e_model.state_dict()) == list(t_model.state_dict()) == [
        "0.weight_orig", "0.bias_orig", "0.weight_mask", "0.bias_mask", "2.bias", "2.weight_orig", "2.weight_mask"]
    path = tmp_path / "pruned.pt"
    ember.save(e_model.state_dict(), path)
    loaded = ember.load(path)
    assert list(loaded) == list(t_model.state_dict())
    fresh = build(ember, "seq", seed=9)
    for sub, name in ((fresh[0], "weight"), (fresh[2], "weight"), (fresh[0], "bias")):
        ember_prune.identity(sub, name)
    fresh.load_state_dict(loaded)
    x = numpy.random.default_rng(0).standard_normal((2, 2, 3, 3)).astype(numpy.float32)
    numpy.testing.assert_allclose(fresh(ember.tensor(x)).detach().numpy(), t_model(torch.tensor(x)).detach().numpy(),
                                  rtol=1e-5, atol=1e-6)
    assert_same_state(fresh, t_model, hooks=False)   # fresh's hooks are Identity ones
    torch_path = tmp_path / "torch.pt"   # torch reads ember's file, and the other way round
    torch.save(t_model.state_dict(), torch_path)
    from_torch = ember.load(torch_path)
    from_ember = torch.load(path)
    assert list(from_torch) == list(from_ember) == list(t_model.state_dict())
    for key in from_ember:
        numpy.testing.assert_array_equal(from_torch[key].numpy(), from_ember[key].numpy())


@pytest.mark.parametrize("bad", ["0.5", None, -1, 1.5, -0.1, ember.tensor(0.5)])
def test_amount_validation(bad):
    e_module, t_module = pair("linear")
    torch_bad = torch.tensor(0.5) if isinstance(bad, ember.Tensor) else bad
    for constructor in ("RandomUnstructured", "L1Unstructured", "RandomStructured"):
        errors = []
        for lib, p, amount in ((torch, torch_prune, torch_bad), (ember, ember_prune, bad)):
            with pytest.raises((TypeError, ValueError)) as error:
                getattr(p, constructor)(amount)
            errors.append(error.value)
        assert type(errors[0]) is type(errors[1])
        if not isinstance(bad, ember.Tensor):
            assert str(errors[0]) == str(errors[1])
    if not isinstance(bad, ember.Tensor):
        assert_same_error(lambda lib, p, m: p.l1_unstructured(m, "weight", bad), e_module, t_module)
        assert_same_error(lambda lib, p, m: p.ln_structured(m, "weight", bad, 2, 0), e_module, t_module)
        assert_same_state(e_module, t_module)


def test_errors_roll_back_and_match_torch():
    e_module, t_module = pair("linear")
    cases = [lambda lib, p, m: p.l1_unstructured(m, "weight", 25),               # more than the entries
             lambda lib, p, m: p.random_unstructured(m, "bias", 5),
             lambda lib, p, m: p.ln_structured(m, "weight", 5, 2, 0),             # more than the channels
             lambda lib, p, m: p.random_structured(m, "weight", 1, 2),            # dim out of range
             lambda lib, p, m: p.ln_structured(m, "weight", 1, 2, dim=5),
             lambda lib, p, m: p.random_structured(m, "bias", 1, 0),              # a 1-D tensor has no channels
             lambda lib, p, m: p.ln_structured(m, "bias", 0.5, 1, -1),
             lambda lib, p, m: p.l1_unstructured(m, "kernel", 0.5),               # no such parameter
             lambda lib, p, m: p.identity(m, "missing")]
    for case in cases:
        assert_same_error(case, e_module, t_module)
        assert_same_state(e_module, t_module)   # the reparametrization was undone
        assert "weight_orig" not in dict(e_module.named_parameters())
    both(lambda lib, p, m: p.l1_unstructured(m, "weight", 3), e_module, t_module)
    assert_same_error(lambda lib, p, m: p.l1_unstructured(m, "weight", 22), e_module, t_module)   # 21 left


def test_pruning_container():
    e_method, t_method = ember_prune.L1Unstructured(0.2), torch_prune.L1Unstructured(0.2)
    e_method._tensor_name, t_method._tensor_name = "weight", "weight"
    e_container, t_container = ember_prune.PruningContainer(e_method), torch_prune.PruningContainer(t_method)
    assert e_container._tensor_name == "weight" and len(e_container) == 1 and e_container[0] is e_method
    for lib, p, container in ((torch, torch_prune, t_container), (ember, ember_prune, e_container)):
        with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
            container.add_pruning_method(lib.nn.Linear(1, 1))
        other = p.Identity()
        other._tensor_name = "bias"
        with pytest.raises(ValueError, match="Can only add pruning methods acting on the parameter named 'weight' to "
                                             "PruningContainer .*. Found 'bias'"):
            container.add_pruning_method(other)
    second = ember_prune.RandomUnstructured(1)
    second._tensor_name = "weight"
    e_container.add_pruning_method(second)
    assert list(e_container) == [e_method, second]
    weight = numpy.random.default_rng(0).uniform(-1, 1, (4, 5)).astype(numpy.float32)
    previous = (numpy.arange(20).reshape(4, 5) % 3 != 0).astype(numpy.float32)
    masks = []
    for lib, container, seed in ((ember, e_container, 1), (torch, t_container, 1)):
        lib.manual_seed(seed)
        if lib is torch:
            t_second = torch_prune.RandomUnstructured(1)
            t_second._tensor_name = "weight"
            container.add_pruning_method(t_second)
        masks.append(container.compute_mask(lib.tensor(weight), lib.tensor(previous)).numpy())
    numpy.testing.assert_array_equal(*masks)

    class NoType(ember_prune.BasePruningMethod):
        def compute_mask(self, t, default_mask):
            return default_mask
    with pytest.raises(AttributeError):
        ember_prune.global_unstructured([(ember.nn.Linear(2, 2), "weight")], NoType)


def test_custom_pruning_method_subclass():
    class EveryOther(ember_prune.BasePruningMethod):
        """Prunes every other entry."""
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask
    module = ember.nn.Linear(3, 2)
    method = EveryOther.apply(module, "bias")
    assert method._tensor_name == "bias" and module._forward_pre_hooks
    numpy.testing.assert_array_equal(module.bias_mask.numpy(), [0.0, 1.0])
    EveryOther.apply(module, "bias")   # on the unpruned entry only
    numpy.testing.assert_array_equal(module.bias_mask.numpy(), [0.0, 0.0])
    with pytest.raises(TypeError):
        ember_prune.BasePruningMethod()


def test_module_namespace():
    import ember.nn.utils.prune as imported
    assert imported is ember.nn.utils.prune is ember_prune
    for name in torch_prune.__dict__:
        if not name.startswith("_") and callable(getattr(torch_prune, name)) and name not in (
                "ABC", "Iterable", "abstractmethod"):
            assert hasattr(ember_prune, name), name
            assert getattr(ember_prune, name).__doc__, name
