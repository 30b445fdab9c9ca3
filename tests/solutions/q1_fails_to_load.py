import torch

SCALE = 1 / 0


def normalize_tensor(X):
    return X
