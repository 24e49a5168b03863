"""One program on nn.MultiheadAttention with DTensor inputs and weights, run on ember (under mpiexec) or on torch
(gloo): the output's and attention weights' placements and whole values, and the whole gradients of the input and
the weights. Layouts: a batch-sharded input (batch first or not, self- and cross-attention, separate key and value
widths) against replicated weights, a replicated input, and the tensor-parallel plan for the projections (the
in-projections sharded by rows, the output projection by columns). Torch's DTensor has no strategy for its CPU
attention kernel's backward, so without attention weights torch's gradients are those of the same module asked for
its weights (the same function); with a mask it hangs on batch-sharded inputs there, so those cases run
replicated. Each rank writes its results to OUT_DIR/<library>-<rank>.json.

    python dtensor_mha.py ember|torch OUT_DIR
"""
import sys

from _beside_torch import LIBRARY, finish, record, start_mesh, torch

if LIBRARY == "torch":
    from torch.distributed.tensor import Replicate, Shard, distribute_module, distribute_tensor
    from torch.distributed.tensor.parallel import RowwiseParallel, parallelize_module
else:
    from ember.distributed.tensor import Replicate, Shard, distribute_module, distribute_tensor
    from ember.distributed.tensor.parallel import RowwiseParallel, parallelize_module

rank, world, mesh = start_mesh()
R, S0, S1 = Replicate(), Shard(0), Shard(1)
COLUMNS_ROWS = {"in_proj_weight": S0, "q_proj_weight": S0, "k_proj_weight": S0, "v_proj_weight": S0,
                "in_proj_bias": S0, "out_proj.weight": S1}


def seen(value):
    """A DTensor's placements, global shape and whole value (partial ones reduced)."""
    if value is None:
        return None
    return [str(value.placements), list(value.shape), value.full_tensor().tolist()]


def whole(grad):
    return None if grad is None else grad.full_tensor().tolist()


def attention(batch_first, placement, plan=None, kdim=None, cross=False, masks=(), bool_masks=False, built=None,
              unbatched=False, **options):
    """nn.MultiheadAttention(8, 2) with its parameters laid out by ``plan`` (name -> placement, else replicated) on
    inputs of batch 4 laid out by ``placement``: self-attention, or with a key and value of 5 positions (of width
    ``kdim`` where given), under the additive ``masks`` named (a padding mask sharded as the batch); its outputs and
    the whole gradients of sum(output * weights). ``bool_masks``: the masks as bool ones (True: not attended),
    which the module makes additive by zeros_like and masked_fill_ on the DTensors. ``built``: more of the module's
    options (add_bias_kv, add_zero_attn); ``unbatched``: inputs without the batch dim (the placement's on their
    sequence dim, as the padding mask's)."""
    torch.manual_seed(0)
    module = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, kdim=kdim, vdim=kdim, dtype=torch.float64,
                                         **(built or {}))

    def laid_out(name, part, mesh):
        for key, param in list(part.named_parameters(recurse=False)):
            placement_of = (plan or {}).get(f"{name}.{key}" if name else key, R)
            part.register_parameter(key, torch.nn.Parameter(distribute_tensor(param.detach(), mesh, [placement_of])))
    distribute_module(module, mesh, laid_out)

    def laid(*shape):
        value = torch.randn(*shape[unbatched:], dtype=torch.float64)
        value = value if batch_first or unbatched else value.transpose(0, 1).contiguous()
        return distribute_tensor(value, mesh, [placement]).requires_grad_()
    query = laid(4, 6, 8)
    key = laid(4, 5, kdim or 8) if cross or kdim else query
    length = key.shape[0 if unbatched or not batch_first else 1]
    if "key_padding_mask" in masks:
        padding = torch.zeros(4, length, dtype=torch.float64)
        padding[::2, -2:] = float("-inf")
        padding = padding[0] if unbatched else padding
        padding = padding.isinf() if bool_masks else padding
        options["key_padding_mask"] = distribute_tensor(padding, mesh, [placement if unbatched or placement != R
                                                                        else R])
    if "attn_mask" in masks:
        causal = torch.full((6, length), float("-inf"), dtype=torch.float64).triu(1)
        causal = causal.isinf() if bool_masks else causal
        options["attn_mask"] = distribute_tensor(causal, mesh, [R])
    output, weights = module(query, key, key, **options)
    result = [seen(output), seen(weights)]
    if LIBRARY == "torch" and options.get("need_weights") is False:   # (no backward strategy for torch's kernel)
        output = module(query, key, key, **dict(options, need_weights=True))[0]
    coefficients = torch.linspace(-1, 1, output.numel(), dtype=torch.float64).reshape(output.shape)
    (output.full_tensor() * coefficients).sum().backward()
    params = dict(module.named_parameters())
    return result + [whole(query.grad), None if key is query else whole(key.grad)] + \
        [[name, whole(params[name].grad)] for name in sorted(params)]


def error_type(call):
    """The type of the error ``call`` raises (the messages name torch's aten ops and ember's public ones)."""
    try:
        call()
    except Exception as error:   # compared by type
        return type(error).__name__
    return None


for batch_first, placement in ((True, S0), (False, S1), (True, R)):
    case = f"{'batch_first' if batch_first else 'seq_first'}_{placement}"
    record(case, lambda: attention(batch_first, placement))
    record(case + "_no_weights", lambda: attention(batch_first, placement, need_weights=False))
