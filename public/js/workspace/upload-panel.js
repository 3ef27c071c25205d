// workspace/upload-panel.js — uploading: pick or drop files, each gets a row
// with its progress, and goes up through the resumable tus endpoints (tus.js)
// a few at a time.
//
// initUploadPanel(workspace) wires the drop zone; loadLimits() reads the file
// size limit from GET /api/config; resumeUpload() continues an unfinished
// upload the server listed. The panel asks `workspace.me()` for the account
// (its id keys remembered uploads, its usage bounds what may start), calls
// `workspace.uploadStarted()` when one starts and `workspace.refresh()` when
// one has ended, whichever way.

import { errorMessageKey, getToken, redirectToLogin, serverConfig, tokenProblem } from "../api.js";
import { formatBytes, registerMessages, setMessage, t } from "../i18n.js";
import folderMessages from "../messages/folders.js";
import workspaceMessages from "../messages/workspace.js";
import { TusUpload } from "../tus.js";
import { endUploadRow, newUploadRow, showRowProgress } from "../upload-rows.js";
import { showSuccess } from "./notices.js";

registerMessages(workspaceMessages);
registerMessages(folderMessages);

const $ = (id) => document.getElementById(id);

/** Uploads running at once; the rest wait their turn. Two or three keep the
 * connection busy without starving the page's other requests. */
const PARALLEL_UPLOADS = 3;

const panel = {
  workspace: null,
  maxFileBytes: null, // GET /api/config max_file_bytes, once known
  jobs: [], // one per file picked: { file, row, status, upload, resumeUrl }
};

export async function loadLimits() {
  const config = await serverConfig();
  panel.maxFileBytes = config.max_file_bytes || null;
  renderDropNote();
}

function renderDropNote() {
  if (panel.maxFileBytes) setMessage($("dropNote"), "ws.dropNote", { max: formatBytes(panel.maxFileBytes) });
  else setMessage($("dropNote"), "ws.dropNoteNoMax");
}

/** Bytes still free, minus what this page's running uploads will take. */
function freeBytes() {
  const me = panel.workspace.me();
  if (!me) return Infinity; // usage unknown: the server will judge
  const usage = me.usage;
  const reserved = panel.jobs.filter((job) => job.status === "uploading").reduce((sum, job) => sum + job.file.size, 0);
  return usage.quota_bytes - usage.bytes - reserved;
}

/**
 * Queue every picked or dropped file; each gets its own row. A file of a
 * picked or dropped folder carries its path inside it ("photos/2024/a.jpg"),
 * sent as tus metadata relativePath: the server makes the folders below the
 * folder shown, which is where every upload goes (folder_id).
 */
function addFiles(files, relativePathOf = (file) => file.webkitRelativePath || "") {
  const folder = panel.workspace.currentFolder();
  for (const file of files) {
    const metadata = { folder_id: folder ? folder.id : "", relativePath: relativePathOf(file) };
    if (!isAlreadyQueued(file, metadata)) queueJob(file, null, metadata);
  }
  startWaitingJobs();
}

/** Continue the unfinished upload at `url` with `file`, which the caller has
 * checked is the same file (name and size). */
export function resumeUpload(file, url) {
  queueJob(file, url);
  startWaitingJobs();
}

function queueJob(file, resumeUrl, metadata = {}) {
  const job = { file, resumeUrl, metadata, status: "waiting", upload: null, row: newUploadRow(file, $("uploadList")) };
  job.row.querySelector(".upload-cancel").addEventListener("click", () => cancelOrDismiss(job));
  panel.jobs.push(job);
  setRowStatus(job, "up.waiting");
}

/** The ids of the uploads this page is sending right now (GET /api/uploads
 * lists them too, but they are not abandoned). */
export function uploadsInProgress() {
  const running = panel.jobs.filter((job) => job.status === "uploading" && job.upload && job.upload.url);
  return new Set(running.map((job) => new URL(job.upload.url).pathname.split("/").pop()));
}

/** The same file picked twice for the same place while its first upload still
 * runs would resume the same tus upload twice over; the second pick is ignored. */
function isAlreadyQueued(file, metadata) {
  return panel.jobs.some(
    (job) =>
      (job.status === "waiting" || job.status === "uploading") &&
      job.file.name === file.name &&
      job.file.size === file.size &&
      job.file.lastModified === file.lastModified &&
      JSON.stringify(job.metadata) === JSON.stringify(metadata),
  );
}

function startWaitingJobs() {
  let running = panel.jobs.filter((job) => job.status === "uploading").length;
  for (const job of panel.jobs) {
    if (running >= PARALLEL_UPLOADS) break;
    if (job.status === "waiting") {
      running += 1;
      runJob(job);
    }
  }
}

/** The access token for creating an upload; leaves for login if it is gone. */
function accessToken() {
  const problem = tokenProblem();
  if (problem) redirectToLogin(problem);
  return getToken();
}

/** Too large or over quota is said before any byte is sent (the server checks
 * again when the upload is created, and its word is final). */
function refusalBeforeSending(upload) {
  const size = upload.file.size;
  if (panel.maxFileBytes && size > panel.maxFileBytes) {
    return ["up.tooLarge", { max: formatBytes(panel.maxFileBytes) }];
  }
  // A remembered or resumed upload already holds its space on the server.
  if (!upload.resumeUrl && !upload.recall() && size > freeBytes()) {
    return ["up.overQuota", { free: formatBytes(Math.max(0, freeBytes())) }];
  }
  return null;
}

