#!/usr/bin/python3
"""Generates tests/data/interp/: numpy references for the interpreter's source,
elementwise, reduction and matmul kernels (tests/interp/test_{elementwise,reduction,
matmul,random,iota_constant}.cpp).

The references follow docs/ops.md and never look at loom's C++: transcendental
functions are evaluated in float64 (Python's math.erf for erf) and rounded once to the
case's dtype; integer semantics (truncating division, wrapping, saturating casts) are
computed with Python integers; the Philox-4x32-10 generator is reimplemented here and
checked against the Random123 known-answer vectors.

Run with the system python (it has numpy):  /usr/bin/python3 tests/data/gen_interp_refs.py

Layout: one directory per case, named "<op mnemonic>__<tag>", holding
  x0.npy, x1.npy, ...  the operands, in order
  out.npy              the expected result
  attr_<name>.npy      attributes: a 1-d int64 array is an int list, an int64 scalar an
                       int, a bool scalar a bool. `cast` takes its dtype from out.npy.
The tests run every case directory whose op belongs to their family, so a new case
only needs a new save_case() call here. random/ holds pinned Philox values instead: for each seed of seeds.npy and element
index of indices.npy, <uniform|normal>_<dtype>.npy[seed, index] (as float64), and the raw
words of one element whose index needs the counter's high word.
"""

import math
import os
import shutil

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interp")
rng = np.random.default_rng(20240612)

INT_RANGES = {np.int8: (-2**7, 2**7 - 1), np.int32: (-2**31, 2**31 - 1),
              np.int64: (-2**63, 2**63 - 1)}


def save_case(op, tag, inputs, out, **attrs):
    directory = os.path.join(OUT_DIR, f"{op}__{tag}")
    os.makedirs(directory)  # fails on a duplicate case name
    for i, x in enumerate(inputs):
        np.save(os.path.join(directory, f"x{i}.npy"), np.array(x, order="C"))  # C order, 0-d kept
    np.save(os.path.join(directory, "out.npy"), np.array(out, order="C"))
    for name, value in attrs.items():
        if isinstance(value, bool):
            array = np.array(value, dtype=np.bool_)
        elif isinstance(value, int):
            array = np.array(value, dtype=np.int64)
        else:
            array = np.array(list(value), dtype=np.int64).reshape(-1)
        np.save(os.path.join(directory, f"attr_{name}.npy"), array)


def uniform(lo, hi, shape, dtype):
    """Values drawn in [lo, hi) and rounded to dtype."""
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def round_to(values_f64, dtype):
    """Round float64 results once to dtype (numpy's f64 -> f16 rounds directly)."""
    return np.asarray(values_f64, dtype=np.float64).astype(dtype)


FLOAT_DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16}
INT_DTYPES = {"i8": np.int8, "i32": np.int32, "i64": np.int64}

# ---- unary ------------------------------------------------------------------------------

FLOAT_UNARY = {
    # op: (reference on float64, input range)
    "exp": (np.exp, (-4, 4)),
    "log": (np.log, (0.05, 6)),
    "sqrt": (np.sqrt, (0, 9)),
    "rsqrt": (lambda x: 1 / np.sqrt(x), (0.05, 9)),
    "tanh": (np.tanh, (-4, 4)),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), (-12, 12)),
    "sin": (np.sin, (-6, 6)),
    "cos": (np.cos, (-6, 6)),
    "erf": (np.vectorize(math.erf), (-3, 3)),
    "floor": (np.floor, (-4, 4)),
    "ceil": (np.ceil, (-4, 4)),
}


def generate_float_unary():
    for op, (reference, (lo, hi)) in FLOAT_UNARY.items():
        for tag, dtype in FLOAT_DTYPES.items():
            x = uniform(lo, hi, (3, 5), dtype)
            save_case(op, tag, [x], round_to(reference(x.astype(np.float64)), dtype))
    # Special values: exact integers for floor/ceil, sigmoid far out (must not overflow),
    # exp overflow to inf and underflow to 0, log of 0 and of negatives.
    x = np.array([-2.0, -1.5, -0.5, 0.0, 0.5, 1.5, 2.0, 1e9], dtype=np.float32)
    save_case("floor", "f32_special", [x], np.floor(x))
    save_case("ceil", "f32_special", [x], np.ceil(x))
    x = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0])
    with np.errstate(over="ignore"):  # exp(1000) = inf gives sigmoid(-1000) = 0 exactly
        save_case("sigmoid", "f64_extremes", [x], 1 / (1 + np.exp(-x)))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = np.array([-200.0, 0.0, 100.0, np.inf, -np.inf, np.nan], dtype=np.float32)
        save_case("exp", "f32_special", [x], round_to(np.exp(x.astype(np.float64)), np.float32))
        x = np.array([0.0, -1.0, 1.0, np.inf, np.nan], dtype=np.float32)
        save_case("log", "f32_special", [x], np.log(x))


