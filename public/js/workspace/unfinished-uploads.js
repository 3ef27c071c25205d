// workspace/unfinished-uploads.js — uploads that stopped before the end (a
// closed tab, another computer, a cleared browser) still hold their space
// until they expire. GET /api/uploads lists them; each can be resumed, by
// choosing the same file again (same name and size: the server holds the
// first `offset` bytes and only the rest is sent, tus.js from that offset), or
// discarded (DELETE /api/uploads/{id}, which frees the space at once).

import { api } from "../api.js";
import { formatBytes, formatDate, registerMessages, setMessage, t } from "../i18n.js";
import workspaceMessages from "../messages/workspace.js";
import { showError, showSuccess } from "./notices.js";
import { resumeUpload, uploadsInProgress } from "./upload-panel.js";

registerMessages(workspaceMessages);

const $ = (id) => document.getElementById(id);

/** DELETE is tus termination, which requires the protocol version (tus 1.0 core). */
const TUS_HEADERS = { "Tus-Resumable": "1.0.0" };

const unfinished = {
  uploads: [], // GET /api/uploads data.uploads, minus the ones this page is sending
  resuming: null, // the upload whose file is being chosen
  workspace: null,
};

export async function loadUnfinishedUploads() {
  const data = await api("GET", "/api/uploads"); // a plain API list, not a tus request
  unfinished.uploads = data.uploads;
  hideUploadsInProgress();
}

/** Leave out the uploads this page is sending (a file chosen again in the
 * drop zone continues its remembered upload): they are not abandoned. */
export function hideUploadsInProgress() {
  const sending = uploadsInProgress();
  unfinished.uploads = unfinished.uploads.filter((upload) => !sending.has(upload.id));
  render();
}

const ROW_BUTTONS = [".resume-button", ".discard-button"];

function render() {
  const list = $("unfinishedList");
  // A refresh redraws the rows while a person may be on one of their buttons:
  // put the keyboard back on the same button of the same upload, or the next
  // Enter would go nowhere.
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const focusedId = focused?.closest("[data-upload-id]")?.dataset.uploadId;
  const focusedButton = ROW_BUTTONS.find((selector) => focused?.matches(selector));
  list.replaceChildren(...unfinished.uploads.map(unfinishedRow));
  $("unfinishedUploads").hidden = unfinished.uploads.length === 0;
  if (focusedId && focusedButton) {
    list.querySelector(`[data-upload-id="${CSS.escape(focusedId)}"] ${focusedButton}`)?.focus();
  }
}

/** One row: name (textContent: a name is whatever the uploader chose), size,
 * how far it got, until when it is kept, and the two choices. */
function unfinishedRow(upload) {
  const row = $("unfinishedRowTemplate").content.firstElementChild.cloneNode(true);
  row.dataset.uploadId = upload.id;
  const pct = upload.length ? Math.floor((upload.offset / upload.length) * 100) : 100;
  row.querySelector(".upload-name").textContent = upload.name;
  row.querySelector(".upload-name").title = upload.name;
  row.querySelector(".upload-size").textContent = formatBytes(upload.length);
  row.querySelector(".upload-bar").value = pct;
  row.querySelector(".upload-progress").textContent = t("up.progress", {
    pct,
    done: formatBytes(upload.offset),
    total: formatBytes(upload.length),
  });
  row.querySelector(".unfinished-expires").textContent = t("pending.expires", { date: formatDate(upload.expires_at) });

  const resume = row.querySelector(".resume-button");
  setMessage(resume, "pending.resume");
  resume.setAttribute("aria-label", t("pending.resumeLabel", { name: upload.name }));
  resume.addEventListener("click", () => chooseFileFor(upload));

  const discard = row.querySelector(".discard-button");
  setMessage(discard, "pending.discard");
  discard.setAttribute("aria-label", t("pending.discardLabel", { name: upload.name }));
  discard.addEventListener("click", () => discardUpload(upload, discard));
  return row;
}

/** Open the file chooser; the answer arrives as a "change" on #resumeInput. */
function chooseFileFor(upload) {
  unfinished.resuming = upload;
  $("resumeInput").click();
}

function onFileChosen() {
  const input = $("resumeInput");
  const file = input.files[0];
  const upload = unfinished.resuming;
  input.value = ""; // choosing the same file again must fire "change" again
  if (!file || !upload) return;
  const row = $("unfinishedList").querySelector(`[data-upload-id="${CSS.escape(upload.id)}"]`);
  // The server knows only the name and the length; anything else would append
  // the wrong bytes to the ones it holds.
  if (file.name !== upload.name || file.size !== upload.length) {
    setMessage(row.querySelector(".upload-status"), "pending.wrongFile", {
      name: upload.name,
      size: formatBytes(upload.length),
    });
    row.querySelector(".resume-button").focus();
    return;
  }
  unfinished.uploads = unfinished.uploads.filter((other) => other !== upload);
  render();
  resumeUpload(file, `/api/uploads/${encodeURIComponent(upload.id)}`);
}

async function discardUpload(upload, button) {
  button.disabled = true;
  try {
    await api("DELETE", `/api/uploads/${encodeURIComponent(upload.id)}`, { headers: TUS_HEADERS });
    showSuccess("pending.discarded", { name: upload.name });
  } catch (error) {
    showError(error);
  }
  unfinished.workspace.refresh(); // the space is free again
}

export function initUnfinishedUploads(workspace) {
  unfinished.workspace = workspace;
  $("resumeInput").addEventListener("change", onFileChosen);
  document.addEventListener("languagechange", render);
}
