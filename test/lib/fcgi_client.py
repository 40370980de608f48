"""A minimal FastCGI client (stdlib only), to drive gvx-fcgi without a web server.

    client = FcgiClient("127.0.0.1", port)
    status, headers, body = client.request({"REQUEST_METHOD": "GET", ...}, stdin=b"")
    status, headers, body = client.authorize(token, ip="198.51.100.1")

One request per connection, as Apache's mod_authnz_fcgi does.
"""
import base64
import socket
import struct

VERSION = 1
BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER, AUTHORIZER = 1, 2


def _record(rtype: int, content: bytes, request_id: int = 1) -> bytes:
    out = b""
    for i in range(0, max(len(content), 1), 65535):  # an empty record ends a stream
        chunk = content[i:i + 65535]
        out += struct.pack(">BBHHBB", VERSION, rtype, request_id, len(chunk), 0, 0) + chunk
    return out


def _length(n: int) -> bytes:
    return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)


def _params(env: dict) -> bytes:
    body = b""
    for k, v in env.items():
        k, v = k.encode(), v.encode() if isinstance(v, str) else v
        body += _length(len(k)) + _length(len(v)) + k + v
    return body


class FcgiClient:
    def __init__(self, host: str, port: int, timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout

    def request(self, env: dict, stdin: bytes = b"", role: int = RESPONDER):
        """Returns (status, headers dict with lower-case names, body bytes, stderr bytes)."""
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as s:
            msg = _record(BEGIN_REQUEST, struct.pack(">HB5x", role, 0))
            params = _params(env)
            if params:
                msg += _record(PARAMS, params)
            msg += _record(PARAMS, b"")
            if stdin:
                msg += _record(STDIN, stdin)
            msg += _record(STDIN, b"")
            s.sendall(msg)
            out, err, buf = b"", b"", b""
            while True:
                while len(buf) < 8:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionError("gvx-fcgi closed the connection mid-response")
                    buf += chunk
                _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", buf[:8])
                while len(buf) < 8 + clen + plen:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionError("gvx-fcgi closed the connection mid-record")
                    buf += chunk
                content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
                if rtype == STDOUT:
                    out += content
                elif rtype == STDERR:
                    err += content
                elif rtype == END_REQUEST:
                    break
        head, _, body = out.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(headers.get("status", "200").split()[0])
        return status, headers, body, err

    def authorize(self, token: str, user: str = "git", ip: str = "127.0.0.1",
                  user_agent: str = "git/2.39.5"):
        """A FastCGI AUTHORIZER request with the token as the Basic password."""
        basic = base64.b64encode(f"{user}:{token}".encode()).decode()
        env = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/repo.git/info/refs",
               "HTTP_AUTHORIZATION": f"Basic {basic}", "REMOTE_ADDR": ip,
               "HTTP_USER_AGENT": user_agent}
        return self.request(env, role=AUTHORIZER)

    def api(self, method: str, endpoint: str, user: str, body: bytes = b"", query: str = ""):
        """An API request as a web server with Basic auth in front would pass it."""
        env = {"REQUEST_METHOD": method, "REQUEST_URI": f"/api/auth/api-key/{endpoint}" +
               (f"?{query}" if query else ""), "REMOTE_USER": user, "REMOTE_ADDR": "127.0.0.1"}
        if body or method == "POST":
            env["CONTENT_TYPE"] = "application/json"
            env["CONTENT_LENGTH"] = str(len(body))
        return self.request(env, stdin=body)
