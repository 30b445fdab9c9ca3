import torch


def reverse_rows(X):
    index = torch.arange(X.shape[1] - 1, -1, -1)
    X = X[:, index]
    return X
