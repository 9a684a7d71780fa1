#!/usr/bin/python3
"""Exports small PyTorch models with torch.onnx.export, with inputs and PyTorch's
outputs as .npy files, for tests/onnx/test_torch_models.cpp.

Run with Debian's python3-torch (1.13; the python `onnx` package is not needed):

    /usr/bin/python3 tests/data/onnx_torch/export_models.py [OUT_DIR]

OUT_DIR defaults to this script's directory. Everything is seeded and runs on one
thread, so a re-run writes the same weights, inputs and outputs.

Files, per case:
  <model>.onnx                  the exported model
  <case>.input.<name>.npy       a graph input, by its ONNX name
  <case>.output.<name>.npy      PyTorch's value of a graph output, by its ONNX name
A case is the model's name, except for the models with a free batch dimension, which
have two cases each: cnn_bn.batch2, cnn_bn.batch3, resnet_block.batch2 and
resnet_block.batch5.
"""

import os
import sys

import numpy as np
import torch
from torch import nn

OPSET = 14
SEED = 20240612

torch.manual_seed(SEED)
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 32)
        self.fc2 = nn.Linear(32, 16)
        self.fc3 = nn.Linear(16, 4)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return torch.softmax(self.fc3(x), dim=-1)


class CnnBn(nn.Module):
    """conv + batch norm + relu + max pool + linear; the flatten goes through
    x.view(x.size(0), -1), which torch exports with a free batch dimension as
    Shape/Gather/Unsqueeze/Concat/Reshape."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(6 * 4 * 4, 5)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv(x))))
        return self.fc(x.view(x.size(0), -1))


class ResidualBlock(nn.Module):
    """A ResNet basic block: conv-BN-relu-conv-BN, identity skip, relu."""

    def __init__(self, channels=4):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + x)


class Lstm(nn.Module):
    """nn.LSTM (2 layers, sequence-first) with given initial states."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=8, hidden_size=16, num_layers=2)

    def forward(self, x, h0, c0):
        return self.lstm(x, (h0, c0))


def warm_up_batch_norm(model, input_shape, steps=4):
    """Training-mode forward passes on shifted, scaled data give the batch norm layers
    running statistics far from the initial mean 0 / variance 1; random affine
    parameters make the scale and shift non-trivial too."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.5
            with torch.no_grad():
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(torch.randn(*input_shape) * 2.0 + 0.7)
    model.eval()


def save_npy(out_dir, case, kind, names, tensors):
    for name, tensor in zip(names, tensors):
        array = tensor.detach().numpy().astype(np.float32)
        np.save(os.path.join(out_dir, f"{case}.{kind}.{name}.npy"), np.ascontiguousarray(array))


def export(out_dir, name, model, inputs, input_names, output_names, dynamic_axes=None, **kwargs):
    model.eval()
    torch.onnx.export(model, inputs, os.path.join(out_dir, name + ".onnx"),
                      input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=OPSET, **kwargs)


def run_case(out_dir, case, model, inputs, input_names, output_names):
    with torch.no_grad():
        outputs = model(*inputs)
    if isinstance(outputs, torch.Tensor):
        outputs = (outputs,)
    else:  # nn.LSTM returns (y, (h_n, c_n))
        flat = []
        for o in outputs:
            flat.extend(o if isinstance(o, tuple) else (o,))
        outputs = flat
    save_npy(out_dir, case, "input", input_names, inputs)
    save_npy(out_dir, case, "output", output_names, outputs)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)

    mlp = Mlp().eval()
    x = torch.randn(3, 12)
    export(out_dir, "mlp", mlp, (x,), ["x"], ["y"])
    run_case(out_dir, "mlp", mlp, (x,), ["x"], ["y"])

    # The batch norm node is kept (TrainingMode.PRESERVE on an eval-mode model) so the
    # importer's BatchNormalization is exercised; the default export would fold it into
    # the convolution, as it does for resnet_block below.
    cnn = CnnBn()
    warm_up_batch_norm(cnn, (8, 3, 8, 8))
    x = torch.randn(2, 3, 8, 8)
    export(out_dir, "cnn_bn", cnn, (x,), ["x"], ["y"],
           dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
           training=torch.onnx.TrainingMode.PRESERVE)
    run_case(out_dir, "cnn_bn.batch2", cnn, (x,), ["x"], ["y"])
    run_case(out_dir, "cnn_bn.batch3", cnn, (torch.randn(3, 3, 8, 8),), ["x"], ["y"])

    block = ResidualBlock()
    warm_up_batch_norm(block, (8, 4, 6, 6))
    x = torch.randn(2, 4, 6, 6)
    export(out_dir, "resnet_block", block, (x,), ["x"], ["y"],
           dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    run_case(out_dir, "resnet_block.batch2", block, (x,), ["x"], ["y"])
    run_case(out_dir, "resnet_block.batch5", block, (torch.randn(5, 4, 6, 6),), ["x"], ["y"])

    lstm = Lstm().eval()
    seq, batch = 5, 3
    x = torch.randn(seq, batch, 8)
    h0 = torch.randn(2, batch, 16) * 0.5
    c0 = torch.randn(2, batch, 16) * 0.5
    export(out_dir, "lstm", lstm, (x, h0, c0), ["x", "h0", "c0"], ["y", "h_n", "c_n"])
    run_case(out_dir, "lstm", lstm, (x, h0, c0), ["x", "h0", "c0"], ["y", "h_n", "c_n"])


if __name__ == "__main__":
    main()
