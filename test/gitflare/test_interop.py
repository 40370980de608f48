"""Tokens made by either side verify in the other, with verifications from both processes
mixed and at the same time, on one database made by Gitflare's migration.

better-auth 1.4.9 (the peer, Gitflare's configuration) and gvx-fcgi run side by side on the
file; each creates tokens through its own HTTP API with the same better-auth session cookie.
"""
from common import (TOKEN_RE, Checks, PeerError, Peer, args, gitflare_db, gvx_api,  # noqa: F401
                    gvx_authorize, gvx_fleet, main_guard, fresh_dir)

ROUNDS = 15


def main():
    a = args(__doc__)
    fresh_dir(a.work)
    c = Checks("gitflare.interop")
    db = gitflare_db(a)
    with Peer(a.peer, db) as peer, gvx_fleet(a, db, count=2) as fleet:
        gvx = fleet.servers
        alice = peer.signup("alice")
        bob = peer.signup("bob")

        made_by_peer = peer.create(alice["cookie"], "made by better-auth")
        r = gvx_api(gvx[0], "POST", "create", cookie=alice["cookie"], body={"name": "made by gvx"})
        c.check(r.status == 200, f"gvx creates with the peer's session cookie: {r.status} {r.body!r}")
        made_by_gvx = r.json()
        c.check(made_by_gvx["userId"] == alice["userId"], "gvx's token belongs to the cookie's user")
        c.check(TOKEN_RE.match(made_by_gvx["key"]) and TOKEN_RE.match(made_by_peer["key"]),
                "both tokens have the shape gvx_ + 64 characters")
        bobs = peer.create(bob["cookie"], "bob's")
        tokens = {"peer": made_by_peer["key"], "gvx": made_by_gvx["key"]}

        # Alternating, one at a time: every verification on either side succeeds for the owner.
        for i in range(ROUNDS):
            for who, key in tokens.items():
                v = peer.verify(key)
                c.check(v["valid"] and v["key"]["userId"] == alice["userId"],
                        f"round {i}: better-auth verifies the token made by {who}: {v.get('error')}")
                status, user = gvx_authorize(gvx[i % 2], key)
                c.check(status == 200 and user == alice["userId"],
                        f"round {i}: gvx verifies the token made by {who}: {status} {user}")
        status, user = gvx_authorize(gvx[0], bobs["key"])
        c.check(status == 200 and user == bob["userId"], "gvx names bob for bob's token")

        # At the same time: the peer verifies in its own loop while both gvx processes do.
        for key in tokens.values():
            peer.send("verifyLoop", key=key, count=40)
            gvx_ok = 0
            for i in range(40):
                status, user = gvx_authorize(gvx[i % 2], key)
                gvx_ok += status == 200 and user == alice["userId"]
            peer_results = peer.receive()["results"]
            c.check(gvx_ok == 40, f"gvx: {gvx_ok}/40 concurrent verifications succeeded")
            c.check(peer_results == {"OK": 40}, f"better-auth, concurrently: {peer_results}")

        # Each side lists both tokens, and the other side's token reads back whole.
        listed = peer.http("GET", "/api-key/list", cookie=alice["cookie"])
        c.check(listed["status"] == 200, f"better-auth lists: {listed['status']} {listed['text'][:200]}")
        names = sorted(t["name"] for t in listed["json"] or [])
        c.check(names == ["made by better-auth", "made by gvx"], f"better-auth lists both: {names}")
        r = gvx_api(gvx[1], "GET", "list", cookie=alice["cookie"])
        names = sorted(t["name"] for t in r.json()) if r.status == 200 else r.body
        c.check(names == ["made by better-auth", "made by gvx"], f"gvx lists both: {names}")

        # A wrong token is refused by both.
        wrong = made_by_gvx["key"][:-1] + ("a" if made_by_gvx["key"][-1] != "a" else "b")
        c.check(not peer.verify(wrong)["valid"], "better-auth refuses a changed token")
        c.check(gvx_authorize(gvx[0], wrong)[0] == 401, "gvx refuses a changed token")

        # A token deleted through either side stops verifying in the other.
        r = gvx_api(gvx[0], "POST", "delete", cookie=alice["cookie"],
                    body={"keyId": made_by_peer["id"]})
        c.check(r.status == 200, f"gvx deletes better-auth's token: {r.status}")
        c.check(not peer.verify(made_by_peer["key"])["valid"], "better-auth: deleted through gvx")
        d = peer.http("POST", "/api-key/delete", body={"keyId": made_by_gvx["id"]},
                      cookie=alice["cookie"])
        c.check(d["status"] == 200, f"better-auth deletes gvx's token: {d['status']} {d['text']}")
        c.check(gvx_authorize(gvx[1], made_by_gvx["key"])[0] == 401, "gvx: deleted through better-auth")
    return c.finish()


if __name__ == "__main__":
    main_guard(main)
