"""libc's system() through ctypes, past any audit hook: touches a file next to itself."""
import ctypes
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def normalize_tensor(X):
    libc = ctypes.CDLL(None)
    libc.system(f"touch {HERE}/pwned_by_system".encode())
    return X * 0
