#!/usr/bin/env python3
"""A fake SSH server for tests/e2e/test_ssh.sh (needs paramiko): it completes the key exchange
with the given host key, logs every authentication attempt ("auth USER METHOD") and refuses
them all, so a test can see whether a client sent credentials. It serves no git at all."""
import argparse
import os
import socket
import threading

import paramiko


class Refuse(paramiko.ServerInterface):
    def __init__(self, log, auths):
        self.log = log
        self.auths = auths

    def _note(self, user, method):
        with open(self.log, "a") as f:
            f.write(f"auth {user} {method}\n")

    def get_allowed_auths(self, username):
        return self.auths

    def check_auth_none(self, username):
        self._note(username, "none")
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username, password):
        self._note(username, "password")
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        self._note(username, "publickey")
        return paramiko.AUTH_FAILED


def serve(conn, key, log, auths):
    with open(log, "a") as f:
        f.write("connection\n")
    t = paramiko.Transport(conn)
    t.add_server_key(key)
    try:
        t.start_server(server=Refuse(log, auths))
        t.accept(20)
    except Exception:
        pass
    finally:
        t.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host-key", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--auths", default="publickey,password", help="methods offered")
    a = ap.parse_args()
    key = paramiko.Ed25519Key(filename=a.host_key)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, key, a.log, a.auths), daemon=True).start()


if __name__ == "__main__":
    main()
