// How tokens read on the page: dates, relative times, expiry and permissions.

export const DAY_MS = 86_400_000;
export const SOON_MS = 7 * DAY_MS;  // "expires soon" below this

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined,
                                               { dateStyle: "medium", timeStyle: "short" });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function formatDate(ms) {
  return dateFormat.format(new Date(ms));
}

export function formatDateTime(ms) {
  return dateTimeFormat.format(new Date(ms));
}

const UNITS = [["year", 365 * DAY_MS], ["month", 30 * DAY_MS], ["week", 7 * DAY_MS],
               ["day", DAY_MS], ["hour", 3_600_000], ["minute", 60_000]];

// "3 minutes ago", "in 6 days", "just now". A unit is used once the time reaches it to the
// half minute: an hour from now, a moment later, is "in 1 hour", not "in 60 minutes".
export function relativeTime(ms, now = Date.now()) {
  const delta = ms - now;
  if (Math.abs(delta) < 45_000) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(delta) + 30_000 >= size || unit === "minute") {
      return relativeFormat.format(Math.round(delta / size), unit);
    }
  }
  return "just now";
}

// {state: "never" | "ok" | "soon" | "expired", text}
export function expiry(token, now = Date.now()) {
  const at = token.expiresAt;
  if (at === null || at === undefined) return { state: "never", text: "Never" };
  if (at <= now) return { state: "expired", text: `Expired ${relativeTime(at, now)}` };
  const when = `${relativeTime(at, now)} (${formatDate(at)})`;
  return { state: at - now < SOON_MS ? "soon" : "ok",
           text: when.charAt(0).toUpperCase() + when.slice(1) };
}

// better-auth keeps permissions as a JSON object (a string in the database): resource ->
// actions. null means NULL: what every token could do before permissions existed (and what
// better-auth's own tokens have), read and write on every repository. Text gvx cannot read
// grants nothing (as the authorizer treats it): {unreadable: true}.
function parsePermissions(value) {
  if (value === null || value === undefined) return null;
  let v = value;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      return { unreadable: true };
    }
    if (v === null) return null;
  }
  if (v && typeof v === "object" && !Array.isArray(v)) return { grants: v };
  return { unreadable: true };
}

// "read and write", "read only", "write only" (push but not clone), or the actions as listed.
function accessText(actions) {
  const list = Array.isArray(actions) ? actions.map(String) : [];
  const read = list.includes("read");
  const write = list.includes("write");
  const others = list.filter((a) => a !== "read" && a !== "write");
  let text = read && write ? "read and write" : read ? "read only" : write ? "write only" : "";
  if (others.length) text = [text, ...others].filter(Boolean).join(", ");
  return text || "no access";
}

const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);

// One line a person reads: "Read and write, all repositories", "Read only: alice/docs, bob/x",
// "Read only, all repositories; read and write: alice/project". Repositories with the same
// access are listed together; resources of other applications are shown as they are.
export function permissionsText(value) {
  const perms = parsePermissions(value);
  if (perms === null) return "Read and write, all repositories";
  if (perms.unreadable) return "No access (the stored permissions cannot be read)";
  const parts = [];
  const repositoriesByAccess = new Map();  // access -> [path]
  const elsewhere = [];
  for (const [resource, actions] of Object.entries(perms.grants)) {
    if (resource === "repo") {
      const access = accessText(actions);
      parts.push(access === "no access" ? "no access to any repository"
                                        : `${access}, all repositories`);
    } else if (resource.startsWith("repo:")) {
      const access = accessText(actions);
      if (!repositoriesByAccess.has(access)) repositoriesByAccess.set(access, []);
      repositoriesByAccess.get(access).push(resource.slice(5));
    } else {
      const list = Array.isArray(actions) ? actions.join(", ") : String(actions);
      elsewhere.push(`${resource}: ${list || "no access"}`);
    }
  }
  for (const [access, paths] of repositoriesByAccess) parts.push(`${access}: ${paths.join(", ")}`);
  if (parts.length) parts[0] = capitalised(parts[0]);
  parts.push(...elsewhere);  // another application's names, as they are
  return parts.length ? parts.join("; ") : "No access";
}

const OUTCOMES = {
  OK: "Allowed",
  INVALID_API_KEY: "Refused: unknown token",
  KEY_EXPIRED: "Refused: expired",
  KEY_DISABLED: "Refused: disabled",
  USAGE_EXCEEDED: "Refused: usage exceeded",
  RATE_LIMITED: "Refused: rate limited",
  INSUFFICIENT_PERMISSIONS: "Refused: not permitted",
  // Push protection found the token in a push and disabled it (gvx pre-receive --revoke).
  LEAKED: "Leaked in a push: disabled",
};

export function outcomeText(code) {
  return OUTCOMES[code] || `Refused: ${String(code).toLowerCase().replaceAll("_", " ")}`;
}
