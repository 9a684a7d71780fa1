"""PyTorch (Debian python3-torch, CPU, eager) on the benchmark's cases.

Run with the system interpreter: /usr/bin/python3 bench/peers/torch_peer.py --config C.
A configuration is fixed per process because OpenMP and OpenBLAS read their settings
when torch is loaded (see /work/shared/DESIGN.md section 6):
  default           as installed (PyTorch's intra-op threads as it picks them)
  threads=1         one intra-op thread, and OpenBLAS and OpenMP limited to one thread
  threads=2         torch.set_num_threads(2), OpenMP's default (spinning) wait policy
  threads=2,passive torch.set_num_threads(2) with OMP_WAIT_POLICY=PASSIVE
bench/report.py takes the best of them per case. PyTorch has no compile step: no
compile time is reported.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

CONFIGS = ["default", "threads=1", "threads=2", "threads=2,passive"]
ENVIRONMENT = {
    "default": {},
    "threads=1": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    "threads=2": {},
    "threads=2,passive": {"OMP_WAIT_POLICY": "PASSIVE"},
}
INTRA_OP_THREADS = {"default": None, "threads=1": 1, "threads=2": 2, "threads=2,passive": 2}

args = common.parse_args("PyTorch peer of loom-bench", CONFIGS)
os.environ.update(ENVIRONMENT[args.config])  # before torch (and its OpenMP) loads

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

if INTRA_OP_THREADS[args.config] is not None:
    torch.set_num_threads(INTRA_OP_THREADS[args.config])
torch.manual_seed(42)


def random_uniform(shape, low=-1.0, high=1.0):
    return torch.empty(shape, dtype=torch.float32).uniform_(low, high)


def random_labels(batch):
    return torch.randint(0, common.CLASSES, (batch,), dtype=torch.int64)


def prepare_sgemm(n):
    a, b = random_uniform((n, n)), random_uniform((n, n))
    return lambda: torch.mm(a, b)


def prepare_elementwise():
    x = random_uniform((common.ELEMENTWISE_SIZE,), -4.0, 4.0)
    a, b, c = common.ELEMENTWISE_A, common.ELEMENTWISE_B, common.ELEMENTWISE_C
    return lambda: torch.tanh(x * a + b) * c + x


def mlp():
    return nn.Sequential(
        nn.Linear(common.MLP_IN, common.MLP_HIDDEN),
        nn.ReLU(),
        nn.Linear(common.MLP_HIDDEN, common.MLP_HIDDEN),
        nn.ReLU(),
        nn.Linear(common.MLP_HIDDEN, common.CLASSES),
    )


class LeNet5(nn.Module):
    """As bench/loom_cases.cpp: conv 1->6 5x5 pad 2, pool, conv 6->16 5x5, pool, 400-120-84-10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, common.CLASSES)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class LstmRegression(nn.Module):
    """LSTM over the sequence; the loss is the MSE of the final hidden state."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(common.LSTM_INPUT, common.LSTM_HIDDEN, batch_first=True)

    def forward(self, x, target):
        _, (h, _) = self.lstm(x)
        return F.mse_loss(h[-1], target)


class ResnetConv(nn.Module):
    """As bench/loom_cases.cpp: conv 64->64 3x3 pad 1 with bias, ReLU, MSE against a target."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(common.RESNET_CHANNELS, common.RESNET_CHANNELS, 3, padding=1)

    def forward(self, x, target):
        return F.mse_loss(F.relu(self.conv(x)), target)


def training_step(model, loss_of_model):
    """One step as loom's Trainer does it: forward, backward, SGD update, loss read back."""
    optimizer = torch.optim.SGD(model.parameters(), lr=common.LEARNING_RATE)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of_model(model)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def prepare_mlp_inference():
    model = mlp().eval()
    x = random_uniform((common.MLP_BATCH, common.MLP_IN), 0.0, 1.0)

    def run():
        with torch.no_grad():
            return model(x)

    return run


def prepare_mlp_train():
    x = random_uniform((common.MLP_BATCH, common.MLP_IN), 0.0, 1.0)
    labels = random_labels(common.MLP_BATCH)
    return training_step(mlp(), lambda m: F.cross_entropy(m(x), labels))


def prepare_lenet_train():
    images = random_uniform((common.LENET_BATCH, 1, common.IMAGE_SIDE, common.IMAGE_SIDE), 0.0, 1.0)
    labels = random_labels(common.LENET_BATCH)
    return training_step(LeNet5(), lambda m: F.cross_entropy(m(images), labels))


def prepare_lstm_train():
    x = random_uniform((common.LSTM_BATCH, common.LSTM_STEPS, common.LSTM_INPUT))
    target = random_uniform((common.LSTM_BATCH, common.LSTM_HIDDEN), -0.5, 0.5)
    return training_step(LstmRegression(), lambda m: m(x, target))


def prepare_resnet_conv_train():
    shape = (common.RESNET_BATCH, common.RESNET_CHANNELS, common.RESNET_SIDE, common.RESNET_SIDE)
    x = random_uniform(shape)
    target = random_uniform(shape, 0.0, 1.0)
    return training_step(ResnetConv(), lambda m: m(x, target))


def prepare(case):
    if case in common.SGEMM_SIZES:
        return prepare_sgemm(common.SGEMM_SIZES[case]), None
    builders = {
        "elementwise": prepare_elementwise,
        "mlp_inference": prepare_mlp_inference,
        "mlp_train": prepare_mlp_train,
        "lenet_train": prepare_lenet_train,
        "lstm_train": prepare_lstm_train,
        "resnet_conv_train": prepare_resnet_conv_train,
    }
    return builders[case](), None


def main():
    common.run_suite(
        "pytorch",
        args.config,
        torch.get_num_threads(),
        args.cases,
        prepare,
        args.policy,
        extra={"version": torch.__version__},
    )


if __name__ == "__main__":
    main()
