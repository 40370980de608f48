#!/usr/bin/env python3
"""Security tests over FastCGI, against gvx-fcgi on a Gitflare-shaped database
(test/fixtures/gitflare.sql: better-auth's user, session and apikey tables):

  - cross-user access: another user's token id gives the same 404 as a missing one on get,
    delete, update and activity, and changes nothing;
  - username spoofing at the authorizer: Apache's authenticator mode (FCGI_APACHE_ROLE=
    AUTHENTICATOR, REMOTE_USER/REMOTE_PASSWD) refuses another user's name and accepts the
    owner's id or username; with Basic, the identity handed back is always the owner;
  - REMOTE_USER is ignored unless --trust-remote-user;
  - CSRF: a cookie-authenticated change needs a trusted Origin (or Referer), else 403;
  - no token in any error body or in gvx-fcgi's stderr;
  - oversized and malformed requests of every kind get a 4xx (or a closed connection for
    broken FastCGI), never a crash, and change no stored token;
  - timing: verification of unknown, revoked, disabled, expired and valid tokens, measured and
    printed (a benchmark-style report, not an assertion).
"""
import base64
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import sqlite3
import statistics
import struct
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from gvxtest import fcgi as fc  # noqa: E402
from gvxtest.checks import Checks, common_args, main_guard  # noqa: E402
from gvxtest.credentials import leaked_secrets  # noqa: E402
from gvxtest.fleet import Fleet  # noqa: E402
from gvxtest.processes import fresh_dir  # noqa: E402

ORIGIN = "https://git.example.com"
FIXTURE_TOKENS = {  # from test/fixtures/gitflare.sql (test data)
    "k1_alice": "gvx_EIcFFZEZfqAtYJDDqgBUZYzEaIjTQzcYvNpHXEIYWnIwbCHSDmqUqAAMguoUWMyq",
    "k2_bob": "gvx_QWErtyUIopASdfGHjklZXcvBNmqweRTYuiopASDFghJKLzxcvbnmQWERtyuIOP",
    "k3_expired": "gvx_ZZexpiredTOKENaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "k4_disabled": "gvx_DDdisabledTOKENbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
}


class Recorder:
    """Keeps every response body that may not contain a token (all but create answers)."""

    def __init__(self):
        self.bodies = []
        self.secrets = list(FIXTURE_TOKENS.values())

    def keep(self, r, may_hold_key=False):
        if not may_hold_key:
            self.bodies.append(r.body)
        return r


def session_cookie(token, secret, name="better-auth.session_token"):
    sig = base64.b64encode(hmac.new(secret, token.encode(), hashlib.sha256).digest()).decode()
    return f"{name}={urllib.parse.quote(f'{token}.{sig}', safe='')}"


