"""A token disabled through gvx stays refused by gvx while Gitflare verifies it, and the
request_count gvx reports never goes backwards.

better-auth's verification reads the whole apikey row and writes the whole row back (enabled,
request_count, remaining as it read them). So a disable made through gvx between its read and
its write is undone in the table, and gvx's increments in between are overwritten. gvx keeps
its own record (gvx_key_state) of what it disabled and counted, and consults it at every
verification.

Each trial: better-auth verifies the token in a loop in its own process while gvx (two
gvx-fcgi processes) verifies it, disables it, and keeps verifying and reading it.
"""
from common import (Checks, Peer, args, gitflare_db, gvx_api, gvx_authorize, gvx_fleet,
                    fresh_dir, main_guard)

TRIALS = 10
PEER_LOOP = 60
GVX_BEFORE = 15  # gvx verifications before the disable
GVX_AFTER = 25   # gvx verifications after it, while better-auth's loop goes on


def main():
    a = args(__doc__)
    fresh_dir(a.work)
    c = Checks("gitflare.race")
    db = gitflare_db(a)
    reverted = lost = 0
    with Peer(a.peer, db) as peer, gvx_fleet(a, db, count=2) as fleet:
        gvx = fleet.servers
        alice = peer.signup("alice")
        for trial in range(TRIALS):
            made_by = "gvx" if trial % 2 else "better-auth"
            if made_by == "gvx":
                token = gvx_api(gvx[0], "POST", "create", cookie=alice["cookie"],
                                body={"name": f"trial {trial}"}).json()
            else:
                token = peer.create(alice["cookie"], f"trial {trial}")
            seen = []  # request_count as gvx reports it, in order

            def read_count():
                r = gvx_api(gvx[len(seen) % 2], "GET", "get", cookie=alice["cookie"],
                            query=f"id={token['id']}")
                c.check(r.status == 200, f"trial {trial}: gvx /get: {r.status}")
                seen.append(r.json()["requestCount"])

            peer.send("verifyLoop", key=token["key"], count=PEER_LOOP)
            gvx_ok = 0
            for i in range(GVX_BEFORE):
                gvx_ok += gvx_authorize(gvx[i % 2], token["key"])[0] == 200
                read_count()
            r = gvx_api(gvx[0], "POST", "update", cookie=alice["cookie"],
                        body={"keyId": token["id"], "enabled": False})
            c.check(r.status == 200 and r.json()["enabled"] is False,
                    f"trial {trial}: gvx disables: {r.status}")
            refused = 0
            for i in range(GVX_AFTER):
                refused += gvx_authorize(gvx[i % 2], token["key"])[0] == 401
                read_count()
            results = peer.receive()["results"]
            for i in range(3):
                refused += gvx_authorize(gvx[i % 2], token["key"])[0] == 401
            read_count()

            c.check(gvx_ok == GVX_BEFORE, f"trial {trial}: {gvx_ok}/{GVX_BEFORE} verified before")
            c.check(refused == GVX_AFTER + 3,
                    f"trial {trial} ({made_by}): gvx refused {refused}/{GVX_AFTER + 3} after the "
                    f"disable (better-auth: {results})")
            c.check(all(x <= y for x, y in zip(seen, seen[1:])),
                    f"trial {trial}: request_count went backwards: {seen}")
            c.check(seen[-1] >= GVX_BEFORE,
                    f"trial {trial}: gvx counted {GVX_BEFORE} uses, reports {seen[-1]}")
            enabled, count = peer.sql("SELECT enabled, request_count FROM apikey WHERE id = ?",
                                      token["id"])[0].values()
            reverted += enabled == 1
            lost += count < GVX_BEFORE
            r = gvx_api(gvx[1], "GET", "get", cookie=alice["cookie"], query=f"id={token['id']}")
            c.check(r.json()["enabled"] is False, f"trial {trial}: gvx reports it disabled")
        # What better-auth did to the table meanwhile (the reason gvx keeps its own record).
        print(f"better-auth re-enabled the row in {reverted} of {TRIALS} trials and left "
              f"request_count below gvx's count in {lost}", flush=True)
    return c.finish()


if __name__ == "__main__":
    main_guard(main)