async function runJob(job) {
  const me = panel.workspace.me();
  const upload = new TusUpload(job.file, {
    accessToken,
    owner: me ? String(me.id) : "",
    onProgress: (progress) => renderProgress(job, progress),
    onRetry: ({ delayMs }) => setRowStatus(job, "up.retrying", { s: Math.round(delayMs / 1000) }),
    onResume: ({ offset }) => setRowStatus(job, "up.resumed", { done: formatBytes(offset) }),
    resumeUrl: job.resumeUrl,
    metadata: job.metadata,
  });
  job.upload = upload;

  const refusal = refusalBeforeSending(upload);
  if (refusal) {
    failJob(job, refusal);
    startWaitingJobs();
    return;
  }

  job.status = "uploading";
  job.row.classList.add("is-active");
  setRowStatus(job, "up.checking");
  try {
    const sending = upload.start();
    // A remembered upload continues now: it is no longer an unfinished one.
    panel.workspace.uploadStarted();
    await sending;
    job.row.querySelector(".upload-bar").value = 100;
    finishJob(job, "done", "up.done");
    showSuccess("up.uploadedAlert", { name: job.file.name });
  } catch (error) {
    if (error.key === "aborted") {
      finishJob(job, "cancelled", "up.cancelled");
    } else {
      failJob(job, errorMessageKey(error));
      // An access-token 401 means the session is over; make sure of it (api()
      // leads to the login page if so) rather than guess from the upload's token.
      if (error.status === 401) panel.workspace.checkSession();
    }
  }
  // Usage, the file list and the unfinished uploads all change when an upload ends.
  panel.workspace.refresh();
  startWaitingJobs();
}

/** "Not uploaded: <reason>", the reason kept as a key to redraw in another language. */
function failJob(job, [reasonKey, reasonArgs]) {
  job.failure = [reasonKey, reasonArgs];
  finishJob(job, "error", "up.failed", { reason: t(reasonKey, reasonArgs) });
}

function finishJob(job, status, key, args = {}) {
  job.status = status;
  endUploadRow(job.row, job.file, status, key, args);
}

function setRowStatus(job, key, args = {}) {
  setMessage(job.row.querySelector(".upload-status"), key, args);
}

function renderProgress(job, progress) {
  job.progress = progress; // kept to redraw in another language
  showRowProgress(job.row, progress);
}

async function cancelOrDismiss(job) {
  if (job.status === "waiting") {
    finishJob(job, "cancelled", "up.cancelled");
  } else if (job.status === "uploading") {
    await job.upload.cancel(); // abort + DELETE: the partial upload is freed
  } else {
    job.row.remove();
    panel.jobs = panel.jobs.filter((other) => other !== job);
  }
}

/**
 * Every file below dropped entries (File and Directory Entries API), as
 * [file, "folder/sub/name"] pairs. A directory reader answers in batches
 * (Chromium: 100 at a time), so it is read until it answers nothing.
 */
async function filesOfEntries(entries, found = []) {
  for (const entry of entries) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      found.push([file, entry.fullPath.replace(/^\//, "")]);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        await filesOfEntries(batch, found);
      }
    }
  }
  return found;
}

/** "Uploads go into …": the folder the list shows. */
function renderUploadTarget() {
  const folder = panel.workspace.currentFolder();
  if (folder) setMessage($("uploadTarget"), "fo.uploadingInto", { name: folder.name });
  else setMessage($("uploadTarget"), "fo.uploadingIntoRoot");
}

function wireDropZone() {
  const zone = $("dropZone");
  // A file dropped anywhere else would make the browser open it and leave the page.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());
  zone.addEventListener("dragenter", () => zone.classList.add("is-dragging"));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("is-dragging");
  });
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove("is-dragging");
  });
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("is-dragging");
    // Entries must be taken during the event: the DataTransfer empties after it.
    const entries = [...event.dataTransfer.items].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry());
    if (entries.some((entry) => entry && entry.isDirectory)) {
      const paths = new Map(await filesOfEntries(entries.filter(Boolean)));
      addFiles([...paths.keys()], (file) => paths.get(file));
    } else if (event.dataTransfer.files.length) {
      addFiles(event.dataTransfer.files);
    }
  });
  const folderInput = $("folderInput");
  folderInput.addEventListener("change", () => {
    addFiles(folderInput.files); // each File knows its webkitRelativePath
    folderInput.value = "";
  });
  const input = $("fileInput");
  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = ""; // so picking the same file again (to resume it) fires "change"
  });
  $("uploadForm").addEventListener("submit", (event) => event.preventDefault());
}

/** Redraw what script drew (sizes, progress, labels) in the new language. */
function onLanguageChange() {
  renderDropNote();
  for (const job of panel.jobs) {
    const name = job.file.name;
    const button = job.row.querySelector(".upload-cancel");
    const running = job.status === "waiting" || job.status === "uploading";
    button.setAttribute("aria-label", t(running ? "up.cancelLabel" : "up.dismissLabel", { name }));
    job.row.querySelector(".upload-size").textContent = formatBytes(job.file.size);
    if (job.failure) setRowStatus(job, "up.failed", { reason: t(...job.failure) });
    if (job.progress) {
      const speed = job.row.querySelector(".upload-speed").textContent;
      renderProgress(job, job.progress);
      if (!speed) job.row.querySelector(".upload-speed").textContent = "";
    }
  }
}

export function initUploadPanel(workspace) {
  panel.workspace = workspace;
  wireDropZone();
  document.addEventListener("folderchange", renderUploadTarget);
  document.addEventListener("languagechange", onLanguageChange);
}
