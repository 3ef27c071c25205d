// workspace/trash-view.js — the trash: what was deleted, when it goes for good,
// and for each item Restore or Delete forever; "Empty trash" for all of it.
// Deleting for good asks first (the shared confirmation dialog): it cannot be undone.
//
// initTrashView(workspace) wires the "Trash" and "Back" buttons; the view
// replaces the file list while it is open.

import { api } from "../api.js";
import { formatBytes, formatDate, registerMessages, setMessage, t } from "../i18n.js";
import folderMessages from "../messages/folders.js";
import { showError, showSuccess } from "./notices.js";

registerMessages(folderMessages);

const $ = (id) => document.getElementById(id);

/** Items per page of the trash (the API allows up to 500). */
const PAGE_SIZE = 50;

const trash = { items: [], total: 0, offset: 0, pending: null, workspace: null };

async function loadTrash() {
  const data = await api("GET", `/api/trash?limit=${PAGE_SIZE}&offset=${trash.offset}`);
  trash.items = data.items;
  trash.total = data.total;
  if (trash.items.length === 0 && trash.offset > 0) {
    trash.offset = Math.max(0, trash.offset - PAGE_SIZE);
    return loadTrash();
  }
  render();
}

function render() {
  $("trashRows").replaceChildren(...trash.items.map(itemRow));
  $("trashTable").hidden = trash.total === 0;
  $("trashEmpty").hidden = trash.total !== 0;
  $("emptyTrash").disabled = trash.total === 0;
  $("trashPager").hidden = trash.total <= PAGE_SIZE;
  $("trashPrev").disabled = trash.offset === 0;
  $("trashNext").disabled = trash.offset + PAGE_SIZE >= trash.total;
}

function itemRow(item) {
  const tr = document.createElement("tr");
  tr.className = "trash-row";
  tr.dataset.kind = item.kind;
  const name = document.createElement("td");
  name.className = "file-name " + (item.kind === "folder" ? "is-folder" : "is-file");
  name.textContent = item.name; // text, never markup
  name.title = item.name;
  const kind = document.createElement("td");
  kind.className = "num";
  kind.textContent = `${t(item.kind === "folder" ? "fo.folderKind" : "tr.kindFile")} · ${formatBytes(item.size)}`;
  const deleted = dateCell(item.deleted_at);
  const purged = dateCell(item.purge_at);
  const actions = document.createElement("td");
  actions.className = "actions";
  actions.append(
    button("tr.restore", "tr.restoreLabel", item, "btn-secondary restore-button", () => restore(item)),
    button("tr.purge", "tr.purgeLabel", item, "btn-ghost btn-danger-text purge-button", () => ask(item)),
  );
  tr.append(name, kind, deleted, purged, actions);
  return tr;
}

function dateCell(value) {
  const cell = document.createElement("td");
  cell.className = "file-date";
  const time = document.createElement("time");
  time.dateTime = value;
  time.textContent = formatDate(value);
  cell.append(time);
  return cell;
}

function button(textKey, labelKey, item, classes, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "btn btn-small " + classes;
  element.textContent = t(textKey);
  element.setAttribute("aria-label", t(labelKey, { name: item.name }));
  element.addEventListener("click", onClick);
  return element;
}

async function restore(item) {
  try {
    await api("POST", `/api/trash/${item.kind}/${encodeURIComponent(item.id)}/restore`);
    showSuccess("tr.restored", { name: item.name });
  } catch (error) {
    showError(error);
  }
  await refresh();
}

/** Ask before anything goes for good: `item`, or the whole trash when null. */
function ask(item) {
  trash.pending = { item };
  setMessage($("confirmTitle"), item ? "tr.confirmPurgeTitle" : "tr.confirmEmptyTitle");
  setMessage($("confirmText"), item ? "tr.confirmPurgeText" : "tr.confirmEmptyText", item ? { name: item.name } : {});
  setMessage($("confirmYes"), "tr.confirmYes");
  $("confirmDialog").returnValue = "";
  $("confirmDialog").showModal(); // focus lands on "Keep it", the harmless choice
}

async function onDialogClose() {
  const pending = trash.pending;
  trash.pending = null;
  if (!pending || $("confirmDialog").returnValue !== "delete") return;
  const { item } = pending;
  try {
    if (item) {
      await api("DELETE", `/api/trash/${item.kind}/${encodeURIComponent(item.id)}`);
      showSuccess("tr.purged", { name: item.name });
    } else {
      await api("DELETE", "/api/trash");
      showSuccess("tr.emptied");
    }
  } catch (error) {
    showError(error);
  }
  await refresh();
}

/** The trash and the usage figures (trashed bytes count toward the quota). */
async function refresh() {
  trash.workspace.refresh();
  await loadTrash().catch(showError);
}

function setOpen(open) {
  $("filesCard").hidden = open;
  $("trashCard").hidden = !open;
  (open ? $("trashBack") : $("trashButton")).focus();
}

export function initTrashView(workspace) {
  trash.workspace = workspace;
  $("trashButton").addEventListener("click", async () => {
    trash.offset = 0;
    try {
      await loadTrash();
      setOpen(true);
    } catch (error) {
      showError(error);
    }
  });
  $("trashBack").addEventListener("click", () => {
    setOpen(false);
    workspace.refresh();
  });
  $("emptyTrash").addEventListener("click", () => ask(null));
  $("trashPrev").addEventListener("click", () => {
    trash.offset = Math.max(0, trash.offset - PAGE_SIZE);
    loadTrash().catch(showError);
  });
  $("trashNext").addEventListener("click", () => {
    trash.offset += PAGE_SIZE;
    loadTrash().catch(showError);
  });
  $("confirmDialog").addEventListener("close", onDialogClose);
  document.addEventListener("languagechange", () => {
    if (!$("trashCard").hidden) render();
  });
}