def stored_tokens(db):
    """The stored tokens minus the usage counters a verification moves."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT id, name, key, user_id, enabled, expires_at, metadata, "
                            "updated_at, prefix, start FROM apikey ORDER BY id").fetchall()
    finally:
        conn.close()


def cross_user(c, rec, a):
    r = rec.keep(fc.api(a, "POST", "create", user="u_alice", body={"name": "alice laptop"}), True)
    c.check(r.status == 200, f"alice creates a token ({r.status})")
    tid, key = r.json()["id"], r.json()["key"]
    rec.secrets.append(key)
    missing = "A" * 32
    bob_token = FIXTURE_TOKENS["k2_bob"]
    # A person gets 404 for a token that is not theirs; a token gets 403 for anything but
    # itself (SPEC §13): it cannot list, read, change or delete tokens at all.
    for who, extra, want in (("REMOTE_USER u_bob", {"REMOTE_USER": "u_bob"}, 404),
                             ("bob's Bearer token", {"HTTP_AUTHORIZATION": f"Bearer {bob_token}"},
                              403)):
        def call(method, endpoint, body=None, query=""):
            return rec.keep(fc.api(a, method, endpoint, body=body, query=query, extra=extra))
        for label, target in (("alice's token", tid), ("a missing token", missing)):
            got = [call("GET", "get", query=f"id={target}"),
                   call("POST", "delete", body={"keyId": target}),
                   call("POST", "update", body={"keyId": target, "name": "pwned", "enabled": False}),
                   call("GET", "activity", query=f"id={target}")]
            c.check([g.status for g in got] == [want] * 4,
                    f"{who} on {label}: get/delete/update/activity all {want} "
                    f"({[g.status for g in got]})")
            if label == "alice's token":
                other_bodies = [g.body for g in got]
            else:
                c.check([g.body for g in got] == other_bodies,
                        f"{who}: the 404 for another user's token is the same as for a missing "
                        f"one (no oracle)")
        lst = call("GET", "list")
        c.check(lst.status == (200 if want == 404 else 403) and tid not in lst.body.decode(),
                f"{who}: alice's token is not in bob's list ({lst.status})")
    r = rec.keep(fc.api(a, "GET", "get", user="u_alice", query=f"id={tid}"))
    c.check(r.status == 200 and r.json()["name"] == "alice laptop" and r.json()["enabled"],
            "alice's token is unchanged after bob's attempts")
    c.check(rec.keep(fc.authorize(a, key)).status == 200, "alice's token still verifies")
    return tid, key


def spoofing(c, rec, a, key):
    def authn(user, password):
        return rec.keep(fc.request(a, {"FCGI_APACHE_ROLE": "AUTHENTICATOR", "REMOTE_USER": user,
                                       "REMOTE_PASSWD": password, "REQUEST_URI": "/r.git",
                                       "REMOTE_ADDR": "127.0.0.1"}, role=fc.AUTHORIZER))
    for user, want in (("u_bob", 401), ("bob", 401), ("u_alice ", 401), ("U_ALICE", 401),
                       ("u_alice", 200), ("alice", 200)):
        r = authn(user, key)
        c.check(r.status == want, f"Apache authenticator: name {user!r} with alice's token "
                                  f"-> {want} ({r.status} {r.body[:80]})")
    r = authn("u_alice", FIXTURE_TOKENS["k2_bob"])
    c.check(r.status == 401, f"Apache authenticator: alice's name with bob's token -> 401 "
                             f"({r.status})")
    r = rec.keep(fc.authorize(a, key, username="u_bob"))
    c.check(r.status == 200 and r.header("Variable-REMOTE_USER") == "u_alice",
            f"Basic with a typed name of u_bob: the identity handed on is the owner u_alice "
            f"({r.status}, {r.header('Variable-REMOTE_USER')})")
    r = rec.keep(fc.authorize(a, FIXTURE_TOKENS["k2_bob"] + "x"))
    c.check(r.status == 401 and "Basic realm" in (r.header("WWW-Authenticate") or ""),
            "a near-miss token is refused with a Basic challenge")


def remote_user_untrusted(c, rec, a):
    r = rec.keep(fc.api(a, "GET", "list", user="u_alice"))
    c.check(r.status == 401, f"without --trust-remote-user, REMOTE_USER is not a caller "
                             f"({r.status})")
    r = rec.keep(fc.api(a, "POST", "create", user="u_alice", body={"name": "spoofed"}))
    c.check(r.status == 401, f"... and cannot create ({r.status})")


def csrf(c, rec, a, secret):
    cookie = session_cookie("sessAlice1", secret)
    def post(extra, name="via cookie"):
        return fc.api(a, "POST", "create", body={"name": name}, extra={"HTTP_COOKIE": cookie, **extra})
    for label, extra in (("no Origin", {}), ("a foreign Origin", {"HTTP_ORIGIN": "https://evil.example"}),
                         ("Origin null", {"HTTP_ORIGIN": "null"}),
                         ("a look-alike Origin", {"HTTP_ORIGIN": ORIGIN + ".evil.example"}),
                         ("a foreign Referer", {"HTTP_REFERER": "https://evil.example/" + ORIGIN}),
                         ("a trusted Referer but foreign Origin",
                          {"HTTP_ORIGIN": "https://evil.example", "HTTP_REFERER": ORIGIN + "/x"})):
        r = rec.keep(post(extra))
        c.check(r.status == 403, f"cookie POST with {label} -> 403 ({r.status})")
    r = rec.keep(fc.api(a, "POST", "delete", body={"keyId": "GfAPk1aaaaaaaaaaaaaaaaaaaaaaaaa1"},
                        extra={"HTTP_COOKIE": cookie}))
    c.check(r.status == 403, f"cookie delete without Origin -> 403 ({r.status})")
    r = rec.keep(post({"HTTP_ORIGIN": ORIGIN}, "csrf ok"), True)
    c.check(r.status == 200 and r.json()["userId"] == "u_alice",
            f"cookie POST with the trusted Origin -> 200 as u_alice ({r.status})")
    if r.status == 200:
        rec.secrets.append(r.json()["key"])
    r = rec.keep(post({"HTTP_REFERER": ORIGIN + "/settings/tokens"}, "csrf referer"), True)
    c.check(r.status == 200, f"cookie POST with a trusted Referer and no Origin -> 200 ({r.status})")
    if r.status == 200:
        rec.secrets.append(r.json()["key"])
    r = rec.keep(fc.api(a, "GET", "list", extra={"HTTP_COOKIE": cookie}))
    names = [t["name"] for t in r.json()] if r.status == 200 else []
    c.check(r.status == 200 and "via cookie" not in names and "csrf ok" in names,
            f"cookie GET without Origin is fine, and no refused POST created anything ({names})")
    bad = session_cookie("sessAlice1", b"not the secret")
    r = rec.keep(fc.api(a, "GET", "list", extra={"HTTP_COOKIE": bad}))
    c.check(r.status == 401, f"a cookie signed with another secret -> 401 ({r.status})")
    r = rec.keep(fc.api(a, "GET", "list", extra={"HTTP_COOKIE": session_cookie("sessOld", secret)}))
    c.check(r.status == 401, f"an expired session -> 401 ({r.status})")
    r = rec.keep(fc.api(a, "GET", "list", extra={"HTTP_COOKIE": "better-auth.session_token=sessAlice1"}))
    c.check(r.status == 401, f"an unsigned session token -> 401 ({r.status})")


def malformed(c, rec, a, server, db, key):
    before = stored_tokens(db)
    body = b'{"name":"abc"}'
    base = {"REQUEST_METHOD": "POST", "REQUEST_URI": fc.API_BASE + "/create",
            "REMOTE_USER": "u_alice", "CONTENT_TYPE": "application/json"}

    def raw(params, stdin=b"", role=fc.RESPONDER):
        return rec.keep(fc.request(a, {**base, **params}, stdin, role=role))

    cases = [
        ("CONTENT_LENGTH missing", {}, body, 411),
        ("CONTENT_LENGTH empty (nginx without a body)", {"CONTENT_LENGTH": ""}, body, 411),
        ("CONTENT_LENGTH negative", {"CONTENT_LENGTH": "-14"}, body, 400),
        ("CONTENT_LENGTH with a sign", {"CONTENT_LENGTH": "+14"}, body, 400),
        ("CONTENT_LENGTH hex", {"CONTENT_LENGTH": "0xe"}, body, 400),
        ("CONTENT_LENGTH with spaces", {"CONTENT_LENGTH": " 14"}, body, 400),
        ("CONTENT_LENGTH 2^64", {"CONTENT_LENGTH": "18446744073709551616"}, body, 400),
        ("CONTENT_LENGTH 10^30", {"CONTENT_LENGTH": "1" + "0" * 30}, body, 400),
        ("CONTENT_LENGTH 65537", {"CONTENT_LENGTH": "65537"}, b" " * 65537, 413),
        ("CONTENT_LENGTH 10^15, short body", {"CONTENT_LENGTH": str(10 ** 15)}, body, 413),
        ("truncated body", {"CONTENT_LENGTH": "100"}, body, 400),
        ("empty body", {"CONTENT_LENGTH": "0"}, b"", 400),
        ("text/plain", {"CONTENT_LENGTH": "14", "CONTENT_TYPE": "text/plain"}, body, 415),
        ("no Content-Type", {"CONTENT_LENGTH": "14", "CONTENT_TYPE": ""}, body, 415),
        ("application/jsonx", {"CONTENT_LENGTH": "14", "CONTENT_TYPE": "application/jsonx"}, body, 415),
    ]
    for label, params, stdin, want in cases:
        r = raw(params, stdin)
        c.check(r.status == want, f"{label} -> {want} ({r.status} {r.body[:90]})")

    def create(payload):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return raw({"CONTENT_LENGTH": str(len(data))}, data)

    bodies = [
        ("invalid JSON", b'{"name": "abc",}'), ("a JSON array", b'["name"]'), ("a JSON string", b'"abc"'),
        ("trailing garbage", b'{"name":"abcd"} x'), ("invalid UTF-8 in name", b'{"name":"ab\xff\xfe"}'),
        ("overlong UTF-8", b'{"name":"ab\xc0\xaf"}'), ("a surrogate", b'{"name":"ab\xed\xa0\x80"}'),
        ("escaped NUL in name", b'{"name":"ab\\u0000cd"}'), ("raw NUL in body", b'{"name":"ab\x00cd"}'),
        ("a lone escaped surrogate", b'{"name":"ab\\ud800cd"}'),
        ("name too short", {"name": "ab"}), ("name too long", {"name": "x" * 51}),
        ("name not a string", {"name": 12345}), ("name null", {"name": None}),
        ("expiresAt in the past", {"name": "abcd", "expiresAt": 1}),
        ("expiresAt a string", {"name": "abcd", "expiresAt": "tomorrow"}),
        ("expiresAt beyond int64", b'{"name":"abcd","expiresAt":18446744073709551616}'),
        ("expiresIn huge", {"name": "abcd", "expiresIn": 2 ** 62}),
        ("expiresIn negative", {"name": "abcd", "expiresIn": -5}),
        ("prefix with a space", {"name": "abcd", "prefix": "gvx "}),
        ("prefix too long", {"name": "abcd", "prefix": "p" * 33}),
        ("metadata not an object", {"name": "abcd", "metadata": [1]}),
        ("metadata number beyond double", b'{"name":"abcd","metadata":{"x":1.7976931348623159e308}}'),
        ("metadata too big", {"name": "abcd", "metadata": {"x": "y" * 20000}}),
        ("deeply nested metadata", b'{"name":"abcd","metadata":' + b'{"a":' * 10000 + b'1' + b'}' * 10000 + b'}'),
        ("deeply nested body", b'[' * 65536),
    ]
    for label, payload in bodies:
        r = create(payload)
        c.check(r.status == 400, f"create with {label} -> 400 ({r.status} {r.body[:90]})")

    ok_cases = [("50 four-byte characters", {"name": "\U0001F511" * 50}),
                ("SQL metacharacters in name", {"name": "'); DROP TABLE apikey; --"}),
                ("a body of exactly 65536 bytes", None)]
    for label, payload in ok_cases:
        if payload is None:
            data = b'{"name":"exactly 64 KiB"}'
            data = data + b" " * (65536 - len(data))
            r = raw({"CONTENT_LENGTH": "65536"}, data)
        else:
            r = create(payload)
        c.check(r.status == 200, f"create with {label} -> 200 ({r.status} {r.body[:90]})")
        if r.status == 200:
            rec.secrets.append(r.json()["key"])
            rec.bodies.remove(r.body)  # the create answer holds the key by design
            raw_del = json.dumps({"keyId": r.json()["id"]}).encode()
            d = raw({"REQUEST_URI": fc.API_BASE + "/delete", "CONTENT_LENGTH": str(len(raw_del))},
                    raw_del)
            c.check(d.status == 200, f"... and it deletes again ({d.status})")

    gets = [("id with SQL", "id=%27%20OR%201%3D1%20--", 404), ("no id", "", 400),
            ("an empty id", "id=", 400), ("id too long", "id=" + "a" * 300, 400),
            ("a bad escape", "id=%zz", 400), ("id with NUL", "id=a%00b", 404),
            ("limit 0", "id=x&limit=0", 400), ("limit huge", "id=x&limit=99999999999999999999", 400)]
    for label, query, want in gets:
        endpoint = "activity" if "limit" in query else "get"
        r = rec.keep(fc.api(a, "GET", endpoint, user="u_alice", query=query))
        c.check(r.status == want, f"GET {endpoint} with {label} -> {want} ({r.status})")

    paths = [("/api/auth/api-key/../api-key/list", 404), ("/api/auth/api-key/list/", 404),
             ("/api/auth/api-key/LIST", 404), ("/api/auth/api-key", 404), ("/" + "a" * 100000, 404),
             ("/api/auth/api-key/list%00", 404)]
    for path, want in paths:
        r = rec.keep(fc.request(a, {"REQUEST_METHOD": "GET", "REQUEST_URI": path,
                                    "REMOTE_USER": "u_alice"}))
        c.check(r.status == want, f"path {path[:40]!r} -> {want} ({r.status})")
    r = rec.keep(fc.api(a, "DELETE", "list", user="u_alice"))
    c.check(r.status == 405, f"DELETE /list -> 405 ({r.status})")

    tokens = [("a 10 KB token", "gvx_" + "A" * 10000), ("a 1 MB token", "gvx_" + "B" * 1000000),
              ("a token with NUL", "gvx_abc\0def"), ("an empty password", ""),
              ("a token with newlines", key + "\r\nX-Injected: 1"), ("bad UTF-8", "gvx_\udcff\udcfe")]
    for label, tok in tokens:
        r = rec.keep(fc.authorize(a, tok))
        c.check(r.status == 401, f"authorizer with {label} -> 401 ({r.status})")
        c.check(all("\n" not in v for _, v in r.headers), f"no header split by {label}")
    for label, header in (("bad base64", "Basic !!!notbase64!!!"), ("no colon",
                          "Basic " + base64.b64encode(b"nocolon").decode()),
                          ("unknown scheme", "Digest username=x"), ("empty Bearer", "Bearer "),
                          ("a 1 MB header", "Basic " + "QUFB" * 250000)):
        r = rec.keep(fc.request(a, {"HTTP_AUTHORIZATION": header, "REQUEST_URI": "/r.git"},
                                role=fc.AUTHORIZER))
        c.check(r.status == 401, f"authorizer with {label} -> 401 ({r.status})")
    r = rec.keep(fc.api(a, "GET", "list", user="u_alice",
                        extra={"HTTP_COOKIE": "x=" + "c" * 1000000}))
    c.check(r.status == 200, f"a 1 MB Cookie header with REMOTE_USER trusted is ignored ({r.status})")
    huge = {f"HTTP_X_{i}": "v" * 100 for i in range(2000)}
    r = rec.keep(fc.api(a, "GET", "list", user="u_alice", extra=huge))
    c.check(r.status == 200, f"2000 extra parameters are fine ({r.status})")

    # Broken FastCGI: garbage, a record promising more than it sends, a FILTER role, a stream
    # that stops half-way. The process must survive each and serve the next request.
    def broken(data, label):
        try:
            with socket.create_connection(a, timeout=5) as s:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                try:
                    while s.recv(65536):
                        pass
                except OSError:
                    pass
        except OSError:
            pass
        ok = server.alive() and fc.api(a, "GET", "list", user="u_alice").status == 200
        c.check(ok, f"gvx-fcgi survives {label} and serves the next request")

    broken(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "an HTTP request on the FastCGI socket")
    broken(os.urandom(4096), "4 KB of random bytes")
    broken(fc.record(fc.BEGIN_REQUEST, struct.pack(">HB5x", fc.RESPONDER, 0))
           + struct.pack(">BBHHBx", 1, fc.PARAMS, 1, 65535, 0) + b"x" * 100, "a truncated record")
    broken(fc.encode_request({"REQUEST_METHOD": "GET"}, role=fc.FILTER), "the FILTER role")
    broken(fc.record(fc.BEGIN_REQUEST, struct.pack(">HB5x", fc.RESPONDER, 0))
           + fc.record(fc.PARAMS, b"\x7f\xff\xff\xff\x00"), "a name-value pair claiming 2 GB")
    partial = fc.encode_request({**base, "CONTENT_LENGTH": "1000"}, b"")
    broken(partial[: len(partial) - 8] + fc.record(fc.STDIN, b'{"name":"'), "a body cut short")

    after = stored_tokens(db)
    c.check(before == after, "the malformed requests changed no stored token")


def deep_nesting(c, rec, args, work, db):
    """Bodies nested as deep as 64 KiB allows, against a server with a 1 MB stack (RapidJSON
    recurses per level: this crashed gvx-fcgi before bodies were limited to 64 levels)."""
    with Fleet(args.fcgi, db, work, ["--trust-remote-user"], stack_bytes=1 << 20) as small:
        server, = small.start(1)
        server.name = "gvx-fcgi-1mb-stack"
        half = 32767
        pre = b'{"name":"abcd","metadata":{"a":'
        n = (65536 - len(pre) - 2) // 2
        bodies = [("32767 nested arrays", b"[" * half + b"]" * half),
                  ("65536 open arrays", b"[" * 65536),
                  ("deep metadata", pre + b"[" * n + b"]" * n + b"}}"),
                  ("deep objects", b'{"a":' * 10000 + b"1" + b"}" * 10000)]
        for label, body in bodies:
            try:
                r = rec.keep(fc.api(server.address, "POST", "create", user="u_alice", body=body))
                status = r.status
            except fc.FcgiError as e:
                status = f"no answer: {e}"
            c.check(status == 400, f"1 MB stack: {label} -> 400 ({status})")
        ok = rec.keep(fc.api(server.address, "POST", "update", user="u_alice",
                             body=b'{"keyId":"x","note":"\\"' + b"[{" * 100 + b'"}'))
        c.check(ok.status == 404, f"brackets inside strings do not count as nesting ({ok.status})")
        # Metadata planted through SQL (an admin, a foreign export) as deep as 16 KiB allows:
        # listing it must not crash the server either (it is shown as null).
        conn = sqlite3.connect(db)
        depth = 8000
        conn.execute("UPDATE apikey SET metadata = ? WHERE id = 'GfAPk1aaaaaaaaaaaaaaaaaaaaaaaaa1'",
                     ('{"a":' + "[" * depth + "]" * depth + "}",))
        conn.commit()
        conn.close()
        try:
            r = rec.keep(fc.api(server.address, "GET", "list", user="u_alice"))
            listed = [t["metadata"] for t in r.json() if t["id"].startswith("GfAPk1")]
            status = (r.status, listed)
        except fc.FcgiError as e:
            status = f"no answer: {e}"
        c.check(status == (200, [None]), f"1 MB stack: /list with metadata nested {depth} deep "
                                         f"in the database -> 200, metadata null ({status})")
        c.check(server.alive() and server.stop() == 0, "the 1 MB-stack server survives and exits 0")
        c.check(not small.sanitizer_reports(), "no sanitizer report (1 MB stack)")


def timing(c, rec, a, db, n):
    created = [rec.keep(fc.api(a, "POST", "create", user="u_alice", body={"name": f"timing {i}"}),
                        True).json() for i in range(2)]
    for t in created:
        rec.secrets.append(t["key"])
    valid, revoked = created[0]["key"], created[1]["key"]
    d = rec.keep(fc.api(a, "POST", "delete", user="u_alice", body={"keyId": created[1]["id"]}))
    c.check(d.status == 200, "timing: token revoked")
    kinds = {"unknown": lambda i: "gvx_" + secrets.token_hex(32),
             "revoked": lambda i: revoked, "disabled": lambda i: FIXTURE_TOKENS["k4_disabled"],
             "expired": lambda i: FIXTURE_TOKENS["k3_expired"], "valid": lambda i: valid}
    samples = {k: [] for k in kinds}
    for i in range(n):  # interleaved, so drift hits every kind alike
        for kind, token in kinds.items():
            t0 = time.perf_counter()
            r = fc.authorize(a, token(i))
            samples[kind].append((time.perf_counter() - t0) * 1e6)
            if i == 0:
                c.check(r.status == (200 if kind == "valid" else 401),
                        f"timing: {kind} token answered {r.status}")
    print(f"timing of one verification over FastCGI (authorizer), {n} each, interleaved:")
    for kind, xs in samples.items():
        xs.sort()
        print(f"  {kind:9s} median {statistics.median(xs):7.0f} us   p90 {xs[int(len(xs) * .9)]:7.0f} us")
    m = {k: statistics.median(v) for k, v in samples.items()}
    print(f"  unknown/revoked median ratio {m['unknown'] / m['revoked']:.2f} "
          f"(both are one index miss on apikey.key; a revoked token's row is gone)", flush=True)


def run():
    ap = common_args(__doc__)
    ap.add_argument("--timing-samples", type=int, default=150)
    args = ap.parse_args()
    work = fresh_dir(args.work)
    db = os.path.join(work, "security.db")
    conn = sqlite3.connect(db)
    with open(os.path.join(args.fixtures, "gitflare.sql")) as f:
        conn.executescript(f.read())
    far = int(time.time() * 1000) + 86_400_000
    conn.execute("INSERT INTO session VALUES ('s1', ?, 'sessAlice1', 1, 1, NULL, NULL, 'u_alice')", (far,))
    conn.execute("INSERT INTO session VALUES ('s2', 1000, 'sessOld', 1, 1, NULL, NULL, 'u_alice')")
    conn.commit()
    conn.close()
    secret = secrets.token_hex(32).encode()
    secret_file = os.path.join(work, "session.secret")
    with open(secret_file, "wb") as f:
        f.write(secret + b"\n")
    os.chmod(secret_file, 0o600)

    checks = Checks("security")
    rec = Recorder()
    with Fleet(args.fcgi, db, work, ["--trust-remote-user", "--session-secret-file", secret_file,
                                     "--trusted-origin", ORIGIN]) as fleet:
        server, = fleet.start(1)
        plain = Fleet(args.fcgi, db, work, ["--session-secret-file", secret_file])
        with plain:
            untrusting, = plain.start(1)
            untrusting.name = "gvx-fcgi-untrusting"
            _, key = cross_user(checks, rec, server.address)
            rec.secrets.append(key)
            spoofing(checks, rec, server.address, key)
            remote_user_untrusted(checks, rec, untrusting.address)
            csrf(checks, rec, server.address, secret)
            malformed(checks, rec, server.address, server, db, key)
            deep_nesting(checks, rec, args, work, db)
            timing(checks, rec, server.address, db, args.timing_samples)
            for s in (server, untrusting):
                rc = s.stop()
                checks.check(rc == 0, f"{s.name} exits 0 on SIGTERM ({rc})")
            leaked = leaked_secrets(b"\n".join(rec.bodies), rec.secrets)
            for b in rec.bodies:
                if leaked_secrets(b, leaked):
                    print("token in body:", b[:300])
            checks.check(not leaked, f"no token in any of {len(rec.bodies)} error and "
                                     f"non-create bodies")
            for s in (server, untrusting):
                checks.check(not leaked_secrets(s.stderr(), rec.secrets),
                             f"no token in {s.name}'s stderr")
            reports = fleet.sanitizer_reports() + plain.sanitizer_reports()
            checks.check(not reports, f"no sanitizer report: {reports}")
    return checks.finish()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main_guard(run)
