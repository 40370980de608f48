// The "Generate a new token" form: name, expiration, permissions; the new token shown once.

import { api, ApiError } from "./api.js";
import { DAY_MS } from "./format.js";
import { clearFieldError, fieldOfMessage, showFieldError } from "./fields.js";

const $ = (id) => document.getElementById(id);

// A repository path as it appears in the clone URL, without ".git".
const REPO_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

function localDateString(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export class GenerateForm {
  constructor({ onCreated, onSignedOut }) {
    this.form = $("generate-form");
    this.name = $("token-name");
    this.expiration = $("token-expiration");
    this.date = $("token-expiration-date");
    this.repos = $("token-repositories");
    this.reposAccess = $("token-repositories-access");
    this.errors = {
      name: [this.name, $("token-name-error")],
      expiration: [this.expiration, $("token-expiration-error")],
      permissions: [this.repos, $("token-permissions-error")],
      form: [null, $("generate-error")],
    };
    this.onCreated = onCreated;
    this.onSignedOut = onSignedOut;
    this.submit = this.form.querySelector('button[type="submit"]');

    this.expiration.addEventListener("change", () => this.updateExpiration());
    for (const radio of this.form.elements.permissions) {
      radio.addEventListener("change", () => this.updatePermissions());
    }
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.generate();
    });
    this.updateExpiration();
    this.updatePermissions();
  }

  updateExpiration() {
    const choice = this.expiration.value;
    $("custom-date-field").hidden = choice !== "custom";
    $("no-expiration-warning").hidden = choice !== "none";
    const tomorrow = new Date(Date.now() + DAY_MS);
    this.date.min = localDateString(tomorrow);
    const hint = $("token-expiration-hint");
    if (/^\d+$/.test(choice)) {
      hint.textContent = `The token expires on ${new Date(Date.now() + Number(choice) * DAY_MS)
        .toLocaleDateString(undefined, { dateStyle: "full" })}.`;
    } else if (choice === "custom") {
      hint.textContent = "The token expires at the end of the day you choose.";
    } else {
      hint.textContent = "";
    }
  }

  updatePermissions() {
    $("repos-field").hidden = this.form.elements.permissions.value !== "repos";
  }

  clearErrors() {
    for (const [input, element] of Object.values(this.errors)) clearFieldError(input, element);
  }

  showError(field, message) {
    const [input, element] = this.errors[field] || this.errors.form;
    showFieldError(input, element, message);
    (input || element).focus?.();
  }

  // The create request's body, or null after showing what is wrong.
  request() {
    const body = { name: this.name.value };
    if (this.name.value.trim() === "") {
      this.showError("name", "Give the token a name.");
      return null;
    }
    const choice = this.expiration.value;
    if (/^\d+$/.test(choice)) {
      body.expiresIn = Number(choice) * 86_400;
    } else if (choice === "custom") {
      if (!this.date.value) {
        showFieldError(this.date, this.errors.expiration[1], "Choose the expiration date.");
        this.date.focus();
        return null;
      }
      const [y, m, d] = this.date.value.split("-").map(Number);
      const endOfDay = new Date(y, m - 1, d, 23, 59, 59, 999).getTime();
      if (!(endOfDay > Date.now())) {
        showFieldError(this.date, this.errors.expiration[1], "Choose a date in the future.");
        this.date.focus();
        return null;
      }
      body.expiresAt = endOfDay;
    }
    const scope = this.form.elements.permissions.value;
    if (scope === "read") body.permissions = { repo: ["read"] };
    else if (scope === "write") body.permissions = { repo: ["read", "write"] };
    else {
      const paths = this.repos.value.split(/\s+/).map((p) => p.replace(/\.git$/, ""))
        .filter(Boolean);
      if (paths.length === 0) {
        this.showError("permissions", "List at least one repository.");
        return null;
      }
      const bad = paths.find((p) => !REPO_PATH.test(p)
                             || p.split("/").some((s) => s === "." || s === ".."));
      if (bad) {
        this.showError("permissions", `“${bad}” is not a repository path like alice/project.`);
        return null;
      }
      const actions = this.reposAccess.value === "read" ? ["read"] : ["read", "write"];
      body.permissions = Object.fromEntries([...new Set(paths)].map((p) => [`repo:${p}`, actions]));
    }
    return body;
  }

  async generate() {
    this.clearErrors();
    const body = this.request();
    if (!body) return;
    this.submit.disabled = true;
    try {
      const created = await api.create(body);
      this.form.reset();
      this.updateExpiration();
      this.updatePermissions();
      this.onCreated(created);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.onSignedOut();
      const message = error instanceof ApiError ? error.message : "Something went wrong.";
      this.showError(fieldOfMessage(message) || "form", message);
    } finally {
      this.submit.disabled = false;
    }
  }
}
