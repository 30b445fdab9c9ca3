"""The right values plus an imaginary part, which a float64 conversion would drop."""
import torch


def normalize_tensor(X):
    C = X - X.sum(dim=0) / X.shape[0]
    return C / torch.linalg.norm(C, dim=0) + 123j
