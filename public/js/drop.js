// drop.js — the public page of an upload request, /r/<token>: somebody without
// an account sends files to the person who made the link.
//
// 1. GET /api/public/requests/<token> says what was asked for and how much room
//    is left (or that the link is full, expired or gone).
// 2. POST …/session (the name they give, the password if the request has one)
//    answers a "drop" token: one hour, this request only, good for creating
//    uploads and nothing else.
// 3. Each file goes up through tus (tus.js): in pieces, with progress, resuming
//    by itself after a dropped connection.
//
// Where things are kept: in sessionStorage, never localStorage — the drop token
// and tus.js's resume entries (each upload's URL and its Upload-Token). So a
// reload of this tab can continue a half-sent file (choose it again), while
// nothing is left behind once the tab is closed: the person sending may be on a
// borrowed or shared computer, and a link's upload rights must not stay there.

import { api, errorMessageKey } from "./api.js";
import { clearAlerts, setBusy, showAlert, showFieldError } from "./forms.js";
import {
  formatBytes, formatDate, formatNumber, initLanguage, pluralKey, registerMessages,
  setMessage, t,
} from "./i18n.js";
import sharingMessages from "./messages/sharing.js";
import workspaceMessages from "./messages/workspace.js";
import { TusUpload } from "./tus.js";
import { endUploadRow, newUploadRow, showRowProgress } from "./upload-rows.js";

registerMessages(sharingMessages);
registerMessages(workspaceMessages); // the upload rows speak the workspace's "up.*" sentences

const $ = (id) => document.getElementById(id);
const linkToken = decodeURIComponent(location.pathname.split("/")[2] || "");
const apiBase = `/api/public/requests/${encodeURIComponent(linkToken)}`;
const SESSION_KEY = "drop-session:" + linkToken;
/** Files sent at once through one link: enough to keep the connection busy. */
const PARALLEL_UPLOADS = 2;

const state = { info: null, jobs: [] };

/** A public API call: no Authorization header (the link is the proof), the visitor's language. */
function publicApi(method, path, body) {
  return api(method, apiBase + path, { body, auth: false });
}

// ---- The drop token (sessionStorage: this tab only) ---------------------------

function savedSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY));
    // A minute of margin: a token about to expire would fail mid-creation.
    return saved && saved.expiresAt - 60_000 > Date.now() ? saved.token : null;
  } catch {
    return null;
  }
}

function forgetSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

async function startSession(event) {
  event.preventDefault();
  clearAlerts($("errorAlert"));
  const password = $("dropPassword");
  if (state.info.password_required && !password.value) {
    showFieldError(password, ["share.passwordRequired", {}]);
    return;
  }
  showFieldError(password, null);
  setBusy($("sessionButton"), true, "drop.starting", "drop.start");
  try {
    const body = { name: $("senderName").value.trim() };
    if (state.info.password_required) body.password = password.value;
    const data = await publicApi("POST", "/session", body);
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token: data.access_token,
                                                         expiresAt: Date.now() + data.expires_in * 1000 }));
    password.value = "";
    showUploadForm();
  } catch (error) {
    showProblem(error);
  } finally {
    setBusy($("sessionButton"), false, "drop.starting", "drop.start");
  }
}

function showUploadForm() {
  $("sessionForm").hidden = true;
  $("uploadForm").hidden = false;
}

// ---- What was asked for ---------------------------------------------------------

async function loadInfo() {
  state.info = await publicApi("GET", "");
  renderInfo();
}

function renderInfo() {
  const info = state.info;
  $("loadingNotice").hidden = true;
  $("dropBody").hidden = false;
  $("pageTitle").textContent = info.title; // the owner's words: text, never markup
  setMessage($("requestedBy"), "drop.requestedBy", { owner: info.owner });
  $("requestNote").textContent = info.note;
  $("requestNote").hidden = !info.note;
  setMessage($("requestExpiry"), "drop.expires", { date: formatDate(info.expires_at) });
  $("requestRoom").textContent = roomText(info);
  $("passwordField").hidden = !info.password_required;
}

function roomText(info) {
  const parts = [];
  if (info.files_left != null) {
    parts.push(t(pluralKey("drop.filesLeft", info.files_left), { n: formatNumber(info.files_left) }));
  }
  if (info.bytes_left != null) parts.push(t("drop.bytesLeft", { size: formatBytes(info.bytes_left) }));
  parts.push(t("drop.maxFile", { size: formatBytes(info.max_file_bytes) }));
  return parts.join(" · ");
}

