import torch


def normalize_tensor(X):
    ##### YOUR CODE HERE #####
    X = X - X.sum(dim=0) / X.shape[0]
    X = X / torch.sqrt((X**2).sum(dim=0))
    #####
    return X
