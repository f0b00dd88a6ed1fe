"""Tries to reach a listener on 127.0.0.1 (its port is in port.txt beside it) and the internet."""

import pathlib
import socket

port = int((pathlib.Path(__file__).parent / "port.txt").read_text())
for address in (("127.0.0.1", port), ("pypi.org", 443)):
    try:
        socket.create_connection(address, timeout=2).sendall(b"labels please")
        print("CONNECTED", address)
    except OSError as error:
        print("refused", address, type(error).__name__)


def build_model():
    raise RuntimeError("offline")
