"""Writes a file next to itself while loading (the test checks it does not appear)."""
from pathlib import Path

Path(__file__).with_name("written_by_solution.txt").write_text("escaped")


def normalize_tensor(X):
    return X
