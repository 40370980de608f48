// The list of tokens: one row per token with its facts and its actions (activity, rename,
// disable/enable, rotate, revoke).

import { api, ApiError } from "./api.js";
import { expiry, formatDate, formatDateTime, outcomeText, permissionsText,
         relativeTime } from "./format.js";
import { ConfirmDialog, RenameDialog, RotateDialog } from "./dialogs.js";

const $ = (id) => document.getElementById(id);

function timeElement(ms, text) {
  const t = document.createElement("time");
  t.dateTime = new Date(ms).toISOString();
  t.title = formatDateTime(ms);
  t.textContent = text;
  return t;
}

function badge(text, kind) {
  const b = document.createElement("span");
  b.className = `badge badge-${kind}`;
  b.textContent = text;
  return b;
}

export class TokenList {
  constructor({ announce, onNewToken, onSignedOut }) {
    this.list = $("token-list");
    this.template = $("token-row-template");
    this.announce = announce;
    this.onNewToken = onNewToken;
    this.onSignedOut = onSignedOut;
    this.tokens = [];
    this.revokeDialog = new ConfirmDialog("revoke");
    this.rotateDialog = new RotateDialog();
    this.renameDialog = new RenameDialog();
  }

  async load() {
    this.tokens = await api.list();
    this.render();
  }

  render() {
    const now = Date.now();
    const sorted = [...this.tokens].sort((a, b) => b.createdAt - a.createdAt);
    this.list.replaceChildren(...sorted.map((t) => this.row(t, now)));
    $("tokens-empty").hidden = sorted.length > 0;
    $("token-count").textContent = sorted.length === 1 ? "1 token" : `${sorted.length} tokens`;
  }

  row(token, now) {
    const li = this.template.content.firstElementChild.cloneNode(true);
    const nameId = `token-name-${token.id}`;
    const name = li.querySelector(".token-name");
    name.id = nameId;
    name.textContent = token.name;
    li.dataset.tokenId = token.id;

    const exp = expiry(token, now);
    const badges = li.querySelector(".badges");
    if (!token.enabled) badges.append(badge("Disabled", "muted"));
    if (exp.state === "expired") badges.append(badge("Expired", "danger"));
    else if (exp.state === "soon") badges.append(badge("Expires soon", "warning"));
    else if (token.enabled) badges.append(badge("Active", "ok"));
    li.classList.toggle("token-disabled", !token.enabled);
    li.classList.toggle("token-expired", exp.state === "expired");

    li.querySelector(".fact-permissions").textContent = permissionsText(token.permissions);
    li.querySelector(".fact-start").textContent = `${token.start || token.prefix || ""}…`;
    li.querySelector(".fact-created")
      .append(timeElement(token.createdAt, formatDate(token.createdAt)));
    const lastUsed = li.querySelector(".fact-last-used");
    if (token.lastRequest) {
      lastUsed.append(timeElement(token.lastRequest, relativeTime(token.lastRequest, now)));
    } else {
      lastUsed.textContent = "Never";
    }
    li.querySelector(".fact-requests").textContent = String(token.requestCount ?? 0);
    const expires = li.querySelector(".fact-expires");
    if (token.expiresAt) expires.append(timeElement(token.expiresAt, exp.text));
    else expires.textContent = exp.text;
    if (exp.state === "soon") expires.classList.add("expires-soon");
    if (exp.state === "expired") expires.classList.add("expired");

    // Every action button says which token it acts on, for screen readers.
    for (const button of li.querySelectorAll(".token-actions button")) {
      button.setAttribute("aria-describedby", nameId);
    }
    const toggle = li.querySelector(".action-toggle");
    toggle.textContent = token.enabled ? "Disable" : "Enable";
    toggle.addEventListener("click", () => this.toggle(li, token));
    const on = (selector, handler) => li.querySelector(selector)
      .addEventListener("click", (e) => handler(e.currentTarget));
    on(".action-rename", (button) => this.rename(token, button));
    on(".action-rotate", (button) => this.rotate(token, button));
    on(".action-revoke", (button) => this.revoke(token, button));
    const activityButton = li.querySelector(".action-activity");
    const activity = li.querySelector(".activity");
    activity.id = `activity-${token.id}`;
    activityButton.setAttribute("aria-controls", activity.id);
    activityButton.addEventListener("click",
                                    () => this.toggleActivity(li, token, activityButton, activity));
    return li;
  }

