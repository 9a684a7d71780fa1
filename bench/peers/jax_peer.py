"""JAX/XLA (CPU, jit) on the benchmark's cases.

Run with the benchmark's virtualenv (bench/setup.sh creates it):
  bench/.venv/bin/python bench/peers/jax_peer.py --config C
Configurations, fixed per process because XLA reads XLA_FLAGS when it starts:
  default    XLA as installed (its intra-op thread pool spans every core)
  threads=1  XLA's Eigen thread pool off, one intra-op thread
Every function is jitted; a call is timed up to block_until_ready (or reading the loss
back, for training steps). compile_ms is the wall time of jit(...).lower(...).compile():
tracing, lowering to HLO and XLA's compilation. Training steps donate the parameters,
so XLA may update them in place, as loom's Trainer does.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

CONFIGS = ["default", "threads=1"]
XLA_FLAGS = {
    "default": "",
    "threads=1": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}

args = common.parse_args("JAX/XLA peer of loom-bench", CONFIGS)
if XLA_FLAGS[args.config]:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + XLA_FLAGS[args.config]).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

RNG = np.random.default_rng(42)


def random_uniform(shape, low=-1.0, high=1.0):
    return jnp.asarray(RNG.uniform(low, high, size=shape).astype(np.float32))


def random_labels(batch):
    return jnp.asarray(RNG.integers(0, common.CLASSES, size=batch).astype(np.int32))


def glorot(fan_in, fan_out, shape):
    limit = (6.0 / (fan_in + fan_out)) ** 0.5
    return random_uniform(shape, -limit, limit)


def compile_timed(fn, *example_args, donate_argnums=()):
    """(compiled function, compile milliseconds) for fn at the example arguments' shapes."""
    start = time.perf_counter()
    compiled = jax.jit(fn, donate_argnums=donate_argnums).lower(*example_args).compile()
    return compiled, (time.perf_counter() - start) * 1000.0


def call_case(fn, *inputs):
    compiled, compile_ms = compile_timed(fn, *inputs)
    return (lambda: compiled(*inputs).block_until_ready()), compile_ms


def training_case(loss_fn, params, *batch):
    """One SGD step per call: value_and_grad, parameter update, loss read back."""

    def step(params, *batch):
        loss, grads = jax.value_and_grad(loss_fn)(params, *batch)
        updated = jax.tree_util.tree_map(lambda p, g: p - common.LEARNING_RATE * g, params, grads)
        return updated, loss

    compiled, compile_ms = compile_timed(step, params, *batch, donate_argnums=(0,))
    state = {"params": params}

    def run():
        state["params"], loss = compiled(state["params"], *batch)
        return float(loss)

    return run, compile_ms


def cross_entropy(logits, labels):
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=-1))


# --- Models (the same computations as bench/loom_cases.cpp) ---------------------------


def dense(params, name, x):
    return x @ params[name + ".weight"] + params[name + ".bias"]


def dense_params(params, name, fan_in, fan_out):
    params[name + ".weight"] = glorot(fan_in, fan_out, (fan_in, fan_out))
    params[name + ".bias"] = jnp.zeros((fan_out,), jnp.float32)


def mlp_params():
    params = {}
    dense_params(params, "fc1", common.MLP_IN, common.MLP_HIDDEN)
    dense_params(params, "fc2", common.MLP_HIDDEN, common.MLP_HIDDEN)
    dense_params(params, "fc3", common.MLP_HIDDEN, common.CLASSES)
    return params


def mlp_logits(params, x):
    h = jax.nn.relu(dense(params, "fc1", x))
    h = jax.nn.relu(dense(params, "fc2", h))
    return dense(params, "fc3", h)


def lenet_params():
    params = {
        "conv1.weight": glorot(25, 150, (6, 1, 5, 5)),
        "conv1.bias": jnp.zeros((6,), jnp.float32),
        "conv2.weight": glorot(150, 400, (16, 6, 5, 5)),
        "conv2.bias": jnp.zeros((16,), jnp.float32),
    }
    dense_params(params, "fc1", 400, 120)
    dense_params(params, "fc2", 120, 84)
    dense_params(params, "fc3", 84, common.CLASSES)
    return params


def conv(params, name, x, padding):
    y = lax.conv_general_dilated(
        x,
        params[name + ".weight"],
        window_strides=(1, 1),
        padding=padding,
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
    )
    return y + params[name + ".bias"][None, :, None, None]


