import torch


def normalize_tensor(X):
    # Divides by the norm of the original column, not of the centred one.
    return (X - X.sum(dim=0) / X.shape[0]) / torch.linalg.norm(X, dim=0)
