// better-auth 1.4.9 configured as Gitflare configures it (lib.mjs), as a command-line peer for
// gvx's tests: every command prints one line of JSON. test/peers/better_auth.py drives it.
//
//   node peer.mjs init   DB                        create better-auth's tables (no-op if present)
//   node peer.mjs signup DB USER                   sign USER up (or in): {userId, cookie}
//   node peer.mjs create DB USER NAME [EXPSEC]     a token as Gitflare's UI makes it (HTTP, cookie)
//   node peer.mjs create-server DB USER NAME [PERMISSIONS_JSON [EXPSEC]]
//                                                  a token made by the server API createApiKey,
//                                                  the only way better-auth sets permissions
//   node peer.mjs list   DB USER                   GET /api-key/list as USER: {status, body}
//   node peer.mjs verify DB TOKEN [PERMISSIONS_JSON]
//                                                  better-auth's verifyApiKey: {valid, code, userId}
//   node peer.mjs secret                           the cookie-signing secret
import { open, call, login, SECRET } from "./lib.mjs";

const [cmd, db, ...args] = process.argv.slice(2);
const say = (x) => console.log(JSON.stringify(x));
const fail = (msg) => { console.error(msg); process.exit(1); };

if (cmd === "secret") { console.log(SECRET); process.exit(0); }
if (!db) { console.error("usage: see the header of peer.mjs"); process.exit(2); }
const { auth } = open(db);

if (cmd === "init") {
  say({ ok: true });
} else if (cmd === "signup") {
  say(await login(auth, args[0]));
} else if (cmd === "create") {
  const { cookie } = await login(auth, args[0]);
  const body = { name: args[1], prefix: "gvx_" };
  if (args[2]) body.expiresIn = Number(args[2]);
  const r = await call(auth, "POST", "/api-key/create", { body, cookie });
  if (r.status !== 200) fail(`${r.status} ${r.text}`);
  console.log(r.text);
} else if (cmd === "create-server") {
  const { userId } = await login(auth, args[0]);
  const body = { userId, name: args[1], prefix: "gvx_" };
  if (args[2]) body.permissions = JSON.parse(args[2]);
  if (args[3]) body.expiresIn = Number(args[3]);
  say(await auth.api.createApiKey({ body }));
} else if (cmd === "list") {
  const { cookie } = await login(auth, args[0]);
  const r = await call(auth, "GET", "/api-key/list", { cookie });
  say({ status: r.status, body: JSON.parse(r.text || "null") });
} else if (cmd === "verify") {
  const body = { key: args[0] };
  if (args[1]) body.permissions = JSON.parse(args[1]);
  const r = await auth.api.verifyApiKey({ body });
  say({ valid: r.valid, code: r.error?.code ?? null, userId: r.key?.userId ?? null });
} else {
  console.error("unknown command " + cmd);
  process.exit(2);
}
