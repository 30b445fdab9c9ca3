def reverse_rows(X):
    while True:
        pass
