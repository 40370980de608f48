// Shared by ba.mjs and bench.mjs: better-auth 1.4.9 configured as Gitflare configures it.
import fs from "node:fs";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { admin, apiKey, username } from "better-auth/plugins";

export const SECRET = "gvx-peer-secret-0123456789abcdef0123456789";
export const BASE = "http://localhost:3000";
const ms = (name) => integer(name, { mode: "timestamp_ms" });
const bool = (name) => integer(name, { mode: "boolean" });

const userColumns = {
    id: text("id").primaryKey(), name: text("name").notNull(), email: text("email").notNull(),
    emailVerified: bool("email_verified").notNull(), image: text("image"),
    createdAt: ms("created_at").notNull(), updatedAt: ms("updated_at").notNull(),
    username: text("username"), displayUsername: text("display_username"),
};
// The admin plugin's columns (user.role, banned, ban_reason, ban_expires), for the tests that
// ban users the way better-auth does; Gitflare itself does not use the admin plugin.
const adminColumns = {
  role: text("role"), banned: bool("banned"), banReason: text("ban_reason"), banExpires: ms("ban_expires"),
};
const tables = {
  session: sqliteTable("session", {
    id: text("id").primaryKey(), expiresAt: ms("expires_at").notNull(), token: text("token").notNull(),
    createdAt: ms("created_at").notNull(), updatedAt: ms("updated_at").notNull(),
    ipAddress: text("ip_address"), userAgent: text("user_agent"), userId: text("user_id").notNull(),
  }),
  account: sqliteTable("account", {
    id: text("id").primaryKey(), accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(), userId: text("user_id").notNull(),
    accessToken: text("access_token"), refreshToken: text("refresh_token"), idToken: text("id_token"),
    accessTokenExpiresAt: ms("access_token_expires_at"), refreshTokenExpiresAt: ms("refresh_token_expires_at"),
    scope: text("scope"), password: text("password"),
    createdAt: ms("created_at").notNull(), updatedAt: ms("updated_at").notNull(),
  }),
  verification: sqliteTable("verification", {
    id: text("id").primaryKey(), identifier: text("identifier").notNull(), value: text("value").notNull(),
    expiresAt: ms("expires_at").notNull(), createdAt: ms("created_at").notNull(), updatedAt: ms("updated_at").notNull(),
  }),
  apikey: sqliteTable("apikey", {
    id: text("id").primaryKey(), name: text("name"), start: text("start"), prefix: text("prefix"),
    key: text("key").notNull(), userId: text("user_id").notNull(),
    refillInterval: integer("refill_interval"), refillAmount: integer("refill_amount"),
    lastRefillAt: ms("last_refill_at"), enabled: bool("enabled").default(true),
    rateLimitEnabled: bool("rate_limit_enabled").default(true),
    rateLimitTimeWindow: integer("rate_limit_time_window").default(86400000),
    rateLimitMax: integer("rate_limit_max").default(10), requestCount: integer("request_count").default(0),
    remaining: integer("remaining"), lastRequest: ms("last_request"), expiresAt: ms("expires_at"),
    createdAt: ms("created_at").notNull(), updatedAt: ms("updated_at").notNull(),
    permissions: text("permissions"), metadata: text("metadata"),
  }),
};
const schemaFor = (withAdmin) => ({
  user: sqliteTable("user", withAdmin ? { ...userColumns, ...adminColumns } : userColumns),
  ...tables,
});

