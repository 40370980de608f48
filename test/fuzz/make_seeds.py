#!/usr/bin/env python3
"""Writes the seed inputs of test/fuzz/corpus/<target>/seed-*: run it after changing an input
format (python3 test/fuzz/make_seeds.py). Regression inputs from findings (crash-*, and
inputs libFuzzer found and `make fuzz` merged) live beside the seeds and are kept."""
import base64
import hashlib
import hmac
import json
import os
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"fuzz-session-secret-0123456789abcdef"
SESSION = "SessAlice0123456789"
T = {  # the known tokens of fuzz_api.cpp / fuzz_sql.cpp (test data)
    "ok": "gvx_AliceOk000000000000000000000000000000000000000000000000000000000",
    "expired": "gvx_AliceExpired0000000000000000000000000000000000000000000000000000",
    "disabled": "gvx_BobDisabled00000000000000000000000000000000000000000000000000000",
    "limited": "gvx_AliceLimited0000000000000000000000000000000000000000000000000000",
    "usedup": "gvx_AliceUsedUp00000000000000000000000000000000000000000000000000000",
}
BASE = "/api/auth/api-key"


def cookie(token, secret=SECRET):
    sig = base64.b64encode(hmac.new(secret, token.encode(), hashlib.sha256).digest()).decode()
    return urllib.parse.quote(f"{token}.{sig}", safe="")


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def api_input(flags="T", role="RESPONDER", apache_role="", mode="", method="GET", endpoint="list",
              query="", ctype=None, clen=None, authz="", cookie_="", origin="", referer="",
              remote_user="alice", remote_passwd="", api_key="", addr="203.0.113.9",
              ua="git/2.39", body=b"", path=None):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    if ctype is None:
        ctype = "application/json" if method == "POST" else ""
    if clen is None:
        clen = str(len(body)) if method == "POST" else "~"
    fields = [flags, role, apache_role, mode, method, path or f"{BASE}/{endpoint}", query, ctype,
              clen, authz, cookie_, origin, referer, remote_user, remote_passwd, api_key, addr, ua]
    return "".join(f + "\n" for f in fields).encode() + body