  rowError(li, error) {
    if (error instanceof ApiError && error.status === 401) this.onSignedOut();
    const p = li.querySelector(".row-error");
    p.textContent = error.message;
    p.hidden = false;
  }

  replace(updated) {
    this.tokens = this.tokens.map((t) => (t.id === updated.id ? updated : t));
    this.render();
  }

  focusRow(id, selector) {
    const li = this.list.querySelector(`[data-token-id="${CSS.escape(id)}"]`);
    (li?.querySelector(selector) || $("tokens-title")).focus();
  }

  async toggle(li, token) {
    try {
      const updated = await api.update(token.id, { enabled: !token.enabled });
      this.replace(updated);
      this.announce(`${updated.name} ${updated.enabled ? "enabled" : "disabled"}.`);
      this.focusRow(updated.id, ".action-toggle");
    } catch (error) {
      this.rowError(li, error);
    }
  }

  async rename(token, opener) {
    const updated = await this.renameDialog.ask(token.name, opener,
                                                (name) => api.update(token.id, { name }));
    if (!updated) return;
    this.replace(updated);
    this.announce(`Renamed to ${updated.name}.`);
    this.focusRow(updated.id, ".action-rename");
  }

  async revoke(token, opener) {
    const done = await this.revokeDialog.ask(token.name, opener, () => api.remove(token.id));
    if (!done) return;
    this.tokens = this.tokens.filter((t) => t.id !== token.id);
    this.render();
    this.announce(`${token.name} revoked.`);
    $("tokens-title").focus();
  }

  // POST /rotate: one atomic step on the server (same name, permissions and metadata). The
  // new token is shown before the list is fetched again, so a failing reload cannot lose it.
  async rotate(token, opener) {
    let grace = 0;
    const created = await this.rotateDialog.ask(token.name, opener, (seconds) => {
      grace = seconds;
      return api.rotate(token.id, seconds);
    });
    if (!created) return;
    this.onNewToken(created, { verb: "rotated", note: rotationNote(token, grace) });
    try {
      await this.load();
    } catch (error) {
      this.announce(`The list could not be updated: ${error.message}`);
    }
  }

  async toggleActivity(li, token, button, panel) {
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", String(!open));
    panel.hidden = open;
    if (open) return;
    panel.textContent = "Loading…";
    try {
      const entries = await api.activity(token.id);
      panel.replaceChildren(activityTable(entries, token.name));
    } catch (error) {
      panel.textContent = "";
      this.rowError(li, error);
    }
  }
}

function activityTable(entries, name) {
  if (!entries.length) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "No activity yet: this token has not been used.";
    return p;
  }
  const table = document.createElement("table");
  table.createCaption().textContent = `Recent activity of ${name}`;
  const head = table.createTHead().insertRow();
  const columns = [["Time", ""], ["Outcome", ""], ["IP address", ""], ["User agent", "agent"]];
  for (const [label, cls] of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = label;
    if (cls) th.className = cls;
    head.append(th);
  }
  const body = table.createTBody();
  const now = Date.now();
  for (const e of entries) {
    const row = body.insertRow();
    row.insertCell().append(timeElement(e.at, relativeTime(e.at, now)));
    const outcome = row.insertCell();
    outcome.textContent = outcomeText(e.outcome);
    outcome.className = e.outcome === "OK" ? "outcome-ok" : "outcome-refused";
    row.insertCell().textContent = e.ip || "—";
    const agent = row.insertCell();
    agent.className = "agent";
    agent.textContent = e.userAgent || "—";
  }
  return table;
}

// What happens to the token a rotation replaced: it stops now, or at the end of the grace
// (never later than it would have expired anyway).
function rotationNote(old, graceSeconds) {
  if (!(graceSeconds > 0)) {
    return "The old token has stopped working: use the new one wherever the old one was.";
  }
  const ends = Math.min(old.expiresAt ?? Infinity, Date.now() + graceSeconds * 1000);
  return `The old token keeps working until ${formatDateTime(ends)} (${relativeTime(ends)}): `
    + "put the new one wherever the old one is used before then.";
}
