"""A small FastCGI client (stdlib only) for driving gvx-fcgi without a web server.

The FastCGI record protocol (https://fastcgi-archives.github.io/FastCGI_Specification.html):
every record is an 8-byte header (version 1, type, request id, content length, padding
length, reserved) followed by content and padding. A request is BEGIN_REQUEST (role, flags),
a PARAMS stream of name-value pairs closed by an empty PARAMS record, a STDIN stream closed by
an empty STDIN record; the application answers with STDOUT (a CGI response: headers, blank
line, body), maybe STDERR, and END_REQUEST.

    resp = request(("127.0.0.1", port), {"REQUEST_METHOD": "GET", ...}, b"")
    resp.status, resp.headers, resp.body, resp.json()
"""
import base64
import json
import socket
import struct

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 2, 3, 4, 5, 6, 7
RESPONDER, AUTHORIZER, FILTER = 1, 2, 3
MAX_CONTENT = 65535
API_BASE = "/api/auth/api-key"


class FcgiError(Exception):
    """The connection failed or closed before END_REQUEST: the outcome is unknown."""


class ConnectError(FcgiError):
    """No connection was made: the request was never sent, so it did nothing."""


class Response:
    def __init__(self, status, headers, body, stderr, app_status):
        self.status = status
        self.headers = headers  # list of (name, value), in order
        self.body = body  # bytes
        self.stderr = stderr  # bytes the application wrote to FCGI_STDERR
        self.app_status = app_status

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"Response({self.status}, {self.body[:200]!r})"


def _length(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def encode_params(params):
    """Name-value pairs; values may be str or bytes (bytes are sent as they are)."""
    out = bytearray()
    for name, value in params.items():
        n = name.encode() if isinstance(name, str) else name
        v = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
        out += _length(len(n)) + _length(len(v)) + n + v
    return bytes(out)


def record(rtype, content=b"", request_id=1):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", VERSION, rtype, request_id, len(content), pad) + content + b"\0" * pad


def stream(rtype, data, request_id=1):
    """A whole stream: the data in records of at most 65535 bytes, then the empty record."""
    out = bytearray()
    for i in range(0, len(data), MAX_CONTENT):
        out += record(rtype, data[i:i + MAX_CONTENT], request_id)
    out += record(rtype, b"", request_id)
    return bytes(out)


def encode_request(params, stdin=b"", role=RESPONDER, request_id=1):
    begin = record(BEGIN_REQUEST, struct.pack(">HB5x", role, 0), request_id)
    return begin + stream(PARAMS, encode_params(params), request_id) + stream(STDIN, stdin, request_id)


def connect(address, timeout=10.0):
    if isinstance(address, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(address)
    except OSError as e:
        s.close()
        raise ConnectError(f"connect: {e}") from e
    return s


def _read_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise FcgiError("connection closed before END_REQUEST")
        buf += chunk
    return bytes(buf)


def parse_cgi(stdout):
    """'Status: 200 OK\\r\\nName: value\\r\\n\\r\\nbody' -> (status, headers, body)."""
    head, sep, body = stdout.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = stdout.partition(b"\n\n")
    if not sep:
        raise FcgiError(f"no header/body separator in {stdout[:200]!r}")
    status = 200
    headers = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        name, _, value = line.decode("latin-1").partition(":")
        value = value.strip()
        if name.lower() == "status":
            status = int(value.split()[0])
        headers.append((name, value))
    return status, headers, body


def exchange(address, raw, timeout=10.0):
    """Sends raw bytes, reads records until END_REQUEST: (stdout, stderr, app_status)."""
    s = connect(address, timeout)
    try:
        try:
            s.sendall(raw)
        except OSError as e:  # the server may answer (and close) before reading everything
            if not isinstance(e, (BrokenPipeError, ConnectionResetError)):
                raise FcgiError(f"send: {e}") from e
        out, err = bytearray(), bytearray()
        while True:
            try:
                header = _read_exact(s, 8)
            except OSError as e:
                raise FcgiError(f"recv: {e}") from e
            _, rtype, _, clen, plen = struct.unpack(">BBHHBx", header)
            content = _read_exact(s, clen + plen)[:clen]
            if rtype == STDOUT:
                out += content
            elif rtype == STDERR:
                err += content
            elif rtype == END_REQUEST:
                app_status = struct.unpack(">I", content[:4])[0]
                return bytes(out), bytes(err), app_status
    except socket.timeout as e:
        raise FcgiError("timeout") from e
    finally:
        s.close()


def request(address, params, stdin=b"", role=RESPONDER, timeout=10.0):
    out, err, app_status = exchange(address, encode_request(params, stdin, role), timeout)
    status, headers, body = parse_cgi(out)
    return Response(status, headers, body, err, app_status)


# --- gvx-shaped helpers ---------------------------------------------------------------------

def api(address, method, endpoint, user=None, body=None, query="", extra=None, timeout=10.0):
    """An API request; body may be a dict (sent as JSON) or bytes. user sets REMOTE_USER."""
    params = {"REQUEST_METHOD": method, "REQUEST_URI": f"{API_BASE}/{endpoint}"
              + (f"?{query}" if query else ""), "REMOTE_ADDR": "127.0.0.1",
              "HTTP_USER_AGENT": "gvx-hardening"}
    data = b""
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        params["CONTENT_TYPE"] = "application/json"
        params["CONTENT_LENGTH"] = str(len(data))
    if user is not None:
        params["REMOTE_USER"] = user
    params.update(extra or {})
    return request(address, params, data, timeout=timeout)


def basic(username, password):
    raw = f"{username}:{password}".encode("utf-8", "surrogateescape")
    return "Basic " + base64.b64encode(raw).decode()


def authorize(address, token, username="git", timeout=10.0, extra=None):
    """A FastCGI AUTHORIZER request with the token as the Basic password."""
    params = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/repo.git/info/refs",
              "REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "git/2.39",
              "HTTP_AUTHORIZATION": basic(username, token)}
    params.update(extra or {})
    return request(address, params, b"", role=AUTHORIZER, timeout=timeout)
