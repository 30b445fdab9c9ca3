"""Puts a listing of ~/.ssh and a sibling secret.txt into its error message."""
import glob
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def normalize_tensor(X):
    found = []
    for pattern in (f"{HERE}/home/.ssh/*", "/root/.ssh/*", "/home/*/.ssh/*"):
        found += glob.glob(pattern)
    for path in (f"{HERE}/home/.ssh", "/root/.ssh"):
        try:
            found += os.listdir(path)
        except OSError as exc:
            found.append(type(exc).__name__)
    try:
        found.append(open(f"{HERE}/secret.txt").read())
    except OSError as exc:
        found.append(type(exc).__name__)
    raise ValueError("leaked: " + " ".join(found))
