"""os.chmod, os.symlink and os.link on files next to itself (not audited as writes)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def normalize_tensor(X):
    for attack in (lambda: os.chmod(f"{HERE}/secret.txt", 0o777),
                   lambda: os.symlink("/etc/passwd", f"{HERE}/pwned_symlink"),
                   lambda: os.link(f"{HERE}/secret.txt", f"{HERE}/pwned_hardlink")):
        try:
            attack()
        except OSError:
            pass
    return X * 0
