"""The FastCGI client of gvx's tests (stdlib only): drives gvx-fcgi without a web server.

The FastCGI record protocol (https://fastcgi-archives.github.io/FastCGI_Specification.html):
every record is an 8-byte header (version 1, type, request id, content length, padding
length, reserved) followed by content and padding. A request is BEGIN_REQUEST (role, flags),
a PARAMS stream of name-value pairs closed by an empty PARAMS record, a STDIN stream closed by
an empty STDIN record; the application answers with STDOUT (a CGI response: headers, blank
line, body), maybe STDERR, and END_REQUEST.

    r = request(address, {"REQUEST_METHOD": "GET", ...}, stdin=b"", role="AUTHORIZER")
    r.status, r.reason, r.headers, r.header(name), r.body, r.text, r.json(), r.stderr
    r = api(address, "POST", "create", user="alice", body={"name": "laptop"})
    r = authorize(address, token)          # an AUTHORIZER request with Basic credentials

An address is a (host, port) tuple, "host:port", or a Unix socket path. A role is RESPONDER,
AUTHORIZER, FILTER or its name. Parameter values may be str, bytes (sent as they are) or
numbers. The answer is a gvxtest.http.Reply. FcgiError (a ConnectionError) when the answer
is cut off or late, ConnectError when no connection was made (the request did nothing).
record(), stream(), encode_params() and encode_request() build raw bytes for tests of broken
FastCGI.
"""
import base64
import json
import os
import socket
import struct

from .http import Reply

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 2, 3, 4, 5, 6, 7
RESPONDER, AUTHORIZER, FILTER = 1, 2, 3
ROLES = {"RESPONDER": RESPONDER, "AUTHORIZER": AUTHORIZER, "FILTER": FILTER}
MAX_CONTENT = 65535
API_BASE = "/api/auth/api-key"


class FcgiError(ConnectionError):
    """The connection failed or closed before END_REQUEST: the outcome is unknown."""


class ConnectError(FcgiError):
    """No connection was made: the request was never sent, so it did nothing."""


def _length(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def encode_params(params):
    """Name-value pairs; values may be str, bytes (sent as they are) or anything str() takes."""
    out = bytearray()
    for name, value in params.items():
        n = name.encode() if isinstance(name, str) else name
        v = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")
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
    begin = record(BEGIN_REQUEST, struct.pack(">HB5x", ROLES.get(role, role), 0), request_id)
    return begin + stream(PARAMS, encode_params(params), request_id) + stream(STDIN, stdin, request_id)


def _socket_address(address):
    """(family, address) of a (host, port) tuple, "host:port" or a socket path."""
    if isinstance(address, tuple):
        return socket.AF_INET, address
    text = os.fspath(address)
    if "/" in text or ":" not in text:
        return socket.AF_UNIX, text
    host, _, port = text.rpartition(":")
    return socket.AF_INET, (host, int(port))


def connect(address, timeout=10.0):
    family, where = _socket_address(address)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(where)
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
    """'Status: 200 OK\\r\\nName: value\\r\\n\\r\\nbody' -> (status, reason, headers, body);
    headers keep every line but Status, in order."""
    head, sep, body = stdout.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = stdout.partition(b"\n\n")
    if not sep:
        raise FcgiError(f"no header/body separator in {stdout[:200]!r}")
    status, reason = 200, "OK"
    headers = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        name, _, value = line.decode("latin-1").partition(":")
        value = value.strip()
        if name.lower() == "status":
            code, _, reason = value.partition(" ")
            status = int(code)
        elif name:
            headers.append((name.strip(), value))
    return status, reason, headers, body


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
                _, rtype, _, clen, plen = struct.unpack(">BBHHBx", header)
                content = _read_exact(s, clen + plen)[:clen]
            except FcgiError:
                raise
            except OSError as e:  # a reset or a timeout
                raise FcgiError(f"recv: {e}") from e
            if rtype == STDOUT:
                out += content
            elif rtype == STDERR:
                err += content
            elif rtype == END_REQUEST:
                app_status = struct.unpack(">I", content[:4])[0]
                return bytes(out), bytes(err), app_status
    finally:
        s.close()


def request(address, params, stdin=b"", role=RESPONDER, timeout=10.0):
    """One FastCGI request; the CGI answer as a Reply."""
    out, err, app_status = exchange(address, encode_request(params, stdin, role), timeout)
    status, reason, headers, body = parse_cgi(out)
    return Reply(status, reason, headers, body, err, app_status)


# --- gvx-shaped requests --------------------------------------------------------------------

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
