// workspace/file-list.js — the table of the person's folders and files: one
// folder at a time (breadcrumbs above), or a search across every folder; sorted
// by the column headers; a page at a time through the server's cursors.
//
// Each row can be selected (bulk move, ZIP, trash: selection.js), renamed in
// place, moved (folder-picker.js, or dragged onto a folder row or a breadcrumb),
// and sent to the trash; a file is downloaded through a short-lived link or,
// for the types a browser shows safely, opened in the viewer (viewer.js).
// The selected files can be shared (sharing-panel.js); a file that came through
// an upload request says who sent it and through which one.
//
// initFileList(workspace) wires the controls; loadFiles() draws the current
// place. `workspace.refresh()` reloads list and usage after a change. Moving to
// another folder tells the page with a "folderchange" event on document (the
// upload panel uploads into the folder shown).

import { api } from "../api.js";
import { formatBytes, formatDate, pluralKey, registerMessages, setMessage, t } from "../i18n.js";
import folderMessages from "../messages/folders.js";
import sharingMessages from "../messages/sharing.js";
import workspaceMessages from "../messages/workspace.js";
import { pickFolder } from "./folder-picker.js";
import { showError, showSuccess } from "./notices.js";
import { isPreviewable, openViewer } from "./viewer.js";

registerMessages(workspaceMessages);
registerMessages(folderMessages);
registerMessages(sharingMessages);

const $ = (id) => document.getElementById(id);

/** Rows per page of the file table (the API allows up to 500). */
const PAGE_SIZE = 20;
/** What a dragged row carries: which item it is (never a file's bytes). */
const DRAG_TYPE = "application/x-authupload-item";
/** The first direction of each sort column: names A→Z, the biggest and newest first. */
const FIRST_DIRECTION = { name: "", size: "-", uploaded_at: "-" };

const list = {
  folder: null, // the folder shown (<folder>), null for the top level
  path: [], // folders from the top down to it
  folders: [], // its subfolders
  files: [],
  total: 0,
  query: "", // a search across every folder, when not empty
  sort: "-uploaded_at",
  cursors: [null], // the cursor that opens each page visited so far
  page: 0,
  nextCursor: null,
  selected: new Map(), // "file:<id>" or "folder:<id>" → { kind, item }
  loaded: false,
  pendingDelete: null,
  refresh: () => {},
};

/** The folder uploads go into: the one shown (null: the top level). */
export function currentFolder() {
  return list.query ? null : list.folder;
}

export async function loadFiles() {
  const params = new URLSearchParams({ limit: PAGE_SIZE, sort: list.sort });
  if (list.query) params.set("q", list.query);
  else params.set("folder_id", list.folder ? list.folder.id : "root");
  const cursor = list.cursors[list.page];
  if (cursor) params.set("cursor", cursor);
  const [place, data] = await Promise.all([
    list.query ? null : api("GET", `/api/folders/${list.folder ? encodeURIComponent(list.folder.id) : "root"}`),
    api("GET", `/api/files?${params}`),
  ]);
  if (place) {
    list.folder = place.folder;
    list.path = place.path;
    list.folders = place.folders;
  }
  list.files = data.files;
  list.total = data.total;
  list.nextCursor = data.next_cursor;
  if (list.files.length === 0 && list.page > 0) {
    // The last file of the last page went away: show the page before.
    list.page -= 1;
    list.cursors.length = list.page + 1;
    return loadFiles();
  }
  list.loaded = true;
  keepSelectionToShown();
  render();
}

/** Show another folder (null: the top level), from its first page. */
async function openFolder(folder) {
  list.folder = folder;
  list.query = "";
  $("searchBox").value = "";
  restartPaging();
  list.selected.clear();
  await loadFiles();
  document.dispatchEvent(new CustomEvent("folderchange", { detail: { folder: currentFolder() } }));
}

function restartPaging() {
  list.page = 0;
  list.cursors = [null];
}

// ---- Drawing ----------------------------------------------------------------------

