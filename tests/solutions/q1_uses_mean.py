import torch


def normalize_tensor(X):
    X = X - torch.mean(X, dim=0)
    return X / torch.linalg.norm(X, dim=0)