record("per_head_weights", lambda: attention(True, S0, average_attn_weights=False))
record("cross", lambda: attention(True, S0, cross=True))
record("cross_kdim", lambda: attention(False, S1, kdim=6))
for masks in (("key_padding_mask",), ("attn_mask",), ("key_padding_mask", "attn_mask")):
    record(f"masks_{masks}", lambda: attention(True, S0, masks=masks))
    record(f"masks_{masks}_no_weights", lambda: attention(True, R, masks=masks, need_weights=False))
    record(f"bool_masks_{masks}", lambda: attention(True, S0, masks=masks, bool_masks=True))
    record(f"bool_masks_{masks}_no_weights", lambda: attention(True, R, masks=masks, bool_masks=True,
                                                               need_weights=False))

BOTH = ("key_padding_mask", "attn_mask")
for built in ({"add_bias_kv": True}, {"add_zero_attn": True}, {"add_bias_kv": True, "add_zero_attn": True}):
    made = "_".join(built)
    record(made, lambda: attention(True, S0, built=built))
    record(f"{made}_masks", lambda: attention(True, S0, built=built, masks=BOTH))
    record(f"{made}_masks_no_weights", lambda: attention(True, R, built=built, masks=BOTH, need_weights=False))
    record(f"{made}_cross_seq_first", lambda: attention(False, S1, built=built, cross=True))
for placement in (R, S0):
    record(f"unbatched_{placement}", lambda: attention(True, placement, unbatched=True))
    record(f"unbatched_{placement}_masks", lambda: attention(True, placement, unbatched=True, masks=BOTH))
    record(f"unbatched_{placement}_cross_bias_kv", lambda: attention(True, placement, unbatched=True, cross=True,
                                                                     built={"add_bias_kv": True}))
record("unbatched_no_weights", lambda: attention(True, R, unbatched=True, masks=BOTH, need_weights=False))
record("unbatched_per_head_weights", lambda: attention(True, R, unbatched=True, average_attn_weights=False))


def static_keys(placement, zero_attn=False, need_weights=True):
    """F.multi_head_attention_forward with static keys and values (batch x heads, 5, head size) laid out by
    ``placement``, the query sharded as the batch: outputs and the static tensors' whole gradients."""
    torch.manual_seed(0)
    module = torch.nn.MultiheadAttention(8, 2, dtype=torch.float64)
    distribute_module(module, mesh)
    x = distribute_tensor(torch.randn(6, 4, 8, dtype=torch.float64), mesh, [S1 if placement != R else R])
    static = [distribute_tensor(torch.randn(8, 5, 4, dtype=torch.float64), mesh, [placement]).requires_grad_()
              for _ in range(2)]
    output, weights = torch.nn.functional.multi_head_attention_forward(
        x, x, x, 8, 2, module.in_proj_weight, module.in_proj_bias, None, None, zero_attn, 0.0,
        module.out_proj.weight, module.out_proj.bias, need_weights=need_weights, static_k=static[0],
        static_v=static[1])
    if not need_weights:   # (torch's DTensor has no backward strategy for its CPU attention kernel)
        return [seen(output), seen(weights)]
    output.full_tensor().square().sum().backward()
    return [seen(output), seen(weights)] + [whole(s.grad) for s in static]


for placement in (R, S0):
    record(f"static_keys_{placement}", lambda: static_keys(placement))
    record(f"static_keys_{placement}_zero_attn", lambda: static_keys(placement, zero_attn=True))
record("static_keys_no_weights", lambda: static_keys(S0, need_weights=False))


def functional_bool_padding():
    """F.multi_head_attention_forward with a bool padding mask (True: not attended), sharded as the batch."""
    torch.manual_seed(0)
    module = torch.nn.MultiheadAttention(8, 2, dtype=torch.float64)
    distribute_module(module, mesh)
    x = distribute_tensor(torch.randn(6, 4, 8, dtype=torch.float64), mesh, [S1])
    padding = torch.zeros(4, 6, dtype=torch.bool)
    padding[1::2, :3] = True
    output, weights = torch.nn.functional.multi_head_attention_forward(
        x, x, x, 8, 2, module.in_proj_weight, module.in_proj_bias, None, None, False, 0.0, module.out_proj.weight,
        module.out_proj.bias, key_padding_mask=distribute_tensor(padding, mesh, [S0]))
    return [seen(output), seen(weights)]


record("functional_bool_padding", functional_bool_padding)
record("cross_padding", lambda: attention(True, S0, cross=True, masks=("key_padding_mask",)))
record("tensor_parallel", lambda: attention(True, R, COLUMNS_ROWS, kdim=6))
record("tensor_parallel_no_weights", lambda: attention(True, R, COLUMNS_ROWS, kdim=6, need_weights=False))
record("tensor_parallel_packed", lambda: error_type(lambda: attention(True, R, COLUMNS_ROWS)))


def rowwise_output_projection():
    torch.manual_seed(0)
    module = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    parallelize_module(module, mesh, {"out_proj": RowwiseParallel()})
    x = torch.randn(4, 6, 8)
    return module(x, x, x)


record("rowwise_output_projection", lambda: error_type(rowwise_output_projection))


def uneven_batch():
    module = torch.nn.MultiheadAttention(8, 2)
    distribute_module(module, mesh)
    x = distribute_tensor(torch.randn(6, 3, 8), mesh, [S1])
    return module(x, x, x)


record("uneven_batch", lambda: error_type(uneven_batch))
finish(sys.argv[2])
