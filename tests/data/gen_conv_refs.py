#!/usr/bin/python3
"""Generates tests/data/interp_conv/: numpy references for the interpreter's layout,
gather/scatter, convolution and pooling kernels (tests/interp/test_{layout,
gather_scatter,conv,pool}.cpp).

The references follow docs/ops.md directly and never look at loom's C++:
- conv2d and the pools are plain numpy loops over padded, strided views;
- the conv and pool gradients are computed twice, via the adjoint identity (the forward
  op is linear, so grad = A^T dy with A's columns the op applied to basis tensors) and by
  central differences of sum(op(...) * dy); the script fails unless both agree.

Run with the system python (it has numpy):  /usr/bin/python3 tests/data/gen_conv_refs.py
Each case is a directory holding its inputs, expected outputs and attributes as .npy
files. attrs.npy (int64) lists, in order:
  conv: strides_h, strides_w, pad_top, pad_left, pad_bottom, pad_right,
        dilation_h, dilation_w, groups
  pool: kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, pad_bottom,
        pad_right, ceil_mode, count_include_pad
"""

import os
import shutil

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interp_conv")
rng = np.random.default_rng(20240611)


def save(case, **arrays):
    directory = os.path.join(OUT_DIR, case)
    os.makedirs(directory, exist_ok=True)
    for name, array in arrays.items():
        np.save(os.path.join(directory, name + ".npy"), np.ascontiguousarray(array))


def round_to_bf16(values):
    """Rounds to bfloat16 (nearest even) through the bits of the f32 value."""
    bits = values.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32).astype(np.float64)


def random_values(shape, precision="f32"):
    """Random values exactly representable in `precision` (f32, f16 or bf16), returned as
    float64."""
    values = rng.uniform(-1.0, 1.0, size=shape)
    if precision == "f16":
        return values.astype(np.float16).astype(np.float64)
    if precision == "bf16":
        return round_to_bf16(values)
    return values.astype(np.float32).astype(np.float64)


# ---- convolution ----------------------------------------------------------------------


