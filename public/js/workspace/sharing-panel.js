// workspace/sharing-panel.js — sharing files with people who have no account:
// the "Share" dialog for the files selected in the list, and the "Shared" card
// listing every share with its state, downloads, expiry, its link (to copy
// again at any time) and a Revoke button.
//
// initSharingPanel(workspace) wires the dialog and the card; loadShares()
// fetches the list. `workspace.selectedFiles()` says what is selected.

import { api, errorText } from "../api.js";
import { formatDate, pluralKey, registerMessages, setMessage, t } from "../i18n.js";
import sharingMessages from "../messages/sharing.js";
import { showError, showSuccess } from "./notices.js";

registerMessages(sharingMessages);

const $ = (id) => document.getElementById(id);
const DAY = 24 * 3600;
/** Each state's sentence, spelled out so every message key appears in the source. */
const SHARE_STATES = { active: "sh.state.active", expired: "sh.state.expired", exhausted: "sh.state.exhausted" };

const panel = { workspace: null, shares: [], loaded: false };

export async function loadShares() {
  panel.shares = (await api("GET", "/api/shares")).shares;
  panel.loaded = true;
  renderShares();
}

function renderShares() {
  $("shareItems").replaceChildren(...panel.shares.map(shareItem));
  $("sharesEmpty").hidden = panel.shares.length > 0;
}

/** One share: what it holds, how it stands, and what can be done with it. */
function shareItem(share) {
  const item = document.createElement("li");
  item.className = "link-item";
  item.dataset.shareId = share.id;
  const names = share.files.map((file) => file.name).join(", ");
  const head = document.createElement("div");
  head.className = "link-head";
  const title = document.createElement("span");
  title.className = "link-title";
  title.textContent = names || t("sh.noFilesLeft"); // file names are text, never markup
  title.title = names;
  head.append(title, stateBadge(SHARE_STATES[share.state], share.state));
  const facts = document.createElement("p");
  facts.className = "link-facts muted";
  const downloads = share.max_downloads == null
    ? t(pluralKey("sh.downloads", share.downloads), { n: share.downloads })
    : t("sh.downloadsOf", { n: share.downloads, max: share.max_downloads });
  const extras = [downloads, t("sh.expires", { date: formatDate(share.expires_at) })];
  if (share.password) extras.push(t("sh.withPassword"));
  if (share.note) extras.push(share.note);
  facts.textContent = extras.join(" · ");
  item.append(head, facts, linkActions(share.url, names, "sh.revoke", "sh.revokeLabel", () => revoke(share)));
  return item;
}

export function stateBadge(key, state) {
  const badge = document.createElement("span");
  badge.className = "badge badge-" + state;
  badge.textContent = t(key);
  return badge;
}

/** The link in a read-only field (selectable by hand), Copy, and one more action. */
export function linkActions(url, name, actionKey, actionLabelKey, onAction) {
  const row = document.createElement("div");
  row.className = "link-actions";
  const field = document.createElement("input");
  field.type = "text";
  field.readOnly = true;
  field.value = url;
  field.className = "link-field";
  field.setAttribute("aria-label", t("sh.linkLabel", { name }));
  field.addEventListener("focus", () => field.select());
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "btn btn-secondary btn-small";
  copy.textContent = t("sh.copy");
  copy.addEventListener("click", () => copyLink(field));
  const action = document.createElement("button");
  action.type = "button";
  action.className = "btn btn-ghost btn-small btn-danger-text";
  action.textContent = t(actionKey);
  action.setAttribute("aria-label", t(actionLabelKey, { name }));
  action.addEventListener("click", onAction);
  row.append(field, copy, action);
  return row;
}

/** Copy a link. The Clipboard API needs a secure context (HTTPS or localhost);
 * elsewhere the link is selected so Ctrl+C copies it. */
export async function copyLink(field) {
  field.focus();
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    showSuccess("sh.copied");
  } catch {
    showSuccess("sh.copyByHand");
  }
}

async function revoke(share) {
  try {
    await api("DELETE", `/api/shares/${encodeURIComponent(share.id)}`);
    showSuccess("sh.revoked");
  } catch (error) {
    showError(error);
  }
  loadShares().catch(showError);
}

// ---- The share dialog ---------------------------------------------------------------

function openDialog() {
  const files = panel.workspace.selectedFiles();
  if (!files.length) return;
  $("shareForm").reset();
  $("shareForm").hidden = false;
  $("shareResult").hidden = true;
  $("shareDialogError").textContent = "";
  const names = files.map((file) => file.name).join(", ");
  setMessage($("shareDialogFiles"), pluralKey("sh.dialogFiles", files.length), { n: files.length, names });
  $("shareDialog").showModal();
}

async function createShare(event) {
  event.preventDefault();
  const files = panel.workspace.selectedFiles();
  const body = { file_ids: files.map((file) => file.id), expires_in: Number($("shareExpiry").value) * DAY };
  const password = $("shareSecret").value;
  if (password) body.password = password;
  const limit = $("shareLimit").value.trim();
  if (limit) body.max_downloads = Number(limit);
  const note = $("shareNoteInput").value.trim();
  if (note) body.note = note;
  $("shareCreate").disabled = true;
  try {
    const share = await api("POST", "/api/shares", { body });
    $("shareForm").hidden = true;
    $("shareResult").hidden = false;
    $("shareLink").value = share.url;
    $("shareLink").focus();
    panel.workspace.clearSelection();
    loadShares().catch(showError);
  } catch (error) {
    $("shareDialogError").textContent = errorText(error);
  } finally {
    $("shareCreate").disabled = false;
  }
}

export function initSharingPanel(workspace) {
  panel.workspace = workspace;
  $("shareSelected").addEventListener("click", openDialog);
  $("shareForm").addEventListener("submit", createShare);
  $("shareCancel").addEventListener("click", () => $("shareDialog").close());
  $("shareDone").addEventListener("click", () => $("shareDialog").close());
  $("shareCopy").addEventListener("click", () => copyLink($("shareLink")));
  $("refreshShares").addEventListener("click", () => loadShares().catch(showError));
  document.addEventListener("languagechange", () => {
    if (panel.loaded) renderShares();
  });
}
