#!/usr/bin/env python3
"""A loopback HTTPS server for tests/unit/sso/test_https.c: serves CERT and KEY on 127.0.0.1 at
a port the kernel picks, printed on the first line of stdout. GET /doc answers a small JSON
document, /redirect a 302 to /doc, /big 2 MiB; POST /echo answers the Authorization header,
Content-Type and form it was sent, as JSON.

    python3 https_server.py CERT KEY
"""
import http.server
import json
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/doc":
            self.answer(200, b'{"ok": true}')
        elif self.path == "/redirect":
            self.answer(302, b"", [("Location", "/doc")])
        elif self.path == "/big":
            self.answer(200, b"x" * (2 << 20))
        else:
            self.answer(404, b"")

    def do_POST(self):
        form = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.answer(200, json.dumps({
            "authorization": self.headers.get("Authorization"),
            "content_type": self.headers.get("Content-Type"),
            "form": form.decode("latin-1"),
        }).encode())

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that hangs up (the body bound's test) is expected


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


main()
