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

// "3 minutes ago", "in 6 days", "just now".
export function relativeTime(ms, now = Date.now()) {
  const delta = ms - now;
  if (Math.abs(delta) < 45_000) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(delta) >= size || unit === "minute") {
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
// actions. NULL means what every token could do before permissions existed: read and write
// on every repository.
export function parsePermissions(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "string") {
    try {
      return parsePermissions(JSON.parse(value));
    } catch {
      return { unreadable: [value] };
    }
  }
  if (typeof value === "object" && !Array.isArray(value)) return value;
  return { unreadable: [String(value)] };
}

// A JSON object given as an object or as its text (the database keeps text); else null.
export function parseObject(value) {
  let v = value;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  return v && typeof v === "object" && !Array.isArray(v) ? v : null;
}

function accessText(actions) {
  const list = Array.isArray(actions) ? actions : [];
  if (list.includes("read") && list.includes("write")) return "read and write";
  if (list.includes("write")) return "write";
  if (list.includes("read")) return "read only";
  return list.join(", ") || "nothing";
}

export function permissionsText(value) {
  const perms = parsePermissions(value);
  if (perms === null) return "Read and write, all repositories";
  const parts = [];
  for (const [resource, actions] of Object.entries(perms)) {
    if (resource === "repo") {
      const access = accessText(actions);
      parts.push(`${access.charAt(0).toUpperCase()}${access.slice(1)}, all repositories`);
    } else if (resource.startsWith("repo:")) {
      parts.push(`${resource.slice(5)} (${accessText(actions)})`);
    } else {
      parts.push(`${resource}: ${Array.isArray(actions) ? actions.join(", ") : String(actions)}`);
    }
  }
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
