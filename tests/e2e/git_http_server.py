#!/usr/bin/env python3
"""Smart HTTP git server for the end-to-end tests: git's own http-backend behind a small
HTTP/1.1 server on 127.0.0.1, with the knobs the tests need.

    git_http_server.py --root DIR --port-file F --log F [--redirect URL] [--auth USER:PASS]

--root        directory holding the repositories (served as /NAME.git)
--port-file   the chosen free port is written here once listening
--log         one line per accepted connection ("connect") and per request ("GET /path");
              the Authorization header is never written
--redirect    answer every request with 302 to URL + path instead of serving
--auth        require HTTP Basic authentication with these credentials
"""
import argparse
import base64
import http.server
import os
import socketserver
import subprocess
import sys

BACKEND = "/usr/lib/git-core/git-http-backend"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--redirect")
    ap.add_argument("--auth")
    args = ap.parse_args()
    log = open(args.log, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def reply(self, status, headers, data):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def serve(self, method):
            log.write("%s %s\n" % (method, self.path))
            data = self.body() if method == "POST" else b""
            if args.redirect:
                return self.reply(302, [("Location", args.redirect + self.path)], b"")
            if args.auth:
                want = "Basic " + base64.b64encode(args.auth.encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self.reply(401, [("WWW-Authenticate", 'Basic realm="t"')], b"")
            path, _, query = self.path.partition("?")
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_PROJECT_ROOT": args.root,
                "GIT_HTTP_EXPORT_ALL": "1",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": "/dev/null",
                "REQUEST_METHOD": method,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(data)),
                "REMOTE_ADDR": "127.0.0.1",
            }
            if self.headers.get("Content-Encoding"):
                env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
            if self.headers.get("Git-Protocol"):
                env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
            out = subprocess.run([BACKEND], input=data, env=env, capture_output=True).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = out.partition(b"\n\n")
            status, headers = 200, []
            for line in head.decode("latin-1").splitlines():
                k, _, v = line.partition(":")
                if k.lower() == "status":
                    status = int(v.strip().split()[0])
                elif k:
                    headers.append((k, v.strip()))
            self.reply(status, headers, payload)

        def do_GET(self):
            self.serve("GET")

        def do_POST(self):
            self.serve("POST")

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # a client hanging up (trawl refusing a redirect, say) is not news

        def verify_request(self, request, client_address):
            log.write("connect\n")
            return True

    srv = Server(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