def max_pool_2x2(x):
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def lenet_logits(params, images):
    x = max_pool_2x2(jax.nn.relu(conv(params, "conv1", images, ((2, 2), (2, 2)))))
    x = max_pool_2x2(jax.nn.relu(conv(params, "conv2", x, ((0, 0), (0, 0)))))
    x = x.reshape(x.shape[0], -1)
    h = jax.nn.relu(dense(params, "fc1", x))
    h = jax.nn.relu(dense(params, "fc2", h))
    return dense(params, "fc3", h)


def lstm_params():
    limit = common.LSTM_HIDDEN**-0.5
    gates = 4 * common.LSTM_HIDDEN
    return {
        "w_ih": random_uniform((common.LSTM_INPUT, gates), -limit, limit),
        "w_hh": random_uniform((common.LSTM_HIDDEN, gates), -limit, limit),
        "bias": random_uniform((gates,), -limit, limit),
    }


def lstm_loss(params, x, target):
    """PyTorch's LSTMCell equations, scanned over time; MSE of the final hidden state."""

    def cell(carry, x_t):
        h, c = carry
        gates = x_t @ params["w_ih"] + h @ params["w_hh"] + params["bias"]
        i, f, g, o = jnp.split(gates, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), None

    zeros = jnp.zeros((x.shape[0], common.LSTM_HIDDEN), jnp.float32)
    (h, _), _ = lax.scan(cell, (zeros, zeros), jnp.swapaxes(x, 0, 1))
    return jnp.mean((h - target) ** 2)


def resnet_conv_params():
    c = common.RESNET_CHANNELS
    return {"conv.weight": glorot(9 * c, 9 * c, (c, c, 3, 3)), "conv.bias": jnp.zeros((c,), jnp.float32)}


def resnet_conv_loss(params, x, target):
    return jnp.mean((jax.nn.relu(conv(params, "conv", x, ((1, 1), (1, 1)))) - target) ** 2)


# --- Cases -------------------------------------------------------------------------------


def prepare(case):
    if case in common.SGEMM_SIZES:
        n = common.SGEMM_SIZES[case]
        return call_case(jnp.matmul, random_uniform((n, n)), random_uniform((n, n)))
    if case == "elementwise":
        scalars = [
            jnp.float32(v) for v in (common.ELEMENTWISE_A, common.ELEMENTWISE_B, common.ELEMENTWISE_C)
        ]
        x = random_uniform((common.ELEMENTWISE_SIZE,), -4.0, 4.0)
        return call_case(lambda x, a, b, c: jnp.tanh(x * a + b) * c + x, x, *scalars)
    if case == "mlp_inference":
        x = random_uniform((common.MLP_BATCH, common.MLP_IN), 0.0, 1.0)
        return call_case(mlp_logits, mlp_params(), x)
    if case == "mlp_train":
        x = random_uniform((common.MLP_BATCH, common.MLP_IN), 0.0, 1.0)
        labels = random_labels(common.MLP_BATCH)
        return training_case(lambda p, x, y: cross_entropy(mlp_logits(p, x), y), mlp_params(), x, labels)
    if case == "lenet_train":
        shape = (common.LENET_BATCH, 1, common.IMAGE_SIDE, common.IMAGE_SIDE)
        images = random_uniform(shape, 0.0, 1.0)
        labels = random_labels(common.LENET_BATCH)
        return training_case(
            lambda p, x, y: cross_entropy(lenet_logits(p, x), y), lenet_params(), images, labels
        )
    if case == "lstm_train":
        x = random_uniform((common.LSTM_BATCH, common.LSTM_STEPS, common.LSTM_INPUT))
        target = random_uniform((common.LSTM_BATCH, common.LSTM_HIDDEN), -0.5, 0.5)
        return training_case(lstm_loss, lstm_params(), x, target)
    if case == "resnet_conv_train":
        shape = (common.RESNET_BATCH, common.RESNET_CHANNELS, common.RESNET_SIDE, common.RESNET_SIDE)
        x = random_uniform(shape)
        target = random_uniform(shape, 0.0, 1.0)
        return training_case(resnet_conv_loss, resnet_conv_params(), x, target)
    raise ValueError(f"unknown case {case}")


def main():
    threads = 1 if args.config == "threads=1" else os.cpu_count()
    common.run_suite(
        "jax",
        args.config,
        threads,
        args.cases,
        prepare,
        args.policy,
        extra={"version": jax.__version__},
    )


if __name__ == "__main__":
    main()
