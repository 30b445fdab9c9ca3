"""libc's fork() through ctypes: a daemon in a new session that outlives gradcli and writes
a file a few seconds later."""
import ctypes
import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def normalize_tensor(X):
    libc = ctypes.CDLL(None)
    if libc.fork() == 0:
        libc.setsid()
        if libc.fork() == 0:
            time.sleep(3)
            with open(f"{HERE}/pwned_by_daemon", "w") as f:
                f.write("outlived gradcli")
            time.sleep(60)
        os._exit(0)
    return X * 0