def conv_out_size(size, pad_lo, pad_hi, kernel, stride, dilation):
    return (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


def conv2d(x, w, strides, pads, dilations, groups):
    n, c, h, wd = x.shape
    o, c_per_group, kh, kw = w.shape
    top, left, bottom, right = pads
    (sh, sw), (dh, dw) = strides, dilations
    oh = conv_out_size(h, top, bottom, kh, sh, dh)
    ow = conv_out_size(wd, left, right, kw, sw, dw)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    y = np.zeros((n, o, oh, ow))
    o_per_group = o // groups
    for oc in range(o):
        g = oc // o_per_group
        x_group = xp[:, g * c_per_group:(g + 1) * c_per_group]
        for p in range(kh):
            for q in range(kw):
                # Input rows i*sh + p*dh for every output row i (likewise columns).
                tap = x_group[:, :, p * dh:p * dh + sh * (oh - 1) + 1:sh,
                              q * dw:q * dw + sw * (ow - 1) + 1:sw]
                y[:, oc] += np.einsum("nchw,c->nhw", tap, w[oc, :, p, q])
    return y


def adjoint_gradient(linear_op, input_shape, dy):
    """Gradient of sum(linear_op(v) * dy) w.r.t. v: entry k is <linear_op(e_k), dy>."""
    grad = np.zeros(int(np.prod(input_shape)))
    for k in range(grad.size):
        basis = np.zeros(grad.size)
        basis[k] = 1.0
        grad[k] = np.sum(linear_op(basis.reshape(input_shape)) * dy)
    return grad.reshape(input_shape)


def numerical_gradient(op, at, dy, eps):
    """Central differences of sum(op(v) * dy) at v = `at`."""
    grad = np.zeros(at.size)
    flat = at.reshape(-1)
    for k in range(at.size):
        plus, minus = flat.copy(), flat.copy()
        plus[k] += eps
        minus[k] -= eps
        f_plus = np.sum(op(plus.reshape(at.shape)) * dy)
        f_minus = np.sum(op(minus.reshape(at.shape)) * dy)
        grad[k] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(at.shape)


def checked_gradient(what, adjoint, numerical):
    if not np.allclose(adjoint, numerical, rtol=1e-6, atol=1e-7):
        raise AssertionError(f"{what}: adjoint and numerical gradients disagree")
    return adjoint


CONV_CASES = [
    # name, x shape, w shape, strides, pads [t, l, b, r], dilations, groups, precision
    ("conv_basic", (2, 3, 6, 5), (4, 3, 3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 1, "f32"),
    ("conv_strided_padded", (1, 2, 7, 8), (3, 2, 3, 2), (2, 3), (1, 0, 2, 1), (1, 1), 1, "f32"),
    ("conv_dilated", (1, 2, 9, 7), (2, 2, 2, 3), (1, 2), (2, 1, 0, 2), (3, 2), 1, "f32"),
    ("conv_groups", (2, 4, 5, 6), (6, 2, 3, 3), (2, 1), (1, 1, 1, 1), (1, 1), 2, "f32"),
    ("conv_depthwise", (1, 3, 6, 6), (6, 1, 3, 2), (1, 1), (0, 1, 1, 0), (2, 1), 3, "f32"),
    ("conv_1x1_strided", (2, 4, 5, 5), (2, 4, 1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 1, "f32"),
    # Inputs exactly representable in f16 / bf16; the tests run them in that dtype.
    ("conv_groups_f16", (1, 4, 5, 6), (4, 2, 3, 3), (2, 1), (1, 1, 1, 1), (1, 1), 2, "f16"),
    ("conv_groups_bf16", (1, 4, 5, 6), (4, 2, 3, 3), (2, 1), (1, 1, 1, 1), (1, 1), 2, "bf16"),
]


def generate_conv_cases():
    for name, x_shape, w_shape, strides, pads, dilations, groups, precision in CONV_CASES:
        x, w = random_values(x_shape, precision), random_values(w_shape, precision)

        def conv(xv, wv):
            return conv2d(xv, wv, strides, pads, dilations, groups)

        y = conv(x, w)
        dy = random_values(y.shape, precision)
        dx = checked_gradient(name + " dx", adjoint_gradient(lambda v: conv(v, w), x.shape, dy),
                              numerical_gradient(lambda v: conv(v, w), x, dy, 1e-3))
        dw = checked_gradient(name + " dw", adjoint_gradient(lambda v: conv(x, v), w.shape, dy),
                              numerical_gradient(lambda v: conv(x, v), w, dy, 1e-3))
        attrs = np.array([*strides, *pads, *dilations, groups], dtype=np.int64)
        save(name, attrs=attrs, x=x.astype(np.float32), w=w.astype(np.float32),
             dy=dy.astype(np.float32), y=y, dx=dx, dw=dw)


# ---- pooling --------------------------------------------------------------------------


def pool_out_size(size, pad_lo, pad_hi, kernel, stride, ceil_mode):
    room = size + pad_lo + pad_hi - kernel
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_lo:
        out -= 1  # the last window would start in the trailing padding
    return out


def pool_windows(x_shape, kernel, strides, pads, ceil_mode):
    """Yields (i, j, rows, cols, padded_count): the window of output (i, j) clipped to
    the input, and its size clipped to the padded input instead."""
    _, _, h, w = x_shape
    top, left, bottom, right = pads
    oh = pool_out_size(h, top, bottom, kernel[0], strides[0], ceil_mode)
    ow = pool_out_size(w, left, right, kernel[1], strides[1], ceil_mode)
    for i in range(oh):
        r0 = i * strides[0] - top
        for j in range(ow):
            c0 = j * strides[1] - left
            rows = slice(max(r0, 0), min(r0 + kernel[0], h))
            cols = slice(max(c0, 0), min(c0 + kernel[1], w))
            padded_count = ((min(r0 + kernel[0], h + bottom) - r0) *
                            (min(c0 + kernel[1], w + right) - c0))
            yield i, j, rows, cols, padded_count


def pool_shape(x_shape, kernel, strides, pads, ceil_mode):
    n, c, h, w = x_shape
    return (n, c, pool_out_size(h, pads[0], pads[2], kernel[0], strides[0], ceil_mode),
            pool_out_size(w, pads[1], pads[3], kernel[1], strides[1], ceil_mode))


def max_pool(x, kernel, strides, pads, ceil_mode):
    y = np.zeros(pool_shape(x.shape, kernel, strides, pads, ceil_mode))
    for i, j, rows, cols, _ in pool_windows(x.shape, kernel, strides, pads, ceil_mode):
        y[:, :, i, j] = x[:, :, rows, cols].max(axis=(2, 3))
    return y


def max_pool_grad(x, dy, kernel, strides, pads, ceil_mode):
    """Routes each dy element to the first maximum of its window (np.argmax is first)."""
    dx = np.zeros_like(x)
    for i, j, rows, cols, _ in pool_windows(x.shape, kernel, strides, pads, ceil_mode):
        width = cols.stop - cols.start
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                first = int(np.argmax(x[n, c, rows, cols]))
                dx[n, c, rows.start + first // width, cols.start + first % width] += dy[n, c, i, j]
    return dx


def avg_pool(x, kernel, strides, pads, ceil_mode, count_include_pad):
    y = np.zeros(pool_shape(x.shape, kernel, strides, pads, ceil_mode))
    for i, j, rows, cols, padded_count in pool_windows(x.shape, kernel, strides, pads, ceil_mode):
        window = x[:, :, rows, cols]
        divisor = padded_count if count_include_pad else window.shape[2] * window.shape[3]
        y[:, :, i, j] = window.sum(axis=(2, 3)) / divisor
    return y


POOL_CASES = [
    # name, x shape, kernel, strides, pads [t, l, b, r], ceil_mode, count_include_pad,
    # precision
    ("pool_basic", (2, 2, 6, 6), (2, 2), (2, 2), (0, 0, 0, 0), False, False, "f32"),
    ("pool_overlap_padded", (1, 2, 5, 7), (3, 3), (1, 1), (1, 1, 1, 1), False, False, "f32"),
    ("pool_overlap_padded_incl", (1, 2, 5, 7), (3, 3), (1, 1), (1, 1, 1, 1), False, True, "f32"),
    ("pool_asym_ceil", (1, 2, 7, 6), (3, 2), (2, 2), (1, 0, 1, 1), True, False, "f32"),
    ("pool_asym_ceil_incl", (1, 2, 7, 6), (3, 2), (2, 2), (1, 0, 1, 1), True, True, "f32"),
    # The last ceil_mode window runs past the bottom padding (clipped before counting).
    ("pool_ceil_past_pad_incl", (1, 1, 6, 5), (3, 3), (2, 2), (1, 1, 1, 0), True, True, "f32"),
    ("pool_ceil_no_pad", (2, 1, 5, 8), (2, 3), (2, 3), (0, 0, 0, 0), True, False, "f32"),
    # ceil_mode would add a window starting in the trailing padding; it is dropped.
    ("pool_ceil_drops_last", (1, 1, 5, 5), (2, 2), (2, 2), (1, 1, 1, 1), True, True, "f32"),
    ("pool_nonsquare_stride", (1, 3, 8, 5), (2, 3), (3, 1), (1, 2, 0, 1), False, True, "f32"),
    # Inputs exactly representable in f16 / bf16; the tests run them in that dtype.
    ("pool_asym_ceil_f16", (1, 2, 7, 6), (3, 2), (2, 2), (1, 0, 1, 1), True, False, "f16"),
    ("pool_asym_ceil_bf16", (1, 2, 7, 6), (3, 2), (2, 2), (1, 0, 1, 1), True, True, "bf16"),
]


def generate_pool_cases():
    for name, x_shape, kernel, strides, pads, ceil_mode, include_pad, precision in POOL_CASES:
        x = random_values(x_shape, precision)
        y_shape = pool_shape(x_shape, kernel, strides, pads, ceil_mode)
        dy = random_values(y_shape, precision)

        def max_op(v):
            return max_pool(v, kernel, strides, pads, ceil_mode)

        def avg_op(v):
            return avg_pool(v, kernel, strides, pads, ceil_mode, include_pad)

        # Random inputs have no ties, and eps is far below the gaps between values, so
        # the max pool is locally linear and central differences are exact up to rounding.
        max_dx = checked_gradient(name + " max dx", max_pool_grad(x, dy, kernel, strides, pads, ceil_mode),
                                  numerical_gradient(max_op, x, dy, 1e-6))
        avg_dx = checked_gradient(name + " avg dx", adjoint_gradient(avg_op, x_shape, dy),
                                  numerical_gradient(avg_op, x, dy, 1e-3))
        attrs = np.array([*kernel, *strides, *pads, ceil_mode, include_pad], dtype=np.int64)
        save(name, attrs=attrs, x=x.astype(np.float32), dy=dy.astype(np.float32),
             max_y=max_op(x), max_dx=max_dx, avg_y=avg_op(x), avg_dx=avg_dx)


# ---- layout, gather, scatter ----------------------------------------------------------


def random_ints(shape, dtype=np.float32):
    """Small integers (exact in every dtype, so sums are exact too)."""
    return rng.integers(-9, 10, size=shape).astype(dtype)


def slice_reference(x, start, stop, step):
    """out[i] = x[start + i*step] per dimension (docs/ops.md), by explicit index lists."""
    index_lists = []
    for b, e, s in zip(start, stop, step):
        extent = max(0, -(-(e - b) // s))  # ceil((e - b) / s)
        index_lists.append(b + s * np.arange(extent))
    return x[np.ix_(*index_lists)]


def scatter_add_reference(x, indices, updates, axis):
    """x with updates[o, k, i] added at x[o, indices[k], i], one update at a time."""
    out = x.copy()
    outer = int(np.prod(x.shape[:axis]))
    inner = int(np.prod(x.shape[axis + 1:]))
    flat_out = out.reshape(outer, x.shape[axis], inner)
    flat_idx = indices.reshape(-1)
    flat_upd = updates.reshape(outer, flat_idx.size, inner)
    for o in range(outer):
        for k, index in enumerate(flat_idx):
            flat_out[o, index, :] += flat_upd[o, k, :]
    return out


def generate_layout_cases():
    x = random_ints((2, 3, 4, 5))
    save("transpose", x=x, out=np.transpose(x, (2, 0, 3, 1)))

    x = random_ints((3, 1, 4))
    save("broadcast_to", x=x, out=np.broadcast_to(x, (2, 3, 5, 4)))

    # Mixed positive and negative steps; stop = -1 runs down to index 0 inclusive.
    x = random_ints((5, 6, 7))
    start, stop, step = (4, 1, 6), (-1, 6, 0), (-2, 2, -3)
    out = slice_reference(x, start, stop, step)
    assert np.array_equal(out, x[4::-2, 1:6:2, 6:0:-3])  # numpy's own slicing agrees
    save("slice_negative_steps", x=x, out=out)

    x = random_ints((2, 3, 4))
    save("pad", x=x, out=np.pad(x, ((1, 0), (0, 3), (2, 1)), constant_values=2.5))

    parts = [random_ints((2, n, 3)) for n in (1, 4, 2)]
    save("concat", x0=parts[0], x1=parts[1], x2=parts[2], out=np.concatenate(parts, axis=1))

    x = random_ints((3, 5, 2))
    indices = np.array([[0, 4, -1], [-5, 2, 2]], dtype=np.int64)
    save("gather_axis1", x=x, indices=indices, out=np.take(x, indices, axis=1))

    x = random_ints((2, 4, 3))
    indices = np.array([[1, -1, 1], [0, 3, -4]], dtype=np.int32)  # -1 is 3, -4 is 0
    updates = random_ints((2, 2, 3, 3))
    save("scatter_add_axis1", x=x, indices=indices, updates=updates,
         out=scatter_add_reference(x, indices % 4, updates, axis=1))

    indices = np.array([[0, 3, -1], [-4, 4, -5]], dtype=np.int64)
    depth = 4
    wrapped = np.where(indices < 0, indices + depth, indices)
    out = (wrapped[..., None] == np.arange(depth)).astype(np.float32)  # out of range: no match
    save("one_hot", indices=indices, out=out)


def main():
    shutil.rmtree(OUT_DIR, ignore_errors=True)
    generate_conv_cases()
    generate_pool_cases()
    generate_layout_cases()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(OUT_DIR) for f in files)
    print(f"wrote {OUT_DIR} ({total} bytes)")


if __name__ == "__main__":
    main()
