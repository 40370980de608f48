// The JSON token API (README, "HTTP API"), called with the browser's own session: the web
// server's Basic login or the better-auth cookie. Same-origin fetches send the cookie, and a
// POST carries an Origin header, which is what gvx-fcgi's CSRF check asks of cookie callers.

const base = document.querySelector('meta[name="gvx-api-base"]')?.content || "/api/auth/api-key";

// An answer other than 2xx, with the API's {"code", "message"}.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The endpoint's URL, from the origin alone: a page opened as http://user:pass@host/… has the
// credentials in its own URL, and fetch() refuses a URL that carries them.
function endpointUrl(endpoint, query) {
  const url = new URL(`${base}/${endpoint}`, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) url.searchParams.set(name, value);
  return url;
}

async function call(method, endpoint, { body, query } = {}) {
  const init = { method, credentials: "same-origin", cache: "no-store",
                 headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(endpointUrl(endpoint, query), init);
  } catch {
    throw new ApiError(0, "NETWORK",
                       "The server could not be reached. Check your connection and try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const code = data && typeof data.code === "string" ? data.code : `HTTP_${response.status}`;
    const message = data && typeof data.message === "string" ? data.message
      : `The server answered ${response.status} ${response.statusText}.`;
    throw new ApiError(response.status, code, message);
  }
  return data;
}

export const api = {
  list: () => call("GET", "list"),
  get: (id) => call("GET", "get", { query: { id } }),
  activity: (id, limit = 20) => call("GET", "activity", { query: { id, limit } }),
  create: (fields) => call("POST", "create", { body: fields }),
  update: (keyId, changes) => call("POST", "update", { body: { keyId, ...changes } }),
  remove: (keyId) => call("POST", "delete", { body: { keyId } }),
  // graceSeconds: how long the old token keeps working (0: it stops at once).
  rotate: (keyId, graceSeconds = 0) => call("POST", "rotate", {
    body: graceSeconds > 0 ? { keyId, graceSeconds } : { keyId } }),
};
