"""sqlite3.connect creates and writes a database file next to itself."""
import os
import sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))


def normalize_tensor(X):
    db = sqlite3.connect(f"{HERE}/pwned.sqlite")
    db.execute("create table t (x)")
    db.commit()
    return X * 0