// The same columns, types and defaults as Gitflare's D1 tables (written from the column list).
const DDL = `
CREATE TABLE IF NOT EXISTS user (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
  email_verified INTEGER DEFAULT false NOT NULL, image TEXT,
  created_at INTEGER DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL,
  updated_at INTEGER DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL,
  username TEXT UNIQUE, display_username TEXT);
CREATE TABLE IF NOT EXISTS session (id TEXT PRIMARY KEY NOT NULL, expires_at INTEGER NOT NULL, token TEXT NOT NULL UNIQUE,
  created_at INTEGER DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL, updated_at INTEGER NOT NULL,
  ip_address TEXT, user_agent TEXT, user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS account (id TEXT PRIMARY KEY NOT NULL, account_id TEXT NOT NULL, provider_id TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE, access_token TEXT, refresh_token TEXT, id_token TEXT,
  access_token_expires_at INTEGER, refresh_token_expires_at INTEGER, scope TEXT, password TEXT,
  created_at INTEGER DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS verification (id TEXT PRIMARY KEY NOT NULL, identifier TEXT NOT NULL, value TEXT NOT NULL,
  expires_at INTEGER NOT NULL, created_at INTEGER DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL,
  updated_at INTEGER DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL);
CREATE TABLE IF NOT EXISTS apikey (id TEXT PRIMARY KEY NOT NULL, name TEXT, start TEXT, prefix TEXT, key TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE, refill_interval INTEGER, refill_amount INTEGER,
  last_refill_at INTEGER, enabled INTEGER DEFAULT true, rate_limit_enabled INTEGER DEFAULT true,
  rate_limit_time_window INTEGER DEFAULT 86400000, rate_limit_max INTEGER DEFAULT 10, request_count INTEGER DEFAULT 0,
  remaining INTEGER, last_request INTEGER, expires_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  permissions TEXT, metadata TEXT);
`;

// open(path, { admin, ddl }): admin adds better-auth's admin plugin (and its user columns when
// missing); ddl: false leaves the schema to whoever made the file (Gitflare's migration).
export function open(path, { admin: withAdmin = false, ddl = true } = {}) {
  const sqlite = new Database(path);
  sqlite.pragma("busy_timeout = 5000");
  if (ddl) sqlite.exec(DDL);
  if (withAdmin) {
    const have = new Set(sqlite.prepare("SELECT name FROM pragma_table_info('user')").all().map((r) => r.name));
    for (const [col, type] of [["role", "TEXT"], ["banned", "INTEGER"], ["ban_reason", "TEXT"], ["ban_expires", "INTEGER"]])
      if (!have.has(col)) sqlite.exec(`ALTER TABLE user ADD COLUMN ${col} ${type}`);
  }
  const schema = schemaFor(withAdmin);
  // PEER_TUNED=1: the peer at its best (WAL, and the indexes Gitflare's migration lacks).
  if (process.env.PEER_TUNED === "1") {
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.exec("CREATE INDEX IF NOT EXISTS apikey_key_idx ON apikey(key); CREATE INDEX IF NOT EXISTS apikey_user_idx ON apikey(user_id);");
  }
  const auth = betterAuth({
    baseURL: BASE, secret: SECRET, trustedOrigins: [BASE],
    database: drizzleAdapter(drizzle(sqlite, { schema }), { provider: "sqlite", schema }),
    emailAndPassword: { enabled: true, requireEmailVerification: false },
    advanced: { useSecureCookies: true },
    plugins: [username(), apiKey({ enableMetadata: true, rateLimit: { enabled: false } }),
              ...(withAdmin ? [admin()] : [])],
    logger: { disabled: true }, telemetry: { enabled: false },
  });
  return { sqlite, auth };
}

export async function call(auth, method, path, { body, cookie } = {}) {
  const headers = { origin: BASE };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (cookie) headers.cookie = cookie;
  const res = await auth.handler(new Request(BASE + "/api/auth" + path,
    { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
  return { status: res.status, setCookie: res.headers.get("set-cookie"), text: await res.text() };
}

export async function login(auth, user) {
  const creds = { email: `${user}@example.com`, password: `pw-${user}-123456` };
  let r = await call(auth, "POST", "/sign-in/email", { body: creds });
  if (r.status !== 200) r = await call(auth, "POST", "/sign-up/email", { body: { ...creds, name: user, username: user } });
  if (r.status !== 200) throw new Error(`login ${user}: ${r.status} ${r.text}`);
  const cookie = /(__Secure-better-auth\.session_token=[^;]+)/.exec(r.setCookie)[1];
  return { userId: JSON.parse(r.text).user.id, cookie };
}