/** Full, expired or gone: say so plainly, and hide what can no longer be used. */
function showProblem(error) {
  const [key, args] = errorMessageKey(error);
  showAlert($("errorAlert"), key, args);
  if (["not_found", "request_expired", "request_full"].includes(error.key)) {
    $("loadingNotice").hidden = true;
    $("sessionForm").hidden = true;
    $("uploadForm").hidden = true;
    if (!state.info) $("dropBody").hidden = true;
  }
  if (["token_expired", "token_revoked", "token_invalid"].includes(error.key)) {
    forgetSession(); // the hour is over: a new session, then choose the file again
    $("sessionForm").hidden = false;
    $("uploadForm").hidden = true;
  }
}

// ---- Uploads ----------------------------------------------------------------------

function addFiles(files) {
  clearAlerts($("errorAlert"), $("successAlert"));
  if (!savedSession()) {
    // No drop token (its hour is over): an upload sent now could only be refused
    // (401). Ask for a new session first, before any file is queued.
    showAlert($("errorAlert"), "drop.sessionOver");
    $("sessionForm").hidden = false;
    $("uploadForm").hidden = true;
    $("senderName").focus();
    return;
  }
  for (const file of files) {
    const row = newUploadRow(file, $("uploadList"));
    const job = { file, row, status: "waiting", upload: null };
    row.querySelector(".upload-cancel").addEventListener("click", () => cancel(job));
    setMessage(row.querySelector(".upload-status"), "up.waiting");
    state.jobs.push(job);
  }
  runWaiting();
}

function runWaiting() {
  let running = state.jobs.filter((job) => job.status === "uploading").length;
  for (const job of state.jobs.filter((each) => each.status === "waiting")) {
    if (running >= PARALLEL_UPLOADS) break;
    running += 1;
    send(job);
  }
}

async function send(job) {
  const status = job.row.querySelector(".upload-status");
  if (job.file.size > state.info.max_file_bytes) {
    end(job, "error", "up.failed", { reason: t("up.tooLarge", { max: formatBytes(state.info.max_file_bytes) }) });
    return runWaiting();
  }
  job.status = "uploading";
  setMessage(status, "up.checking");
  job.upload = new TusUpload(job.file, {
    accessToken: savedSession,
    owner: "drop:" + linkToken,
    storage: sessionStorage,
    onProgress: (progress) => showRowProgress(job.row, progress),
    onRetry: ({ delayMs }) => setMessage(status, "up.retrying", { s: Math.round(delayMs / 1000) }),
    onResume: ({ offset }) => setMessage(status, "up.resumed", { done: formatBytes(offset) }),
  });
  try {
    await job.upload.start();
    job.row.querySelector(".upload-bar").value = 100;
    end(job, "done", "up.done");
    showAlert($("successAlert"), "drop.sent", { name: job.file.name });
  } catch (error) {
    if (error.key === "aborted") {
      end(job, "cancelled", "up.cancelled");
    } else {
      const [key, args] = errorMessageKey(error);
      end(job, "error", "up.failed", { reason: t(key, args) });
      if (error.key !== "file_too_large") showProblem(error);
    }
  }
  loadInfo().catch(showProblem); // the room left has changed
  runWaiting();
}

function end(job, status, key, args = {}) {
  job.status = status;
  endUploadRow(job.row, job.file, status, key, args);
}

async function cancel(job) {
  if (job.status === "uploading") {
    await job.upload.cancel(); // abort + DELETE: the partial upload and its reserved room are freed
  } else if (job.status === "waiting") {
    end(job, "cancelled", "up.cancelled");
  } else {
    job.row.remove();
    state.jobs = state.jobs.filter((other) => other !== job);
  }
}

function wireDropZone() {
  const zone = $("dropZone");
  // A file dropped beside the zone would make the browser open it and leave the page.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());
  zone.addEventListener("dragover", () => zone.classList.add("is-dragging"));
  zone.addEventListener("dragleave", () => zone.classList.remove("is-dragging"));
  zone.addEventListener("drop", (event) => {
    zone.classList.remove("is-dragging");
    if (event.dataTransfer.files.length) addFiles(event.dataTransfer.files);
  });
  const input = $("fileInput");
  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = ""; // choosing the same file again (to resume it) fires "change" again
  });
  $("uploadForm").addEventListener("submit", (event) => event.preventDefault());
}

function main() {
  initLanguage();
  $("sessionForm").addEventListener("submit", startSession);
  wireDropZone();
  document.addEventListener("languagechange", () => {
    if (state.info) renderInfo();
  });
  loadInfo()
    .then(() => {
      if (savedSession()) showUploadForm();
    })
    .catch(showProblem);
}

main();
