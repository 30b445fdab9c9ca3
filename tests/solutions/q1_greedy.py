import torch


def normalize_tensor(X):
    return torch.zeros(10**9, dtype=torch.float64)