function render() {
  renderBreadcrumbs();
  renderSortHeaders();
  const folders = list.query || list.page > 0 ? [] : list.folders;
  $("fileRows").replaceChildren(...folders.map(folderRow), ...list.files.map(fileRow));
  const empty = folders.length === 0 && list.files.length === 0;
  $("fileTable").hidden = empty;
  $("filesEmpty").hidden = !empty;
  const emptyKey = list.query ? "fo.noResults" : list.folder ? "fo.emptyFolder" : "files.empty";
  setMessage($("filesEmptyText"), emptyKey, { q: list.query });

  const from = list.page * PAGE_SIZE + 1;
  const to = list.page * PAGE_SIZE + list.files.length;
  $("pager").hidden = list.page === 0 && !list.nextCursor;
  $("pageRange").textContent = t("files.range", { from: Math.min(from, to), to, total: list.total });
  $("prevPage").disabled = list.page === 0;
  $("nextPage").disabled = !list.nextCursor;
  renderSelection();
}

function renderBreadcrumbs() {
  const crumbs = $("breadcrumbs");
  crumbs.hidden = Boolean(list.query);
  $("searchNote").hidden = !list.query;
  if (list.query) setMessage($("searchNote"), "fo.searchResults", { q: list.query });
  const places = [null, ...list.path];
  crumbs.querySelector("ol").replaceChildren(
    ...places.map((folder, index) => {
      const item = document.createElement("li");
      const name = folder ? folder.name : t("fo.root");
      if (index === places.length - 1) {
        const here = document.createElement("span");
        here.textContent = name;
        here.setAttribute("aria-current", "location");
        item.append(here);
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "crumb";
        button.textContent = name;
        button.addEventListener("click", () => openFolder(folder).catch(showError));
        acceptDrops(button, folder);
        item.append(button);
      }
      return item;
    }),
  );
}

function renderSortHeaders() {
  const key = list.sort.replace(/^-/, "");
  for (const button of document.querySelectorAll(".sort-button")) {
    const column = button.dataset.sort;
    const header = button.closest("th");
    header.setAttribute("aria-sort", column !== key ? "none" : list.sort.startsWith("-") ? "descending" : "ascending");
    button.setAttribute("aria-label", t("fo.sortBy", { column: t(button.dataset.i18n) }));
  }
}

/** A <tr> for a folder or a file. Names go in with textContent, never
 * innerHTML: a name is whatever the uploader typed, and must never become markup. */
function itemRow(kind, item) {
  const tr = document.createElement("tr");
  tr.dataset.kind = kind;
  tr.dataset.id = item.id;
  tr.className = kind === "folder" ? "folder-row" : "file-row";
  tr.draggable = true;
  tr.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData(DRAG_TYPE, JSON.stringify({ kind, id: item.id, name: item.name }));
    event.dataTransfer.effectAllowed = "move";
  });

  const select = document.createElement("td");
  select.className = "select-cell";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.className = "select-box";
  box.checked = list.selected.has(`${kind}:${item.id}`);
  box.setAttribute("aria-label", t("fo.select", { name: item.name }));
  box.addEventListener("change", () => toggleSelected(kind, item, box.checked));
  select.append(box);

  const name = document.createElement("td");
  name.className = "file-name";
  name.title = item.name;
  name.append(...nameParts(kind, item));

  const size = document.createElement("td");
  size.className = "num";
  size.textContent = kind === "folder" ? t("fo.folderKind") : formatBytes(item.size);

  const date = document.createElement("td");
  date.className = "file-date";
  const time = document.createElement("time");
  const when = kind === "folder" ? item.created_at : item.uploaded_at;
  time.dateTime = String(when);
  time.textContent = formatDate(when);
  date.append(time);

  const actions = document.createElement("td");
  actions.className = "actions";
  if (kind === "file") {
    actions.append(actionButton("files.download", "files.downloadLabel", item, "btn-secondary download-button",
                                () => download(item)));
  }
  actions.append(
    actionButton("fo.rename", "fo.renameLabel", item, "btn-ghost rename-button", () => startRename(tr, kind, item)),
    actionButton("fo.move", "fo.moveLabel", item, "btn-ghost move-button", () => moveItems([{ kind, item }])),
    actionButton("files.delete", "files.deleteLabel", item, "btn-ghost btn-danger-text delete-button",
                 () => askDelete(kind, item)),
  );

  tr.append(select, name, size, date, actions);
  if (kind === "folder") acceptDrops(tr, item);
  return tr;
}

