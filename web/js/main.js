// The token settings page: wires the form, the list and the one-time display of a new token.

import { ApiError } from "./api.js";
import { GenerateForm } from "./generate.js";
import { TokenList } from "./tokens.js";

const $ = (id) => document.getElementById(id);

function announce(message) {
  const region = $("announce");
  region.textContent = "";
  // A fresh text node in a later task is announced even when the message repeats.
  setTimeout(() => { region.textContent = message; }, 50);
}

function showPageStatus(message) {
  const status = $("page-status");
  status.textContent = message;
  status.hidden = false;
}

function signedOut() {
  showPageStatus("You are not signed in, or your session has ended. "
                 + "Sign in, then reload this page.");
}

// The new token, shown once: it lives only in this element until the page is left or the
// panel dismissed; nothing stores it. A rotation says what became of the old token.
function showNewToken(created, { verb = "generated", note = "" } = {}) {
  const panel = $("new-token-panel");
  $("new-token").textContent = created.key;
  $("copy-status").textContent = "";
  $("new-token-note").textContent = note;
  $("new-token-note").hidden = !note;
  $("clone-example").textContent = `git clone ${window.location.origin}/git/REPOSITORY.git`;
  panel.hidden = false;
  $("new-token-title").focus();
  announce(`Token ${created.name} ${verb}. Copy it now: you will not see it again. ${note}`);
}

function hideNewToken() {
  $("new-token").textContent = "";
  $("new-token-note").textContent = "";
  $("new-token-panel").hidden = true;
  $("token-name").focus();
}

async function copyToken() {
  const token = $("new-token").textContent;
  const status = $("copy-status");
  try {
    await navigator.clipboard.writeText(token);
    status.textContent = "Copied to the clipboard.";
  } catch {
    // No clipboard access (an insecure origin, or permission refused): select it for Ctrl+C.
    const range = document.createRange();
    range.selectNodeContents($("new-token"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    status.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
  }
}

async function start() {
  const list = new TokenList({ announce, onNewToken: showNewToken, onSignedOut: signedOut });
  new GenerateForm({
    onSignedOut: signedOut,
    onCreated: async (created) => {
      showNewToken(created);
      try {
        await list.load();
      } catch (error) {
        showPageStatus(error.message);
      }
    },
  });
  $("copy-token").addEventListener("click", copyToken);
  $("dismiss-token").addEventListener("click", hideNewToken);
  try {
    await list.load();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signedOut();
    else showPageStatus(`Your tokens could not be loaded: ${error.message}`);
  }
}

start();
