import os


def reverse_rows(X):
    os._exit(7)
