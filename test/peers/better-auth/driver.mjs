// better-auth 1.4.9 (lib.mjs: Gitflare's configuration) driven over stdin/stdout, one JSON
// object per line each way, so a test keeps one Node process for many requests.
//
//   node driver.mjs DB [--admin] [--no-ddl]
//
// Requests ({"op": ..., ...}) and what each answers ({"ok": true, ...} or {"ok": false, "error"}):
//   signup   {user}                       -> {userId, cookie}        (signs in when the user exists)
//   call     {method, path, body?, cookie?, headers?, raw?}
//                                         -> {status, contentType, text}  better-auth's own HTTP answer
//   verify   {key}                        -> auth.api.verifyApiKey's answer ({valid, error, key})
//   verifyLoop {key, count}               -> {results: {CODE or "OK": n}} count verifications in turn
//   sql      {sql, params?, all?}         -> {rows} or {changes}   on better-auth's own connection
//   migrate  {folder}                     -> {}  drizzle-orm's migrator (better-sqlite3) on the file
//   exec     {sql}                        -> {}  statements one by one, no transaction (wrangler-style)
//   quit                                  -> exits
import readline from "node:readline";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { BASE, call, login, open } from "./lib.mjs";

const [db, ...flags] = process.argv.slice(2);
if (!db) { console.error("usage: node driver.mjs DB [--admin] [--no-ddl]"); process.exit(2); }
const { sqlite, auth } = open(db, { admin: flags.includes("--admin"), ddl: !flags.includes("--no-ddl") });

async function rawCall({ method, path, body, cookie, headers = {}, raw }) {
  const h = { origin: BASE, ...headers };
  if (cookie) h.cookie = cookie;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) { payload = JSON.stringify(body); h["content-type"] ??= "application/json"; }
  const res = await auth.handler(new Request(BASE + "/api/auth" + path, { method, headers: h, body: payload }));
  return { status: res.status, contentType: res.headers.get("content-type"), text: await res.text() };
}

const ops = {
  signup: async ({ user }) => login(auth, user),
  call: rawCall,
  verify: async ({ key }) => auth.api.verifyApiKey({ body: { key } }),
  verifyLoop: async ({ key, count }) => {
    const results = {};
    for (let i = 0; i < count; i++) {
      const r = await auth.api.verifyApiKey({ body: { key } });
      const k = r.valid ? "OK" : r.error?.code ?? "UNKNOWN";
      results[k] = (results[k] ?? 0) + 1;
    }
    return { results };
  },
  sql: async ({ sql, params = [], all }) => {
    const st = sqlite.prepare(sql);
    return all || st.reader ? { rows: st.all(...params) } : { changes: st.run(...params).changes };
  },
  migrate: async ({ folder }) => { migrate(drizzle(sqlite), { migrationsFolder: folder }); return {}; },
  exec: async ({ sql }) => {
    for (const stmt of sql.split("--> statement-breakpoint")) if (stmt.trim()) sqlite.exec(stmt);
    return {};
  },
};

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const req = JSON.parse(line);
  if (req.op === "quit") break;
  let answer;
  try {
    const f = ops[req.op];
    if (!f) throw new Error(`unknown op ${req.op}`);
    answer = { ok: true, ...(await f(req)) };
  } catch (e) {
    answer = { ok: false, error: String(e?.message ?? e) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
sqlite.close();
process.exit(0);
