"""Tries to leave a process behind: fork, new session, and a grandchild that outlives gradcli."""
import os
import sys
import time

import torch


def normalize_tensor(X):
    if os.fork() == 0:  # refused by the sandbox's audit hook
        os.setsid()
        if os.fork() == 0:
            time.sleep(60)
        sys.exit(0)
    C = X - X.sum(dim=0) / X.shape[0]
    return C / torch.linalg.norm(C, dim=0)