def wrapping_neg(values, dtype):
    lo, hi = INT_RANGES[dtype]
    span = hi - lo + 1
    return np.array([((-int(v) - lo) % span) + lo for v in values.reshape(-1)],
                    dtype=dtype).reshape(values.shape)


def generate_numeric_unary():
    for tag, dtype in FLOAT_DTYPES.items():
        x = np.array([[-2.5, -1.0, -0.0, 0.0], [0.25, 3.0, np.nan, -np.inf]], dtype=dtype)
        save_case("neg", tag, [x], -x)
        save_case("abs", tag, [x], np.abs(x))
        save_case("sign", tag, [x], np.sign(x))
        save_case("relu", tag, [x], np.maximum(x, dtype(0)))
    for tag, dtype in INT_DTYPES.items():
        lo, hi = INT_RANGES[dtype]
        x = np.array([[lo, lo + 1, -7, -1], [0, 1, 9, hi]], dtype=dtype)
        save_case("neg", tag, [x], wrapping_neg(x, dtype))  # -lo wraps to lo
        save_case("abs", tag, [x], np.where(x < 0, wrapping_neg(x, dtype), x))
        save_case("sign", tag, [x], np.sign(x))
        save_case("relu", tag, [x], np.maximum(x, dtype(0)))
    x = np.array([[True, False], [False, True]])
    save_case("logical_not", "bool", [x], np.logical_not(x))


# ---- binary -----------------------------------------------------------------------------

A_SHAPE, B_SHAPE = (2, 1, 4), (3, 1)  # broadcast to (2, 3, 4)


def truncating_div(a, b, dtype):
    lo, hi = INT_RANGES[dtype]
    span = hi - lo + 1
    out = []
    for x, y in zip(a.reshape(-1).tolist(), b.reshape(-1).tolist()):
        q = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
        out.append(((q - lo) % span) + lo)
    return np.array(out, dtype=dtype).reshape(a.shape)


def integer_pow(a, b, dtype):
    lo, hi = INT_RANGES[dtype]
    span = hi - lo + 1
    out = [((x ** y - lo) % span) + lo for x, y in zip(a.reshape(-1).tolist(), b.reshape(-1).tolist())]
    return np.array(out, dtype=dtype).reshape(a.shape)


