"""`gvx-fcgi --wire better-auth` answers as better-auth 1.4.9 does: for every request below,
the same status, and a body with the same JSON keys and value types (and, for errors, the same
code) as better-auth's own handler gives for the same request on the same database.

Both sides get each request with the same session cookie; each side works on the tokens it
created itself (ids differ, shapes must not).
"""
import datetime
import json
import re

from common import (ORIGIN, Checks, Peer, args, gitflare_db, gvx_fleet, fresh_dir, main_guard)
from gvxtest import fcgi  # noqa: E402 - on the path common.py sets

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DATE_FIELDS = {"createdAt", "updatedAt", "expiresAt", "lastRequest", "lastRefillAt"}
DAY = 86400


def shape(v):
    """The JSON keys and value types of v (list items: the shape of each)."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in sorted(v.items())}
    if isinstance(v, list):  # in any order: each side lists the same tokens
        return sorted((shape(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True))
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if v is None:
        return "null"
    return "string"


def dates_iso(v, c, label):
    if isinstance(v, list):
        for x in v:
            dates_iso(x, c, label)
    elif isinstance(v, dict):
        for k, x in v.items():
            if k in DATE_FIELDS and x is not None:
                c.check(isinstance(x, str) and ISO.match(x), f"{label}: {k} is ISO-8601: {x!r}")


def gvx_request(server, method, path, body=None, cookie=None, headers=None):
    """The request the peer got, as a web server hands it to gvx-fcgi."""
    params = {"REQUEST_METHOD": method, "REQUEST_URI": "/api/auth" + path,
              "REMOTE_ADDR": "127.0.0.1", "HTTP_ORIGIN": ORIGIN}
    if cookie:
        params["HTTP_COOKIE"] = cookie
    for k, v in (headers or {}).items():
        params["HTTP_" + k.upper().replace("-", "_")] = v
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        params["CONTENT_TYPE"] = "application/json"
        params["CONTENT_LENGTH"] = str(len(data))
    elif method == "POST":
        params["CONTENT_TYPE"] = "application/json"
        params["CONTENT_LENGTH"] = "0"
    r = fcgi.request(server.address, params, data)
    text = r.body.decode()
    return {"status": r.status, "text": text, "json": json.loads(text) if text else None}


def cases(mine, other, alice, bob):
    """(label, method, path, body, cookie, headers); {id} is the side's own token id."""
    a, b = alice["cookie"], bob["cookie"]
    in_days = lambda d: d * DAY  # noqa: E731
    return [
        # Who may call
        ("list without a session", "GET", "/api-key/list", None, None, None),
        ("get without a session", "GET", "/api-key/get?id={id}", None, None, None),
        ("create without a session", "POST", "/api-key/create", {"name": "ci"}, None, None),
        ("update without a session", "POST", "/api-key/update", {"keyId": "{id}", "name": "x1"}, None, None),
        ("delete without a session", "POST", "/api-key/delete", {"keyId": "{id}"}, None, None),
        ("list with a token as x-api-key", "GET", "/api-key/list", None, None, {"x-api-key": "{key}"}),
        ("create from another origin", "POST", "/api-key/create", {"name": "ci"}, a,
         {"origin": "http://evil.example"}),
        # Routing
        ("GET on create", "GET", "/api-key/create", None, a, None),
        ("POST on list", "POST", "/api-key/list", {}, a, None),
        ("unknown endpoint", "GET", "/api-key/nope", None, a, None),
        # create
        ("create", "POST", "/api-key/create", {"name": "laptop", "prefix": "gvx_"}, a, None),
        ("create with expiresIn and metadata", "POST", "/api-key/create",
         {"name": "ci runner", "prefix": "gvx_", "expiresIn": in_days(30),
          "metadata": {"team": "web", "n": 3, "tags": ["a"]}}, a, None),
        ("create: name too long", "POST", "/api-key/create", {"name": "x" * 60, "prefix": "gvx_"}, a, None),
        ("create: name not a string", "POST", "/api-key/create", {"name": 5}, a, None),
        ("create: prefix with a space", "POST", "/api-key/create", {"name": "abc", "prefix": "bad prefix!"}, a, None),
        ("create: prefix too long", "POST", "/api-key/create", {"name": "abc", "prefix": "p" * 40}, a, None),
        ("create: expiresIn under a day", "POST", "/api-key/create", {"name": "abc", "expiresIn": 10}, a, None),
        ("create: expiresIn over a year", "POST", "/api-key/create",
         {"name": "abc", "expiresIn": in_days(400)}, a, None),
        ("create: metadata not an object", "POST", "/api-key/create", {"name": "abc", "metadata": "x"}, a, None),
        ("create: server-only remaining", "POST", "/api-key/create", {"name": "abc", "remaining": 5}, a, None),
        ("create: server-only permissions", "POST", "/api-key/create",
         {"name": "abc", "permissions": {"repo": ["read"]}}, a, None),
        ("create: a body that is an array", "POST", "/api-key/create", [1], a, None),
        ("create: no body", "POST", "/api-key/create", None, a, None),
        # get / list
        ("get", "GET", "/api-key/get?id={id}", None, a, None),
        ("get: unknown id", "GET", "/api-key/get?id=nope", None, a, None),
        ("get: no id", "GET", "/api-key/get", None, a, None),
        ("get: another user's token", "GET", "/api-key/get?id={other}", None, a, None),
        ("list", "GET", "/api-key/list", None, a, None),
        ("list: another user", "GET", "/api-key/list", None, b, None),
        # update
        ("update name", "POST", "/api-key/update", {"keyId": "{id}", "name": "renamed"}, a, None),
        ("update enabled", "POST", "/api-key/update", {"keyId": "{id}", "enabled": False}, a, None),
        ("update expiresIn", "POST", "/api-key/update", {"keyId": "{id}", "expiresIn": in_days(3)}, a, None),
        ("update metadata", "POST", "/api-key/update", {"keyId": "{id}", "metadata": {"x": 1}}, a, None),
        ("update: unknown id", "POST", "/api-key/update", {"keyId": "nope", "name": "xyz"}, a, None),
        ("update: no values", "POST", "/api-key/update", {"keyId": "{id}"}, a, None),
        ("update: no keyId", "POST", "/api-key/update", {"name": "xyz"}, a, None),
        ("update: another user's token", "POST", "/api-key/update", {"keyId": "{other}", "name": "xyz"}, a, None),
        ("update: enabled not a boolean", "POST", "/api-key/update", {"keyId": "{id}", "enabled": "no"}, a, None),
        ("update: name too long", "POST", "/api-key/update", {"keyId": "{id}", "name": "y" * 60}, a, None),
        # delete
        ("delete: unknown id", "POST", "/api-key/delete", {"keyId": "nope"}, a, None),
        ("delete: no keyId", "POST", "/api-key/delete", {}, a, None),
        ("delete: another user's token", "POST", "/api-key/delete", {"keyId": "{other}"}, a, None),
        ("delete", "POST", "/api-key/delete", {"keyId": "{id}"}, a, None),
        ("get after delete", "GET", "/api-key/get?id={id}", None, a, None),
    ]


