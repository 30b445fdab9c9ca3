"""A typical mistake: ∂L/∂y written as t − y, so every gradient has the wrong sign."""
import torch


def backward(x, t, W, b):
    z = W @ x + b
    y = torch.sigmoid(z)
    dy = t - y
    delta = dy * y * (1 - y)
    return {"y": dy, "z": delta, "W": torch.outer(delta, x), "b": delta}
