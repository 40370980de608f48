"""HTTP for the tests (stdlib only): one request on a fresh connection, raw bytes on a socket,
and Reply, the answer type the FastCGI client (fcgi.py) returns too.

    r = http("GET", url, headers={...}, json_body={...})     # -> Reply
    r = raw_http(host, port, b"GET / HTTP/1.1\\r\\n...")     # -> Reply, or None: no answer
    r.status, r.reason, r.headers [(name, value)], r.header(name), r.body, r.text, r.json()
"""
import http.client as httpclient
import json
import socket
import urllib.parse


class Reply:
    """An HTTP or CGI answer. headers keep their order and never include Status; a FastCGI
    answer also has stderr (what the application wrote to FCGI_STDERR) and app_status (the
    END_REQUEST record's)."""

    def __init__(self, status, reason, headers, body, stderr=b"", app_status=None):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.stderr = stderr
        self.app_status = app_status

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Reply {self.status} {self.body[:300]!r}>"


def http(method, url, headers=None, body=None, json_body=None, timeout=10):
    """One request on a fresh connection. json_body is serialised with Content-Type set."""
    parts = urllib.parse.urlsplit(url)
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    conn = httpclient.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path or "/", body=body, headers=headers)
        r = conn.getresponse()
        return Reply(r.status, r.reason, r.getheaders(), r.read())
    finally:
        conn.close()


def parse_http_response(data):
    """A Reply from raw response bytes (the first response only), or None when empty."""
    if not data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    reply = Reply(int(code), reason, headers, body)
    n = reply.header("Content-Length")
    if n is not None and n.isdigit():
        reply.body = body[:int(n)]
    elif (reply.header("Transfer-Encoding") or "").lower() == "chunked":
        reply.body = _dechunk(body)
    return reply


def _dechunk(data):
    out = b""
    while data:
        size, _, rest = data.partition(b"\r\n")
        n = int(size.split(b";")[0] or b"0", 16)
        if n == 0:
            break
        out += rest[:n]
        data = rest[n + 2:]
    return out


def raw_http(host, port, data, timeout=10, half_close=False):
    """Sends raw bytes; returns the parsed response, or None if the server closed silently.

    Reads until the server closes or a whole response (by Content-Length) has arrived."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        chunks = b""
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks += c
                head, sep, body = chunks.partition(b"\r\n\r\n")
                if sep:
                    r = parse_http_response(chunks)
                    n = r.header("Content-Length")
                    if n is not None and n.isdigit() and len(body) >= int(n):
                        break
        except (ConnectionResetError, socket.timeout):
            pass
        return parse_http_response(chunks)
