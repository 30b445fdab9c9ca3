def reverse_rows(X):
    return X[list(range(X.shape[0] - 1, -1, -1))]
