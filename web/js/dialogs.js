// Native <dialog>s that confirm an action and run it: they stay open with the API's error
// when it fails, close when it succeeds, and answer null when cancelled (button or Escape).

import { clearFieldError, showFieldError } from "./fields.js";

const $ = (id) => document.getElementById(id);

class ActionDialog {
  constructor(kind, errorElement, input = null) {
    this.kind = kind;
    this.dialog = $(`${kind}-dialog`);
    this.form = this.dialog.querySelector("form");
    this.error = errorElement;
    this.input = input;
    this.pending = null;  // {resolve, action}
    this.form.addEventListener("submit", (event) => this.submitted(event));
    this.dialog.addEventListener("close", () => this.finish(null));
  }

  open(opener, action) {
    clearFieldError(this.input, this.error);
    this.finish(null);
    this.opener = opener;
    return new Promise((resolve) => {
      this.pending = { resolve, action };
      this.dialog.showModal();
    });
  }

  finish(result) {
    if (!this.pending) return;
    const { resolve } = this.pending;
    this.pending = null;
    resolve(result);
    if (result === null && this.opener?.isConnected) this.opener.focus();
  }

  // What the action is given: the dialog's field, if it has one.
  value() {
    return this.input?.value;
  }

  async submitted(event) {
    if (event.submitter?.value !== this.kind || !this.pending) return;  // Cancel closes
    event.preventDefault();
    const buttons = this.form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const result = await this.pending.action(this.value());
      const { resolve } = this.pending;
      this.pending = null;
      this.dialog.close(this.kind);
      resolve(result ?? true);
    } catch (error) {
      showFieldError(this.input, this.error, error.message);
      (this.input || this.form.querySelector(`button[value="${this.kind}"]`)).focus();
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }
}

// Revoke: "Revoke <name>?" with Cancel (focused first) and the action's button.
export class ConfirmDialog extends ActionDialog {
  constructor(kind) {
    super(kind, $(`${kind}-error`));
    this.name = $(`${kind}-name`);
  }

  ask(tokenName, opener, action) {
    this.name.textContent = tokenName;
    return this.open(opener, action);
  }
}

// Rename: the current name, selected, in a "New name" field; errors next to it.
export class RenameDialog extends ActionDialog {
  constructor() {
    super("rename", $("rename-error"), $("rename-name"));
  }

  ask(currentName, opener, action) {
    this.input.value = currentName;
    const answer = this.open(opener, action);
    this.input.select();
    return answer;
  }
}

// Rotate: like revoke, with a choice of how long the old token keeps working (a number of
// seconds, given to the action; "At once" each time the dialog opens).
export class RotateDialog extends ConfirmDialog {
  constructor() {
    super("rotate");
    this.grace = $("rotate-grace");
  }

  ask(tokenName, opener, action) {
    this.grace.value = "0";
    return super.ask(tokenName, opener, action);
  }

  value() {
    return Number(this.grace.value);
  }
}
