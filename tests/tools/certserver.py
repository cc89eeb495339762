#!/usr/bin/env python3
"""Test x5u certificate repository: an HTTPS server on 127.0.0.1 (stdlib only).

Usage:
  python3 certserver.py --cert tls.pem --key tls.key --dir DIR [--port 0] --port-file FILE

Writes the chosen port to FILE (atomically) once listening, then serves until
killed. Every response to a file has Content-Type application/pem-certificate-chain.

  GET /<name>                       DIR/<name>
  GET /slow/<seconds>/<name>        sleep, then DIR/<name>
  GET /redirect/<name>              302 to /<name>
  GET /status/<code>                that status, empty body
  GET /big/<bytes>                  that many bytes of 'A'
  GET /cc/<cache-control>/<name>    DIR/<name> with that Cache-Control
                                    (value URL-encoded, e.g. max-age%3D1)
  GET /expires/<seconds>/<name>     DIR/<name> with Expires = now + seconds and Date
  GET /hang                         accept and never answer (until the client leaves)
  GET /files/<name>                 DIR/<name> with a Content-Type by extension
                                    (.json application/json, .png image/png,
                                    .jpg image/jpeg, else application/octet-stream)
  GET /__hits                       JSON {path: count} of requests seen so far, and
                                    "__max_active": the most requests in progress at once
  GET /__reset_max                  set that high-water mark to the requests in progress now

<name> is a plain file name ([A-Za-z0-9._-]); anything else is 404.
"""
import argparse
import email.utils
import http.server
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse

NAME_RE = re.compile(r'^[A-Za-z0-9._-]+$')
MEDIA_TYPE = 'application/pem-certificate-chain'
FILE_TYPES = {'.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg',
              '.jpeg': 'image/jpeg'}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'certserver/1'

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    def _send(self, code, body=b'', headers=None, ctype=MEDIA_TYPE):
        self.send_response(code)
        if body or code == 200:
            self.send_header('Content-Type', ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _file(self, name, headers=None, ctype=MEDIA_TYPE):
        if not NAME_RE.match(name) or name.startswith('.'):
            return self._send(404)
        path = os.path.join(self.server.root, name)
        try:
            with open(path, 'rb') as f:
                body = f.read()
        except OSError:
            return self._send(404)
        return self._send(200, body, headers, ctype=ctype)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == '/__hits':
            with self.server.lock:
                body = json.dumps(self.server.hits).encode()
            return self._send(200, body, ctype='application/json')
        if path == '/__reset_max':
            with self.server.lock:
                self.server.hits['__max_active'] = self.server.active
            return self._send(200, b'{}', ctype='application/json')
        with self.server.lock:
            self.server.hits[path] = self.server.hits.get(path, 0) + 1
            self.server.active += 1
            self.server.hits['__max_active'] = max(self.server.hits.get('__max_active', 0),
                                                   self.server.active)
        self._active = True
        try:
            return self._serve(path)
        finally:
            self._leave()

    def _leave(self):
        # A request stops counting as active before its response is sent:
        # the client may start its next download as soon as it has the
        # bytes, before this thread gets back here.
        if getattr(self, '_active', False):
            self._active = False
            with self.server.lock:
                self.server.active -= 1

    def _serve(self, path):
        parts = path.lstrip('/').split('/')
        try:
            if len(parts) == 1 and parts[0] == 'hang':
                return self._hang()
            if len(parts) == 1:
                return self._file(parts[0])
            kind = parts[0]
            if kind == 'slow' and len(parts) == 3:
                time.sleep(float(parts[1]))
                self._leave()
                return self._file(parts[2])
            if kind == 'files' and len(parts) == 2:
                ext = os.path.splitext(parts[1])[1].lower()
                return self._file(parts[1],
                                  ctype=FILE_TYPES.get(ext, 'application/octet-stream'))
            if kind == 'redirect' and len(parts) == 2:
                return self._send(302, headers={'Location': '/' + parts[1]})
            if kind == 'status' and len(parts) == 2:
                return self._send(int(parts[1]))
            if kind == 'big' and len(parts) == 2:
                return self._send(200, b'A' * int(parts[1]))
            if kind == 'cc' and len(parts) == 3:
                return self._file(parts[2], {'Cache-Control': urllib.parse.unquote(parts[1])})
            if kind == 'expires' and len(parts) == 3:
                now = time.time()
                return self._file(parts[2], {
                    'Date': email.utils.formatdate(now, usegmt=True),
                    'Expires': email.utils.formatdate(now + float(parts[1]), usegmt=True)})
        except ValueError:
            return self._send(400)
        return self._send(404)

    def _hang(self):
        # Hold the connection open until the client gives up (or 5 minutes).
        conn = self.connection
        conn.settimeout(300)
        try:
            while conn.recv(1):
                pass
        except (OSError, ssl.SSLError):
            pass
        self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, ctx, root):
        super().__init__(addr, Handler)
        self.ctx = ctx
        self.root = root
        self.hits = {}
        self.active = 0
        self.lock = threading.Lock()

    def get_request(self):
        sock, addr = self.socket.accept()
        # Handshake in the handler thread: a silent client must not block accept().
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass  # clients that give up early are expected here


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--cert', required=True)
    ap.add_argument('--key', required=True)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--port-file', required=True)
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv = Server(('127.0.0.1', a.port), ctx, os.path.abspath(a.dir))
    tmp = a.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.replace(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
