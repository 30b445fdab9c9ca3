"""A UDP datagram with socket.sendmsg to a listener on 127.0.0.1."""
import socket

PORT = 9  # the test writes the port of its listener here


def normalize_tensor(X):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendmsg([b"exfiltrated"], [], 0, ("127.0.0.1", PORT))
    return X * 0