const folderRow = (folder) => itemRow("folder", folder);
const fileRow = (file) => itemRow("file", file);

/** What the name cell shows: the name, and for a received file who sent it. */
function nameParts(kind, item) {
  if (kind !== "file" || !item.received) return [nameControl(kind, item)];
  // Who sent it, and through which request: the sender typed the name, so it is text only.
  const from = document.createElement("span");
  from.className = "received-note";
  const sender = item.received.uploader_name || t("sh.someone");
  from.textContent = t("sh.receivedFrom", { name: sender, title: item.received.request_title });
  return [nameControl(kind, item), from];
}

/** A folder's name opens it; a previewable file's name opens the viewer. */
function nameControl(kind, item) {
  if (kind === "file" && !isPreviewable(item)) {
    const text = document.createElement("span");
    text.textContent = item.name;
    return text;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = kind === "folder" ? "name-link folder-link" : "name-link preview-link";
  button.textContent = item.name;
  button.setAttribute("aria-label", t(kind === "folder" ? "fo.open" : "fo.previewLabel", { name: item.name }));
  button.addEventListener("click", () => {
    if (kind === "folder") openFolder(item).catch(showError);
    else openViewer(list.files.filter(isPreviewable), item);
  });
  return button;
}

function actionButton(textKey, labelKey, item, classes, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-small " + classes;
  button.textContent = t(textKey);
  // The visible word is the same on every row; the label says which item.
  button.setAttribute("aria-label", t(labelKey, { name: item.name }));
  button.addEventListener("click", onClick);
  return button;
}

// ---- Moving by dragging ------------------------------------------------------------

/** Let rows be dropped on `target` (a folder row or a breadcrumb) to move them into `folder`. */
function acceptDrops(target, folder) {
  target.addEventListener("dragover", (event) => {
    if (!event.dataTransfer.types.includes(DRAG_TYPE)) return; // files from the desktop: the upload zone's
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    target.classList.add("is-drop-target");
  });
  target.addEventListener("dragleave", () => target.classList.remove("is-drop-target"));
  target.addEventListener("drop", async (event) => {
    target.classList.remove("is-drop-target");
    const raw = event.dataTransfer.getData(DRAG_TYPE);
    if (!raw) return;
    event.preventDefault();
    const dragged = JSON.parse(raw);
    if (dragged.kind === "folder" && folder && dragged.id === folder.id) return; // dropped on itself
    try {
      await moveTo(dragged.kind, dragged.id, folder);
      showSuccess("fo.droppedOn", { name: dragged.name, folder: folder ? folder.name : t("fo.root") });
    } catch (error) {
      showError(error);
    }
    list.refresh();
  });
}

function moveTo(kind, id, folder) {
  const target = folder ? folder.id : null;
  const body = kind === "folder" ? { parent_id: target } : { folder_id: target };
  return api("PATCH", `/api/${kind}s/${encodeURIComponent(id)}`, { body });
}

/** Ask where to (the folder picker), then move every item there. */
export async function moveItems(items) {
  const destination = await pickFolder(list.folder, items);
  if (destination === undefined) return; // the picker was closed
  try {
    for (const { kind, item } of items) await moveTo(kind, item.id, destination);
    showSuccess("fo.moved");
  } catch (error) {
    showError(error);
  }
  list.selected.clear();
  list.refresh();
}

// ---- Renaming in place ------------------------------------------------------------------

/** The name cell becomes a small form: Enter saves, Escape puts the name back. */
function startRename(tr, kind, item) {
  const cell = tr.querySelector(".file-name");
  const form = document.createElement("form");
  form.className = "rename-form";
  const input = document.createElement("input");
  input.className = "rename-input";
  input.value = item.name;
  input.maxLength = 255;
  input.setAttribute("aria-label", t("fo.renameInput", { name: item.name }));
  form.append(input);
  cell.replaceChildren(form);
  input.focus();
  const dot = kind === "file" ? item.name.lastIndexOf(".") : -1;
  input.setSelectionRange(0, dot > 0 ? dot : item.name.length); // the extension usually stays
  const putBack = () => cell.replaceChildren(...nameParts(kind, item));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      putBack();
      tr.querySelector(".rename-button").focus();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name || name === item.name) return putBack();
    try {
      const renamed = await api("PATCH", `/api/${kind}s/${encodeURIComponent(item.id)}`, { body: { name } });
      showSuccess("fo.renamed", { name: renamed.name });
      list.refresh();
    } catch (error) {
      showError(error);
      input.focus();
    }
  });
}

