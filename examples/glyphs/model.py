"""A custom model for the glyphs example: autotune calls ``build`` with the sampled parameters.

``params`` holds this model's own parameters from the spec (``width``, ``depth``, ``dropout``);
the trainer's (``lr``, ``batch_size``, ``optimizer``, …) stay with autotune.
"""

from torch import nn


def build(params: dict, input_shape: tuple, n_outputs: int) -> nn.Module:
    channels, height, width = input_shape
    layers: list[nn.Module] = []
    c_in, c_out = channels, params["width"]
    for _ in range(params["depth"]):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
        c_in, c_out = c_out, c_out * 2
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(params["dropout"]), nn.Linear(c_in, n_outputs)
    )