def generate_arithmetic():
    for tag, dtype in FLOAT_DTYPES.items():
        a, b = uniform(-3, 3, A_SHAPE, dtype), uniform(-3, 3, B_SHAPE, dtype)
        a64, b64 = np.broadcast_arrays(a.astype(np.float64), b.astype(np.float64))
        save_case("add", tag, [a, b], round_to(a64 + b64, dtype))
        save_case("sub", tag, [a, b], round_to(a64 - b64, dtype))
        save_case("mul", tag, [a, b], round_to(a64 * b64, dtype))
        save_case("div", tag, [a, b], round_to(a64 / b64, dtype))
        base = uniform(0.1, 3, A_SHAPE, dtype)
        save_case("pow", tag, [base, b], round_to(base.astype(np.float64) ** b64, dtype))
        a_nan = a.copy()
        a_nan[0, 0, 1] = np.nan
        save_case("maximum", tag, [a_nan, b], np.maximum(a_nan, b))
        save_case("minimum", tag, [a_nan, b], np.minimum(a_nan, b))
    for tag, dtype in INT_DTYPES.items():
        lo, hi = INT_RANGES[dtype]
        a = rng.integers(-100, 100, A_SHAPE).astype(dtype)
        b = rng.integers(-9, 9, B_SHAPE).astype(dtype)
        b[b == 0] = 3
        a.flat[:3] = [lo, hi, -7]  # wrapping and truncation toward zero
        b.flat[0] = -1  # lo / -1 wraps to lo
        a64, b64 = (np.array(v, dtype=object) for v in np.broadcast_arrays(a, b))
        wrap = lambda v: np.array([((int(x) - lo) % (hi - lo + 1)) + lo for x in v.reshape(-1)],
                                  dtype=dtype).reshape(v.shape)
        save_case("add", tag, [a, b], wrap(a64 + b64))
        save_case("sub", tag, [a, b], wrap(a64 - b64))
        save_case("mul", tag, [a, b], wrap(a64 * b64))
        save_case("div", tag, [a, b], truncating_div(*np.broadcast_arrays(a, b), dtype))
        save_case("maximum", tag, [a, b], np.maximum(a, b))
        save_case("minimum", tag, [a, b], np.minimum(a, b))
        base = rng.integers(-5, 6, A_SHAPE).astype(dtype)
        exponent = rng.integers(0, 7, B_SHAPE).astype(dtype)
        exponent.flat[0] = 0
        save_case("pow", tag, [base, exponent], integer_pow(*np.broadcast_arrays(base, exponent), dtype))
    # Integer pow with negative exponents is defined for bases 1 and -1 only.
    base = np.array([1, -1, -1, 1], dtype=np.int32)
    exponent = np.array([-3, -3, -2, -1], dtype=np.int32)
    save_case("pow", "i32_unit_base_negative_exponent", [base, exponent],
              np.array([1, -1, 1, 1], dtype=np.int32))
    # A scalar operand broadcasts against anything.
    a = np.array(2.5, dtype=np.float32)
    b = uniform(-3, 3, (2, 3), np.float32)
    save_case("sub", "f32_scalar_lhs", [a, b], round_to(2.5 - b.astype(np.float64), np.float32))
    save_case("mul", "f32_scalars", [a, a], np.array(6.25, dtype=np.float32))


def generate_comparisons():
    ops = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
           "gt": np.greater, "ge": np.greater_equal}
    a_f = np.array([[[1.0, 2.0, np.nan, -1.0]], [[0.5, -0.0, 3.0, np.inf]]], dtype=np.float32)
    b_f = np.array([[1.0], [0.0], [np.nan]], dtype=np.float32)
    a_i = np.array([[[1, 2, 3, -1]], [[0, -5, 3, 7]]], dtype=np.int32)
    b_i = np.array([[1], [3], [-5]], dtype=np.int32)
    a_b = np.array([[[True, False, True, False]], [[False, False, True, True]]])
    b_b = np.array([[True], [False], [True]])
    for op, fn in ops.items():
        with np.errstate(invalid="ignore"):
            save_case(op, "f32", [a_f, b_f], fn(a_f, b_f))
        save_case(op, "i32", [a_i, b_i], fn(a_i, b_i))
        save_case(op, "bool", [a_b, b_b], fn(a_b, b_b))
    save_case("logical_and", "bool", [a_b, b_b], np.logical_and(a_b, b_b))
    save_case("logical_or", "bool", [a_b, b_b], np.logical_or(a_b, b_b))


def generate_select():
    cond = rng.integers(0, 2, (2, 1, 4)).astype(np.bool_)
    for tag, dtype in {"f32": np.float32, "i64": np.int64, "bool": np.bool_}.items():
        a = rng.integers(-9, 9, (3, 1)).astype(dtype)
        b = rng.integers(-9, 9, (4,)).astype(dtype)
        save_case("select", tag, [cond, a, b], np.where(cond, a, b))
    a, b = uniform(0, 1, (2, 2), np.float64), uniform(0, 1, (2, 2), np.float64)
    save_case("select", "f64_scalar_cond", [np.array(False), a, b], b)


def saturating_int(values, dtype):
    """float -> int as docs/ops.md: truncate toward zero, saturate, NaN -> 0."""
    lo, hi = INT_RANGES[dtype]
    out = []
    for v in values.reshape(-1).tolist():
        if math.isnan(v):
            out.append(0)
        elif math.isinf(v):
            out.append(hi if v > 0 else lo)
        else:
            out.append(min(max(math.trunc(v), lo), hi))
    return np.array(out, dtype=dtype).reshape(values.shape)


