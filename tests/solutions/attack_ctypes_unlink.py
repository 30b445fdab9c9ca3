"""libc's unlink() through ctypes: deletes secret.txt next to itself."""
import ctypes
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def normalize_tensor(X):
    libc = ctypes.CDLL(None)
    libc.unlink(f"{HERE}/secret.txt".encode())
    return X * 0