def api_seeds():
    ok = T["ok"]
    post = dict(method="POST")
    s = {
        "create": api_input(**post, endpoint="create",
                            body={"name": "laptop", "expiresIn": 3600, "metadata": {"a": [1, 2]}}),
        "create-prefix": api_input(**post, endpoint="create",
                                   body={"name": "déploiement ✓", "prefix": "ci_",
                                         "expiresAt": 1900000000000}),
        "list": api_input(endpoint="list"),
        "get": api_input(endpoint="get", query="id=AliceOk"),
        "get-other-user": api_input(endpoint="get", query="id=BobDisabled"),
        "activity": api_input(endpoint="activity", query="id=AliceOk&limit=5"),
        "delete": api_input(**post, endpoint="delete", body={"keyId": "AliceOk"}),
        "update": api_input(**post, endpoint="update",
                            body={"keyId": "AliceOk", "name": "renamed", "enabled": False,
                                  "expiresAt": None}),
        "bearer-create": api_input(**post, flags="", remote_user="", endpoint="create",
                                   authz=f"Bearer {ok}", body={"name": "from token"}),
        "x-api-key-list": api_input(flags="", remote_user="", api_key=ok),
        "cookie-create": api_input(**post, flags="C", remote_user="", endpoint="create",
                                   cookie_=f"theme=dark; better-auth.session_token={cookie(SESSION)}",
                                   origin="https://git.example.com", body={"name": "cookie"}),
        "cookie-no-origin": api_input(**post, flags="C", remote_user="", endpoint="delete",
                                      cookie_=f"__Secure-better-auth.session_token={cookie(SESSION)}",
                                      body={"keyId": "AliceOk"}),
        "cookie-referer": api_input(**post, flags="C", remote_user="", endpoint="update",
                                    cookie_=f"better-auth.session_token={cookie(SESSION)}",
                                    referer="https://git.example.com/settings/tokens",
                                    body={"keyId": "AliceOk", "enabled": True}),
        "cookie-expired-session": api_input(flags="C", remote_user="",
                                            cookie_=f"better-auth.session_token={cookie('SessOld')}"),
        "authz-basic": api_input(flags="", role="AUTHORIZER", remote_user="", authz=basic("git", ok)),
        "authz-oauth": api_input(flags="S", role="AUTHORIZER", remote_user="",
                                 authz=basic(ok, "x-oauth-basic")),
        "authz-strict-username": api_input(flags="S", role="AUTHORIZER", remote_user="",
                                           authz=basic("alice2", ok)),
        "authz-apache": api_input(flags="", role="AUTHORIZER", apache_role="AUTHENTICATOR",
                                  remote_user="alice", remote_passwd=ok),
        "authz-apache-spoof": api_input(flags="", role="AUTHORIZER", apache_role="AUTHENTICATOR",
                                        remote_user="u_bob", remote_passwd=ok),
        "authz-expired": api_input(flags="", role="AUTHORIZER", authz=basic("git", T["expired"])),
        "authz-disabled": api_input(flags="", role="AUTHORIZER", authz=basic("git", T["disabled"])),
        "authz-limited": api_input(flags="", role="AUTHORIZER", authz=basic("git", T["limited"])),
        "authz-usedup": api_input(flags="", role="AUTHORIZER", authz=basic("git", T["usedup"])),
        "authz-nginx-bearer": api_input(flags="", mode="authorize", authz=f"Bearer {ok}"),
        "too-large": api_input(**post, endpoint="create", clen="70000", body=b"{}"),
        "no-length": api_input(**post, endpoint="create", clen="~", body=b"{}"),
        "bad-length": api_input(**post, endpoint="create", clen="-1", body=b"{}"),
        "truncated": api_input(**post, endpoint="create", clen="100", body=b'{"name":"abc"}'),
        "wrong-type": api_input(**post, endpoint="create", ctype="text/plain; charset=utf-8",
                                body={"name": "abcd"}),
        "invalid-json": api_input(**post, endpoint="create", body=b'{"name": "abc",}'),
        "invalid-utf8-name": api_input(**post, endpoint="create", body=b'{"name": "ab\xff\xfe"}'),
        "nul-name": api_input(**post, endpoint="create", body=b'{"name": "ab\\u0000cd"}'),
        "wrong-types": api_input(**post, endpoint="update",
                                 body={"keyId": 5, "name": ["x"], "enabled": "yes"}),
        "metadata-beyond-double": api_input(**post, endpoint="create",
                                            body=b'{"name":"inf","metadata":{"x":5.5e308}}'),
        "nested": api_input(**post, endpoint="create",
                            body=b'{"name":"deep","metadata":{"a":' + b'[' * 200 + b']' * 200 + b'}}'),
        "wrong-method": api_input(method="DELETE", endpoint="list"),
        "unknown-path": api_input(path="/api/auth/api-key/../list"),
        "sql-chars": api_input(endpoint="get", query="id=%27%20OR%201%3D1%20--"),
    }
    return s


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("seed-"):
            os.unlink(os.path.join(d, name))
    for name, data in seeds.items():
        with open(os.path.join(d, f"seed-{name}"), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())