def generate_casts():
    special = np.array([-3.7, -2.5, -0.5, 0.0, 0.5, 2.5, 3.7, 127.9, 128.0, -129.0, 3e9, -3e9,
                        1e20, np.inf, -np.inf, np.nan], dtype=np.float32)
    for tag, dtype in INT_DTYPES.items():
        save_case("cast", f"f32_to_{tag}", [special], saturating_int(special.astype(np.float64), dtype))
    special64 = special.astype(np.float64)
    special64[-5] = 2.0**63  # exactly one past i64's maximum
    save_case("cast", "f64_to_i64", [special64], saturating_int(special64, np.int64))
    save_case("cast", "f32_to_bool", [special], special != 0)
    save_case("cast", "f32_to_f64", [special], special.astype(np.float64))
    with np.errstate(over="ignore"):  # 3e9 and beyond become inf in f16
        save_case("cast", "f32_to_f16", [special], special.astype(np.float16))
    # f64 -> f16 rounds once: 1 + 2^-11 + 2^-40 is just above the tie between two f16
    # values, so it rounds up (going through f32 first would round down to 1).
    ties = np.array([1 + 2.0**-11 + 2.0**-40, 1 + 2.0**-11, 1 + 3 * 2.0**-11, 65520.0, 65519.99,
                     6e-8, -2.0**-25], dtype=np.float64)
    with np.errstate(over="ignore"):  # 65520 is the first value that rounds to inf
        save_case("cast", "f64_to_f16", [ties], ties.astype(np.float16))
    halves = uniform(-100, 100, (7,), np.float16)
    save_case("cast", "f16_to_f32", [halves], halves.astype(np.float32))
    save_case("cast", "f16_to_i32", [halves], saturating_int(halves.astype(np.float64), np.int32))
    ints = np.array([-2**31, -1, 0, 1, 2**24 + 1, 2**31 - 1], dtype=np.int32)
    save_case("cast", "i32_to_f32", [ints], ints.astype(np.float32))
    save_case("cast", "i32_to_f64", [ints], ints.astype(np.float64))
    save_case("cast", "i32_to_i8", [ints], ints.astype(np.int8))  # wraps (two's complement)
    save_case("cast", "i32_to_bool", [ints], ints != 0)
    wide = np.array([-2**63, -2**31 - 1, 2**31, 2**40 + 5, 2**63 - 1], dtype=np.int64)
    save_case("cast", "i64_to_i32", [wide], wide.astype(np.int32))
    bools = np.array([True, False, True])
    for tag, dtype in {"f32": np.float32, "i64": np.int64, "f16": np.float16}.items():
        save_case("cast", f"bool_to_{tag}", [bools], bools.astype(dtype))


# ---- reductions -------------------------------------------------------------------------

# (axes, keepdims)
REDUCE_AXES = [((), False), ((1,), False), ((0, 2), False), ((0, 2), True), ((0, 1, 2), False)]


def generate_reductions():
    ops = {"reduce_sum": np.sum, "reduce_prod": np.prod, "reduce_max": np.max, "reduce_min": np.min}
    inputs = {
        "f32": uniform(-2, 2, (2, 3, 4), np.float32),
        "f64": uniform(-2, 2, (2, 3, 4), np.float64),
        "f16": uniform(-2, 2, (2, 3, 4), np.float16),
        "i32": rng.integers(-5, 6, (2, 3, 4)).astype(np.int32),
        "i64": rng.integers(-5, 6, (2, 3, 4)).astype(np.int64),
    }
    for op, fn in ops.items():
        for tag, x in inputs.items():
            if tag not in ("f32", "i32") and op not in ("reduce_sum", "reduce_max"):
                continue
            for axes, keepdims in REDUCE_AXES:
                # Sums and products of floats in f64, rounded once.
                wide = x.astype(np.float64) if x.dtype.kind == "f" else x.astype(np.int64)
                out = fn(wide, axis=axes, keepdims=keepdims).astype(x.dtype)
                axes_tag = "".join(map(str, axes)) or "none"
                save_case(op, f"{tag}_axes{axes_tag}_{'keep' if keepdims else 'drop'}", [x], out,
                          axes=axes, keepdims=keepdims)
    # NaN propagates through max/min; an empty extent gives the identity.
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, -6.0]], dtype=np.float32)
    for op, fn in ops.items():
        save_case(op, "f32_nan", [x], fn(x, axis=1), axes=(1,), keepdims=False)
    empty = np.zeros((2, 0), dtype=np.float32)
    save_case("reduce_sum", "f32_empty", [empty], np.zeros(2, np.float32), axes=(1,), keepdims=False)
    save_case("reduce_prod", "f32_empty", [empty], np.ones(2, np.float32), axes=(1,), keepdims=False)
    save_case("reduce_max", "f32_empty", [empty], np.full(2, -np.inf, np.float32), axes=(1,), keepdims=False)
    save_case("reduce_min", "i32_empty", [empty.astype(np.int32)],
              np.full(2, 2**31 - 1, np.int32), axes=(1,), keepdims=False)
    # Integer sums wrap.
    big = np.array([2**31 - 1, 1, 5], dtype=np.int32)
    save_case("reduce_sum", "i32_wraps", [big], np.array(-2**31 + 5, dtype=np.int32), axes=(0,),
              keepdims=False)


