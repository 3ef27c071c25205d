// workspace/file-list.js — the table of the person's files, a page at a time,
// with download (through a short-lived link) and delete (after a confirmation
// dialog). A checkbox per row selects files to share (sharing-panel.js); a file
// that came through an upload request says who sent it and through which one.
//
// initFileList(workspace) wires the buttons; loadFiles() fetches the current
// page. `workspace.refresh()` reloads list and usage after a change.

import { api } from "../api.js";
import { formatBytes, formatDate, registerMessages, setMessage, t } from "../i18n.js";
import sharingMessages from "../messages/sharing.js";
import workspaceMessages from "../messages/workspace.js";
import { showError, showSuccess } from "./notices.js";

registerMessages(workspaceMessages);
registerMessages(sharingMessages);

const $ = (id) => document.getElementById(id);

/** Rows per page of the file table (the API allows up to 500). */
const PAGE_SIZE = 20;

const list = {
  page: 0,
  files: [],
  total: 0,
  loaded: false,
  pendingDelete: null,
  refresh: () => {},
  selected: new Map(), // file id → file, across pages: what "Share" will share
};

/** The files ticked for sharing, in the order they were ticked. */
export function selectedFiles() {
  return [...list.selected.values()];
}

export function clearSelection() {
  list.selected.clear();
  renderFiles();
}

function renderSelection() {
  const count = list.selected.size;
  $("shareSelected").disabled = count === 0;
  setMessage($("shareSelected"), count ? "sh.shareSelected" : "sh.shareNone", { n: count });
}

export async function loadFiles() {
  const offset = list.page * PAGE_SIZE;
  const data = await api("GET", `/api/files?limit=${PAGE_SIZE}&offset=${offset}`);
  list.files = data.files;
  list.total = data.total;
  if (list.files.length === 0 && list.page > 0) {
    // The last file of the last page was deleted: show the page before.
    list.page -= 1;
    return loadFiles();
  }
  list.loaded = true;
  renderFiles();
}

function renderFiles() {
  const rows = $("fileRows");
  rows.replaceChildren(...list.files.map(fileRow));
  renderSelection();
  const empty = list.total === 0;
  $("fileTable").hidden = empty;
  $("filesEmpty").hidden = !empty;

  const pager = $("pager");
  pager.hidden = list.total <= PAGE_SIZE;
  const from = list.page * PAGE_SIZE + 1;
  const to = list.page * PAGE_SIZE + list.files.length;
  $("pageRange").textContent = t("files.range", { from, to, total: list.total });
  $("prevPage").disabled = list.page === 0;
  $("nextPage").disabled = to >= list.total;
}

/** One <tr>. Names go in with textContent, never innerHTML: a file name is
 * whatever the uploader typed, and must never become markup. */
function fileRow(file) {
  const tr = document.createElement("tr");
  tr.dataset.fileId = file.id;

  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = list.selected.has(file.id);
  box.setAttribute("aria-label", t("sh.selectLabel", { name: file.name }));
  box.addEventListener("change", () => {
    if (box.checked) list.selected.set(file.id, file);
    else list.selected.delete(file.id);
    renderSelection();
  });

  const name = document.createElement("td");
  name.className = "file-name";
  const label = document.createElement("span");
  label.className = "file-label";
  label.textContent = file.name;
  name.title = file.name;
  box.className = "file-pick";
  name.append(box, label);
  if (file.received) {
    // Who sent it, and through which request: the sender typed the name, so it is text only.
    const from = document.createElement("span");
    from.className = "received-note";
    const sender = file.received.uploader_name || t("sh.someone");
    from.textContent = t("sh.receivedFrom", { name: sender, title: file.received.request_title });
    name.append(from);
  }

  const size = document.createElement("td");
  size.className = "num";
  size.textContent = formatBytes(file.size);

  const date = document.createElement("td");
  date.className = "file-date";
  const time = document.createElement("time");
  time.dateTime = String(file.uploaded_at);
  time.textContent = formatDate(file.uploaded_at);
  date.append(time);

  const actions = document.createElement("td");
  actions.className = "actions";
  actions.append(
    actionButton("files.download", "files.downloadLabel", file, "btn-secondary download-button", () => download(file)),
    actionButton("files.delete", "files.deleteLabel", file, "btn-ghost btn-danger-text delete-button", () => askDelete(file)),
  );

  tr.append(name, size, date, actions);
  return tr;
}

function actionButton(textKey, labelKey, file, classes, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-small " + classes;
  button.textContent = t(textKey);
  // The visible word is the same on every row; the label says which file.
  button.setAttribute("aria-label", t(labelKey, { name: file.name }));
  button.addEventListener("click", onClick);
  return button;
}

/**
 * Download through a short-lived link. fetch() with the Authorization header
 * would have to hold the whole file in page memory (a Blob) before saving it,
 * and a plain link cannot carry that header. So the server gives a URL that
 * carries its own proof for a few minutes, and the browser's download manager
 * streams it to disk like any other download.
 */
async function download(file) {
  try {
    const data = await api("POST", `/api/files/${encodeURIComponent(file.id)}/link`);
    const link = document.createElement("a");
    link.href = data.url;
    link.download = file.name; // the server's Content-Disposition names it too
    link.rel = "noopener";
    document.body.append(link);
    link.click();
    link.remove();
    showSuccess("files.downloadStarted", { name: file.name });
  } catch (error) {
    showError(error);
    if (error.key === "not_found") list.refresh();
  }
}

// ---- Delete, with a confirmation dialog -------------------------------------

function askDelete(file) {
  list.pendingDelete = file;
  const dialog = $("confirmDialog");
  setMessage($("confirmText"), "confirm.text", { name: file.name });
  dialog.returnValue = "";
  dialog.showModal(); // focus lands on "Keep it", the harmless choice
}

async function onDialogClose() {
  const file = list.pendingDelete;
  list.pendingDelete = null;
  if (!file || $("confirmDialog").returnValue !== "delete") return;
  try {
    await api("DELETE", `/api/files/${encodeURIComponent(file.id)}`);
    showSuccess("files.deleted", { name: file.name });
  } catch (error) {
    showError(error);
  }
  list.refresh();
}

/** Wire the pager, refresh button and dialog. `workspace.refresh` reloads list and usage. */
export function initFileList(workspace) {
  list.refresh = workspace.refresh;
  $("refreshButton").addEventListener("click", workspace.refresh);
  $("prevPage").addEventListener("click", () => {
    list.page = Math.max(0, list.page - 1);
    loadFiles().catch(showError);
  });
  $("nextPage").addEventListener("click", () => {
    list.page += 1;
    loadFiles().catch(showError);
  });
  $("confirmDialog").addEventListener("close", onDialogClose);
  // Sizes, dates and button labels are drawn by script: redraw them.
  document.addEventListener("languagechange", () => {
    if (list.loaded) renderFiles();
  });
}
