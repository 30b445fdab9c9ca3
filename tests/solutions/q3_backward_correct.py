"""A correct backward pass for worksheet question 3 (1-D givens arrive as (n,) tensors)."""
import torch


def backward(x, t, W, b):
    z = W @ x + b
    y = torch.sigmoid(z)
    dy = y - t                       # ∂L/∂y
    delta = dy * y * (1 - y)         # δ = ∂L/∂z
    return {"y": dy, "z": delta, "W": torch.outer(delta, x), "b": delta}
