"""Shared by the Python peers: the timing protocol and result lines of bench/timing.h.

Protocol: `warmup` untimed runs, then timed runs until at least `min_runs` runs and
`min_seconds` of timed work (at most `max_runs`), each timed on its own with
time.perf_counter. One JSON object per line on stdout; progress goes to stderr.
"""

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass

# The case names shared with loom-bench (bench/loom_cases.cpp), in report order.
CASES = [
    "sgemm_1024",
    "sgemm_2048",
    "elementwise",
    "mlp_inference",
    "mlp_train",
    "lenet_train",
    "lstm_train",
    "resnet_conv_train",
]

# Shapes shared by every suite (bench/README.md).
SGEMM_SIZES = {"sgemm_1024": 1024, "sgemm_2048": 2048}
ELEMENTWISE_SIZE = 1 << 24
ELEMENTWISE_A, ELEMENTWISE_B, ELEMENTWISE_C = 0.5, 0.25, 2.0
MLP_BATCH, MLP_IN, MLP_HIDDEN, CLASSES = 256, 784, 1024, 10
LENET_BATCH, IMAGE_SIDE = 64, 28
LSTM_BATCH, LSTM_STEPS, LSTM_INPUT, LSTM_HIDDEN = 64, 32, 128, 256
RESNET_BATCH, RESNET_CHANNELS, RESNET_SIDE = 8, 64, 56
LEARNING_RATE = 0.01


@dataclass
class TimingPolicy:
    warmup: int = 3
    min_runs: int = 10
    max_runs: int = 200
    min_seconds: float = 1.0


def quantile(sorted_samples, q):
    """The q-quantile of sorted samples, interpolating linearly (as bench/timing.h)."""
    if not sorted_samples:
        return 0.0
    position = q * (len(sorted_samples) - 1)
    below = math.floor(position)
    above = min(below + 1, len(sorted_samples) - 1)
    fraction = position - below
    return sorted_samples[below] + fraction * (sorted_samples[above] - sorted_samples[below])


def time_runs(body, policy):
    """Runs body() under `policy`; returns the timing fields of a result line."""
    for _ in range(policy.warmup):
        body()
    samples = []
    total = 0.0
    while len(samples) < policy.max_runs and (
        len(samples) < policy.min_runs or total < policy.min_seconds * 1000.0
    ):
        start = time.perf_counter()
        body()
        samples.append((time.perf_counter() - start) * 1000.0)
        total += samples[-1]
    samples.sort()
    return {
        "runs": len(samples),
        "median_ms": quantile(samples, 0.5),
        "min_ms": samples[0],
        "max_ms": samples[-1],
        "q1_ms": quantile(samples, 0.25),
        "q3_ms": quantile(samples, 0.75),
    }


def emit(line):
    print(json.dumps(line), flush=True)


def log(message):
    print(message, file=sys.stderr, flush=True)


def parse_args(description, configs):
    """Command line shared by the peers: --config, --cases, timing knobs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", choices=configs, default=configs[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--min-seconds", type=float, default=TimingPolicy.min_seconds)
    parser.add_argument("--min-runs", type=int, default=TimingPolicy.min_runs)
    parser.add_argument("--warmup", type=int, default=TimingPolicy.warmup)
    args = parser.parse_args()
    args.cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; known: {CASES}")
    args.policy = TimingPolicy(
        warmup=args.warmup, min_runs=args.min_runs, min_seconds=args.min_seconds
    )
    return args


def run_suite(suite, config, threads, cases, prepare, policy, extra=None):
    """For each case: prepare(case) -> (run_once, compile_ms or None); time it; emit a line.

    A failing case becomes a line with "error", so the report shows it instead of a gap.
    """
    for case in cases:
        log(f"{suite}: {case} ({config})")
        line = {"suite": suite, "case": case, "config": config, "threads": threads}
        line.update(extra or {})
        try:
            run_once, compile_ms = prepare(case)
            line.update(time_runs(run_once, policy))
            if compile_ms is not None:
                line["compile_ms"] = compile_ms
        except Exception as error:  # reported in RESULTS.md rather than aborting the run
            log(f"{suite}: {case} failed: {error!r}")
            line["error"] = repr(error)
        emit(line)
