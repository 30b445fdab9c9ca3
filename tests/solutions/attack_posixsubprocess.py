"""_posixsubprocess.fork_exec, the C function under subprocess, past the audit hook."""
import _posixsubprocess
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def normalize_tensor(X):
    args = ["/bin/sh", "-c", f"touch {HERE}/pwned_by_fork_exec"]
    r, w = os.pipe()
    try:
        _posixsubprocess.fork_exec(args, [b"/bin/sh"], True, (), None, None, -1, -1, -1, -1,
                                   -1, -1, r, w, False, False, -1, None, None, None, -1, None,
                                   False)
    except TypeError:  # another Python version: another signature
        _posixsubprocess.fork_exec(args, [b"/bin/sh"], True, (), None, None, -1, -1, -1, -1,
                                   -1, -1, r, w, False, False, None, None, None, -1, None,
                                   False)
    return X * 0