def generate_arg_reductions():
    x = np.array([[[3, 1, 3, 0], [2, 2, 5, 5], [0, 7, 7, 1]],
                  [[-1, -1, -3, -3], [4, 0, 4, 9], [6, 6, 6, 6]]], dtype=np.int32)  # ties
    for tag, dtype in {"i32": np.int32, "f32": np.float32, "f64": np.float64, "i8": np.int8}.items():
        for axis in range(3):
            for keepdims in (False, True) if axis == 1 else (False,):
                suffix = f"{tag}_axis{axis}_{'keep' if keepdims else 'drop'}"
                for op, fn in {"argmax": np.argmax, "argmin": np.argmin}.items():
                    out = fn(x.astype(dtype), axis=axis, keepdims=keepdims).astype(np.int64)
                    save_case(op, suffix, [x.astype(dtype)], out, axis=axis, keepdims=keepdims)
    # The first NaN wins (numpy's rule too).
    x = np.array([[1.0, np.nan, 5.0, np.nan], [2.0, 9.0, 9.0, 0.0]], dtype=np.float32)
    for op, fn in {"argmax": np.argmax, "argmin": np.argmin}.items():
        save_case(op, "f32_nan", [x], fn(x, axis=1).astype(np.int64), axis=1, keepdims=False)


# ---- matmul -----------------------------------------------------------------------------

MATMUL_SHAPES = {
    "2d": ((3, 4), (4, 5)),
    "batched": ((2, 3, 4), (2, 4, 2)),
    "broadcast_batch": ((2, 1, 3, 4), (3, 4, 5)),
    "broadcast_lhs": ((3, 4), (2, 4, 3)),
    "k1": ((4, 1), (1, 3)),
}


def generate_matmul():
    for shape_tag, (sa, sb) in MATMUL_SHAPES.items():
        for tag, dtype in FLOAT_DTYPES.items():
            a, b = uniform(-1, 1, sa, dtype), uniform(-1, 1, sb, dtype)
            save_case("matmul", f"{tag}_{shape_tag}", [a, b],
                      round_to(np.matmul(a.astype(np.float64), b.astype(np.float64)), dtype))
        for tag, dtype in {"i32": np.int32, "i64": np.int64}.items():
            a = rng.integers(-20, 20, sa).astype(dtype)
            b = rng.integers(-20, 20, sb).astype(dtype)
            save_case("matmul", f"{tag}_{shape_tag}", [a, b], np.matmul(a, b))
    # int32 products accumulate in int64 and wrap once when stored.
    a = np.array([[2**20, 2**20]], dtype=np.int32)
    b = np.array([[2**12], [2**12]], dtype=np.int32)
    save_case("matmul", "i32_wraps", [a, b], np.array([[(2**33) % 2**32]], dtype=np.int64).astype(np.int32))
    save_case("matmul", "f32_empty_k", [np.zeros((2, 0), np.float32), np.zeros((0, 3), np.float32)],
              np.zeros((2, 3), np.float32))


# ---- iota -------------------------------------------------------------------------------


def generate_iota():
    for shape, axis, tag, dtype in [((4,), 0, "i32", np.int32), ((2, 3), 1, "f32", np.float32),
                                    ((2, 3, 2), 0, "i64", np.int64), ((3, 2), 0, "f16", np.float16),
                                    ((2, 0, 3), 2, "i8", np.int8)]:
        index = np.indices(shape)[axis]
        save_case("iota", f"{tag}_axis{axis}_{'x'.join(map(str, shape))}", [], index.astype(dtype),
                  shape=shape, axis=axis)


