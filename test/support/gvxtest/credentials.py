"""Credentials as clients and better-auth make them, and checks that tokens stay secret.

    basic_auth(user, password) -> "Basic ..."
    write_htpasswd(path, {user: password})          {SHA} entries (lighttpd, Apache, nginx)
    sign_cookie(token, secret)                      better-auth's signed session cookie value
    key_hash(token)                                 what apikey.key stores for a token
    leaked_secrets(data, tokens)                    the tokens a telling piece of which is in data
"""
import base64
import hashlib
import hmac
import os
import urllib.parse


def basic_auth(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def write_htpasswd(path, users):
    """{SHA} entries: understood by lighttpd, Apache and nginx alike."""
    with open(path, "w") as f:
        for user, password in users.items():
            digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
            f.write(f"{user}:{{SHA}}{digest}\n")
    os.chmod(path, 0o644)
    return path


def sign_cookie(token, secret):
    """better-auth's signed cookie: encodeURIComponent(token + "." + base64(HMAC-SHA256))."""
    mac = hmac.new(secret.encode(), token.encode(), hashlib.sha256).digest()
    return urllib.parse.quote(f"{token}.{base64.b64encode(mac).decode()}", safe="!~*'()")


def key_hash(token):
    """What apikey.key stores for a token: base64url(SHA-256(token)) without padding."""
    digest = hashlib.sha256(token.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def leaked_secrets(data, tokens):
    """The tokens of which a telling piece (16 characters after the first 6, which are shown as
    `start` on purpose; pieces of low variety such as 'bbbb...' in test fixtures are skipped)
    appears in data (bytes or str)."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    found = []
    for t in tokens:
        body = t[6:]
        pieces = [body[i:i + 16] for i in range(0, max(1, len(body) - 15), 4)]
        if any(len(set(p)) >= 8 and p in text for p in pieces):
            found.append(t)
    return found