def main():
    write("api", api_seeds())
    write("basic_auth", {
        "basic": basic("git", T["ok"]),
        "basic-oauth": basic(T["ok"], "x-oauth-basic"),
        "basic-lower-spaces": "basic    " + base64.b64encode(b"u:p").decode() + "  ",
        "bearer": f"Bearer {T['ok']}",
        "bearer-tab": "bearer \t tok\t",
        "bad-base64": "Basic !!!!",
        "no-colon": "Basic " + base64.b64encode(b"nocolon").decode(),
        "nul": "Basic " + base64.b64encode(b"a\0b:c").decode(),
        "plain-pair": "alice:secret",
        "empty-password": "gvx_token:",
        "unpadded": "Basic " + base64.b64encode(b"ab:c").decode().rstrip("="),
    })
    write("cookie", {
        "signed": f"better-auth.session_token={cookie(SESSION)}",
        "secure-quoted": f'a=1; __Secure-better-auth.session_token="{cookie(SESSION)}"; b=2',
        "unsigned": "better-auth.session_token=SessAlice0123456789",
        "wrong-signature": f"better-auth.session_token={cookie(SESSION, b'other')}",
        "bad-escape": "better-auth.session_token=abc%zz.def",
        "many": "; ;=;a=b;;better-auth.session_token=;better-auth.session_token=x.y",
        "raw-value": cookie(SESSION),
    })
    write("cgi_params", {
        "zero": "0", "number": "65536", "leading-zeros": "000123", "max": "9999999999999999999",
        "too-long": "18446744073709551616", "negative": "-1", "plus": "+1", "space": " 12",
        "query": "id=abc%20def&limit=5", "query-flag": "id&limit=", "bad-escape": "id=%zz",
        "short-escape": "id=%4", "plus-sign": "id=a+b", "utf8": "id=%C3%A9%E2%9C%93",
    })
    write("token_format", {
        "fixture": "gvx_EIcFFZEZfqAtYJDDqgBUZYzEaIjTQzcYvNpHXEIYWnIwbCHSDmqUqAAMguoUWMyq",
        "readme": "gvx_T30y185GP84Wqqp5PzlTrx38DWxkqSXoqg9ElPTee9hioJx23ZoJlbAvpm282AcH",
        "custom-prefix": "deploy_" + "A" * 58 + "000000",
        "utf8": "é✓𝄞".encode(), "overlong": b"\xc0\x80", "surrogate": b"\xed\xa0\x80",
        "too-big": b"\xf4\x90\x80\x80", "truncated": b"\xe2\x9c", "control": b"gvx_\x00\x1b[31m",
    })
    write("metadata", {
        "object": '{"team":"web","n":1}', "double-encoded": '"{\\"repo\\": \\"alice/site\\"}"',
        "null": "null", "null-string": '"null"', "array": "[1,2,3]", "string": '"\\"x\\""',
        "nested": '{"a":{"b":[true,null,1.5e300,-0]}}', "invalid": '{"a":', "empty": "",
        "invalid-utf8": b'{"a":"\xff"}', "escaped-nul": '{"a":"\\u0000"}',
        "deep": "[" * 300 + "]" * 300,
    })
    write("sql", {
        "create": "gvx_create\n- - - - - -\nTalice\nTmy laptop\nI4102444800000\nTci_\nT{\"a\":1}\n",
        "create-null": "gvx_create\n-\nN\nN\n",
        "create-blob": "gvx_create\n-\nBalice\nBname\n",
        "create-lifetime": "gvx_create\n- - - - - 86400000\nTalice\nTlimited life\n",
        "verify": f"gvx_verify\n-\nT{T['ok']}\nT203.0.113.7\nTgit/2.39\n",
        "verify-limited": f"gvx_verify\n1 60000 0\nT{T['ok']}\n",
        "check": f"gvx_check\n1 9223372036854775807 0\nT{T['ok']}\n",
        "check-expired": f"gvx_check\n-\nT{T['expired']}\n",
        "revoke": "gvx_revoke\n-\nTAliceOk\nTalice\n",
        "purge": "gvx_purge_expired\n- - - 1 1\nI1800000000000\n",
        "purge-min": "gvx_purge_expired\n-\nI-9223372036854775808\n",
        "cleanup-dry": "gvx_cleanup\n-\nI1800000000000\nI1\n",
        "list": "gvx_list\n-\nTalice\n",
        "format": f"gvx_check_format\n-\nT{T['ok']}\n",
        "hash-real": "gvx_key_hash\n-\nR1.5\n",
        "version": "gvx_version\n-\n",
        "config-window-max": f"gvx_check\n1 9223372036854775807 0\nT{T['ok']}\n",
        "config-lifetime-max": "gvx_create\n- - - - - 9223372036854775807\nTalice\nTforever\n",
        "config-retention-max": "gvx_cleanup\n- - - 9223372036854775807 1\nI1800000000000\n",
        "refill-hostile-row": "gvx_check\n-\nTgvx_AliceRefill" + "0" * 53 + "\n",
        "too-many": "gvx_verify\n-\nTa\nTb\nTc\nTd\n",
    })


if __name__ == "__main__":
    main()