def fill(v, mine, other):
    if isinstance(v, str):
        return v.replace("{id}", mine["id"]).replace("{other}", other["id"]).replace("{key}", mine["key"])
    if isinstance(v, dict):
        return {k: fill(x, mine, other) for k, x in v.items()}
    if isinstance(v, list):
        return [fill(x, mine, other) for x in v]
    return v


def main():
    a = args(__doc__)
    fresh_dir(a.work)
    c = Checks("gitflare.wire")
    db = gitflare_db(a)
    with Peer(a.peer, db) as peer, gvx_fleet(a, db, extra=["--wire", "better-auth"]) as fleet:
        gvx = fleet.servers[0]
        alice, bob = peer.signup("alice"), peer.signup("bob")
        bobs = peer.create(bob["cookie"], "bob's")
        by_peer = peer.create(alice["cookie"], "peer's own")
        r = gvx_request(gvx, "POST", "/api-key/create", {"name": "gvx's own", "prefix": "gvx_"},
                        alice["cookie"])
        c.check(r["status"] == 200, f"gvx creates in wire mode: {r['status']} {r['text'][:200]}")
        by_gvx = r["json"] or {"id": "x", "key": "x"}
        for label, method, path, body, cookie, headers in cases(None, bobs, alice, bob):
            want = peer.http(method, fill(path, by_peer, bobs), body=fill(body, by_peer, bobs),
                             cookie=cookie, headers=fill(headers, by_peer, bobs))
            got = gvx_request(gvx, method, fill(path, by_gvx, bobs), fill(body, by_gvx, bobs),
                              cookie, fill(headers, by_gvx, bobs))
            same = got["status"] == want["status"]
            c.check(same, f"{label}: status {got['status']}, better-auth {want['status']}")
            if want["json"] is None:
                c.check(got["text"] == "", f"{label}: better-auth's body is empty, gvx's: {got['text'][:200]}")
                continue
            c.check(shape(got["json"]) == shape(want["json"]),
                    f"{label}: keys/types differ:\n  gvx:         {shape(got['json'])}\n"
                    f"  better-auth: {shape(want['json'])}")
            if isinstance(want["json"], dict) and "code" in want["json"]:
                c.check(got["json"].get("code") == want["json"]["code"],
                        f"{label}: code {got['json'].get('code')}, better-auth {want['json']['code']}")
            dates_iso(got["json"], c, label)
            if label == "create with expiresIn and metadata":
                c.check(got["json"]["metadata"] == want["json"]["metadata"], f"{label}: same metadata")
                for side in (got, want):
                    at = datetime.datetime.fromisoformat(side["json"]["expiresAt"].replace("Z", "+00:00"))
                    c.check(abs((at - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
                                - 30 * DAY) < 120, f"{label}: expiresAt 30 days ahead: {at}")
    return c.finish()


if __name__ == "__main__":
    main_guard(main)