# ---- Philox random numbers ----------------------------------------------------------------

M32 = 0xFFFFFFFF


def philox4x32_10(counter, key):
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for round_index in range(10):
        if round_index:
            k0, k1 = (k0 + 0x9E3779B9) & M32, (k1 + 0xBB67AE85) & M32
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & M32, (p0 >> 32) ^ c3 ^ k1, p0 & M32
    return c0, c1, c2, c3


# Random123's known-answer vectors for philox4x32_10 (kat_vectors).
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((M32, M32, M32, M32), (M32, M32), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def words(seed, index):
    s = seed & 0xFFFFFFFFFFFFFFFF
    return philox4x32_10((index & M32, index >> 32, 0, 0), (s & M32, s >> 32))


def uniform24(r):
    return (r >> 8) * 2.0**-24


def uniform_value(r, tag):
    if tag == "f64":
        return (((r[0] << 21) ^ (r[1] >> 11)) * 2.0**-53)
    u = uniform24(r[0])
    if tag == "f32":
        return u
    if tag == "f16":  # rounded toward zero so that it stays below 1
        h = np.float16(u)
        return float(np.nextafter(h, np.float16(0)) if float(h) > u else h)
    if tag == "bf16":  # toward zero on a non-negative float: drop the low 16 bits
        bits = np.array([u], np.float32).view(np.uint32)[0] & 0xFFFF0000
        return float(np.array([bits], np.uint32).view(np.float32)[0])
    raise ValueError(tag)


def round_bf16(d):
    """d rounded once (nearest even) to bfloat16's 8 significant bits."""
    if d == 0:
        return 0.0
    m, e = math.frexp(d)
    return round(m * 2**8) * 2.0**(e - 8)


def normal_value(r, tag):
    d = math.sqrt(-2 * math.log(1 - uniform24(r[0]))) * math.cos(2 * math.pi * uniform24(r[1]))
    if tag == "f64":
        return d
    if tag == "bf16":
        return round_bf16(d)
    return float(np.float64(d).astype(FLOAT_DTYPES[tag]))


RANDOM_SEEDS = [0, 42, -7, 0x123456789AB]  # -7 and the last one use the seed's high word
RANDOM_INDICES = list(range(8)) + [17, 999]
HIGH_INDEX = 2**32 + 5  # exercises the counter's high word (too far to generate a tensor)


def generate_random():
    for counter, key, expected in PHILOX_KAT:
        assert philox4x32_10(counter, key) == expected, "Philox implementation is wrong"
    directory = os.path.join(OUT_DIR, "random")
    os.makedirs(directory)
    np.save(os.path.join(directory, "seeds.npy"), np.array(RANDOM_SEEDS, dtype=np.int64))
    np.save(os.path.join(directory, "indices.npy"), np.array(RANDOM_INDICES, dtype=np.int64))
    # [seed] -> the four Philox words of element HIGH_INDEX.
    np.save(os.path.join(directory, "high_index.npy"), np.array(HIGH_INDEX, dtype=np.int64))
    np.save(os.path.join(directory, "high_index_words.npy"),
            np.array([words(seed, HIGH_INDEX) for seed in RANDOM_SEEDS], dtype=np.int64))
    for tag in ("f32", "f64", "f16", "bf16"):
        # [seed, index] -> value, exactly representable in f64.
        for kind, fn in (("uniform", uniform_value), ("normal", normal_value)):
            table = np.array([[fn(words(seed, i), tag) for i in RANDOM_INDICES] for seed in RANDOM_SEEDS])
            np.save(os.path.join(directory, f"{kind}_{tag}.npy"), table)


def main():
    shutil.rmtree(OUT_DIR, ignore_errors=True)
    os.makedirs(OUT_DIR)
    generate_float_unary()
    generate_numeric_unary()
    generate_arithmetic()
    generate_comparisons()
    generate_select()
    generate_casts()
    generate_reductions()
    generate_arg_reductions()
    generate_matmul()
    generate_iota()
    generate_random()


if __name__ == "__main__":
    main()
