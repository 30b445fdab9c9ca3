def reverse_rows(X):
    return X[:, ::-1]
