def normalise_tensor(X):
    return X