// ---- Selection ------------------------------------------------------------------------

function toggleSelected(kind, item, on) {
  const key = `${kind}:${item.id}`;
  if (on) list.selected.set(key, { kind, item });
  else list.selected.delete(key);
  renderSelection();
}

/** The selected files (folders are not shared), in the order they were selected: what "Share" shares. */
export function selectedFiles() {
  return [...list.selected.values()].filter((entry) => entry.kind === "file").map((entry) => entry.item);
}

export function clearSelection() {
  list.selected.clear();
  render();
}

/** After a reload, only what is still shown stays selected. */
function keepSelectionToShown() {
  const shown = new Set([...list.folders.map((f) => `folder:${f.id}`), ...list.files.map((f) => `file:${f.id}`)]);
  for (const key of list.selected.keys()) if (!shown.has(key)) list.selected.delete(key);
}

function renderSelection() {
  const count = list.selected.size;
  $("selectionBar").hidden = count === 0;
  setMessage($("selectionCount"), pluralKey("fo.selected", count), { n: count });
  const files = selectedFiles().length;
  $("shareSelected").disabled = files === 0;
  setMessage($("shareSelected"), files ? "sh.shareSelected" : "sh.shareNone", { n: files });
  const boxes = [...document.querySelectorAll("#fileRows .select-box")];
  $("selectAll").checked = boxes.length > 0 && boxes.every((box) => box.checked);
  $("selectAll").indeterminate = count > 0 && !$("selectAll").checked;
}

function selectAllShown(on) {
  for (const row of document.querySelectorAll("#fileRows tr")) {
    const kind = row.dataset.kind;
    const item = (kind === "folder" ? list.folders : list.files).find((x) => x.id === row.dataset.id);
    row.querySelector(".select-box").checked = on;
    toggleSelected(kind, item, on);
  }
}

async function trashSelected() {
  const items = [...list.selected.values()];
  try {
    for (const { kind, item } of items) await api("DELETE", `/api/${kind}s/${encodeURIComponent(item.id)}`);
    showSuccess("fo.trashedMany", { n: items.length });
  } catch (error) {
    showError(error);
  }
  list.selected.clear();
  list.refresh();
}

/** One ZIP of everything selected, through a short-lived link (like a download). */
async function zipSelected() {
  const items = [...list.selected.values()];
  const body = {
    file_ids: items.filter((x) => x.kind === "file").map((x) => x.item.id),
    folder_ids: items.filter((x) => x.kind === "folder").map((x) => x.item.id),
  };
  try {
    const data = await api("POST", "/api/archive", { body });
    followLink(data.url, ""); // named by the server's Content-Disposition
    showSuccess("fo.zipStarted");
  } catch (error) {
    showError(error);
  }
}

// ---- Downloading and deleting ------------------------------------------------------------

/** Let the browser's download manager fetch `url` (a link that carries its own proof). */
function followLink(url, name) {
  const link = document.createElement("a");
  link.href = url;
  link.download = name; // the server's Content-Disposition names it too
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
}

/**
 * Download through a short-lived link. fetch() with the Authorization header
 * would have to hold the whole file in page memory (a Blob) before saving it,
 * and a plain link cannot carry that header. So the server gives a URL that
 * carries its own proof for a few minutes, and the browser's download manager
 * streams it to disk like any other download.
 */
