"""torch.mean by a computed name, from vars(), and from the class dictionary."""
import torch

NAME = "".join(["me", "an"])


def normalize_tensor(X):
    average = vars(torch)[NAME] if NAME in vars(torch) else getattr(X.__class__, NAME)
    C = X - average(X, dim=0)
    return C / torch.linalg.norm(C, dim=0)
