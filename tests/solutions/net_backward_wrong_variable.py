"""A typical mistake: the gradient passed down to H returned as ∂L/∂W2."""
import torch


def backward(X, T, W1, b1, W2, b2):
    Z1 = X @ W1 + b1
    H = torch.sigmoid(Z1)
    Y = H @ W2 + b2
    dY = Y - T                      # ∂L/∂Y
    dW2 = H.T @ dY
    db2 = dY.sum(dim=0)             # b2 is added to every row: sum over the batch
    dH = dY @ W2.T
    dZ1 = dH * H * (1 - H)          # σ′(Z1) = H ⊙ (1 − H)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(dim=0)
    return {"Y": dY, "W2": dY @ W2.T, "b2": db2, "H": dH, "Z1": dZ1, "W1": dW1, "b1": db1}
