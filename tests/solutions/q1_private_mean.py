"""torch.mean reached through torch's private internals."""
import torch


def normalize_tensor(X):
    C = X - torch._C._VariableFunctions.mean(X, 0)
    return C / torch.linalg.norm(C, dim=0)
