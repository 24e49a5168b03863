"""The foreach path of ``Optimizer.step``: one vectorised update over many parameters of a group.

Small parameters that share a dtype, a device and the same scalar state (step count, ...) are packed into flat
arrays, updated by one call of the optimizer's own ``_update`` and unpacked; large ones are updated in place one by
one (their update is already a few array operations over many elements, and packing would only add memory traffic).
Every optimizer update is elementwise with scalars computed from the group and the scalar state, so the packed result
is bit-equal to the per-parameter path.
"""
from .._backend import xp_of
from .._tensor import _make

# parameters up to this many elements are packed; beyond it the copies in and out cost more than the calls saved
PACK_LIMIT = 1 << 15


def foreach_group(optimizer, group, params):
    """Updates ``params`` (tensors of ``group`` that have a gradient) through packed buckets."""
    scalar_keys = optimizer._scalar_state
    buckets = {}
    for p in params:
        state = optimizer.state[p]
        if not state:
            optimizer._init_state(group, p, state)
        data, grad = p._data, p.grad._data
        if data.size > PACK_LIMIT or not data.flags.c_contiguous or not grad.flags.c_contiguous:
            optimizer._update_elements(group, data, grad, state)
            continue
        key = (data.dtype, grad.dtype, xp_of(data),
               tuple((k, None if v is None else (k in scalar_keys and float(v._data))) for k, v in state.items()))
        buckets.setdefault(key, []).append(p)
    for bucket in buckets.values():
        if len(bucket) == 1:
            p = bucket[0]
            optimizer._update_elements(group, p._data, p.grad._data, optimizer.state[p])
        else:
            _packed_update(optimizer, group, bucket, scalar_keys)
    for p in params:
        p._version_counter[0] += 1


def _packed_update(optimizer, group, bucket, scalar_keys):
    xp = xp_of(bucket[0]._data)
    states = [optimizer.state[p] for p in bucket]
    param = xp.concatenate([p._data.reshape(-1) for p in bucket])
    grad = xp.concatenate([p.grad._data.reshape(-1) for p in bucket])
    packed = {}
    for key, value in states[0].items():
        if value is None:
            packed[key] = None
        elif key in scalar_keys:
            packed[key] = _make(value._data.copy())
        else:
            packed[key] = _make(xp.concatenate([s[key]._data.reshape(-1) for s in states]))
    optimizer._update_elements(group, param, grad, packed)
    offsets = [0]
    for p in bucket:
        offsets.append(offsets[-1] + p._data.size)
    for i, (p, state) in enumerate(zip(bucket, states)):
        start, stop = offsets[i], offsets[i + 1]
        p._data[...] = param[start:stop].reshape(p._data.shape)
        for key, value in packed.items():
            if value is None:
                continue
            if key in scalar_keys:
                state[key]._data[...] = value._data
            elif state.get(key) is None:   # created by this step (SGD's momentum buffer)
                state[key] = _make(value._data[start:stop].reshape(p._data.shape).copy())
            else:
                state[key]._data[...] = value._data[start:stop].reshape(p._data.shape)