export async function download(file) {
  try {
    const data = await api("POST", `/api/files/${encodeURIComponent(file.id)}/link`);
    followLink(data.url, file.name);
    showSuccess("files.downloadStarted", { name: file.name });
  } catch (error) {
    showError(error);
    if (error.key === "not_found") list.refresh();
  }
}

function askDelete(kind, item) {
  list.pendingDelete = { kind, item };
  const dialog = $("confirmDialog");
  setMessage($("confirmTitle"), "confirm.title");
  setMessage($("confirmText"), "confirm.text", { name: item.name });
  setMessage($("confirmYes"), "confirm.yes");
  dialog.returnValue = "";
  dialog.showModal(); // focus lands on "Keep it", the harmless choice
}

async function onDialogClose() {
  const pending = list.pendingDelete;
  list.pendingDelete = null;
  if (!pending || $("confirmDialog").returnValue !== "delete") return;
  const { kind, item } = pending;
  try {
    await api("DELETE", `/api/${kind}s/${encodeURIComponent(item.id)}`);
    showSuccess("fo.trashed", { name: item.name });
  } catch (error) {
    showError(error);
  }
  list.refresh();
}

// ---- New folder, search, sorting, paging --------------------------------------------------

async function createFolder(event) {
  event.preventDefault();
  const input = $("newFolderName");
  const name = input.value.trim();
  if (!name) return;
  const body = { name, ...(list.folder ? { parent_id: list.folder.id } : {}) };
  try {
    const folder = await api("POST", "/api/folders", { body });
    $("newFolderForm").hidden = true;
    input.value = "";
    showSuccess("fo.created", { name: folder.name });
    list.refresh();
  } catch (error) {
    showError(error);
    input.focus();
  }
}

function wireNewFolder() {
  $("newFolderButton").addEventListener("click", () => {
    $("newFolderForm").hidden = false;
    $("newFolderName").focus();
  });
  $("newFolderForm").addEventListener("submit", createFolder);
  $("newFolderCancel").addEventListener("click", () => {
    $("newFolderForm").hidden = true;
    $("newFolderButton").focus();
  });
}

function wireSearch() {
  let timer = null;
  $("searchBox").addEventListener("input", () => {
    clearTimeout(timer);
    // A request per pause in typing, not per key.
    timer = setTimeout(() => {
      list.query = $("searchBox").value.trim();
      restartPaging();
      list.selected.clear();
      loadFiles().catch(showError);
      document.dispatchEvent(new CustomEvent("folderchange", { detail: { folder: currentFolder() } }));
    }, 300);
  });
}

function wireSorting() {
  for (const button of document.querySelectorAll(".sort-button")) {
    button.addEventListener("click", () => {
      const column = button.dataset.sort;
      const current = list.sort.replace(/^-/, "");
      if (column === current) list.sort = list.sort.startsWith("-") ? column : "-" + column;
      else list.sort = FIRST_DIRECTION[column] + column;
      restartPaging();
      loadFiles().catch(showError);
    });
  }
}

function wirePaging() {
  $("prevPage").addEventListener("click", () => {
    list.page = Math.max(0, list.page - 1);
    list.cursors.length = list.page + 1;
    loadFiles().catch(showError);
  });
  $("nextPage").addEventListener("click", () => {
    list.cursors[list.page + 1] = list.nextCursor;
    list.page += 1;
    loadFiles().catch(showError);
  });
}

/** Wire the controls. `workspace.refresh` reloads list and usage. */
export function initFileList(workspace) {
  list.refresh = workspace.refresh;
  $("refreshButton").addEventListener("click", workspace.refresh);
  wireNewFolder();
  wireSearch();
  wireSorting();
  wirePaging();
  $("selectAll").addEventListener("change", () => selectAllShown($("selectAll").checked));
  $("moveSelected").addEventListener("click", () => moveItems([...list.selected.values()]));
  $("zipSelected").addEventListener("click", zipSelected);
  $("trashSelected").addEventListener("click", trashSelected);
  $("confirmDialog").addEventListener("close", onDialogClose);
  // Sizes, dates and button labels are drawn by script: redraw them.
  document.addEventListener("languagechange", () => {
    if (list.loaded) render();
  });
}
