// welcome.js — the upload workspace: who is logged in and their usage, uploads
// (picker or drag and drop, through the resumable tus endpoints), the file
// table with download and delete, change password, log out.

import { api, clearToken, errorMessageKey, getToken, keepTokenFresh, redirectToLogin, setToken, tokenProblem } from "./api.js";
import { formatBytes, formatDate, formatDuration, formatNumber, initLanguage, pluralKey, setMessage, t } from "./i18n.js";
import { checkConfirm, checkPassword, clearAlerts, setBusy, showAlert, showFieldError } from "./forms.js";
import { TusUpload, fetchTusLimits } from "./tus.js";

const $ = (id) => document.getElementById(id);

/** Rows per page of the file table (the API allows up to 500). */
const PAGE_SIZE = 20;
/** Uploads running at once; the rest wait their turn. Two or three keep the
 * connection busy without starving the page's other requests. */
const PARALLEL_UPLOADS = 3;

const state = {
  me: null, // GET /api/me data
  maxFileBytes: null, // Tus-Max-Size, if the server announced one
  page: 0,
  files: [],
  total: 0,
  jobs: [], // one per file picked: { file, row, status, upload }
  stopRefreshing: () => {},
  refreshTimer: null,
};

// ---- Alerts -----------------------------------------------------------------

function showSuccess(key, args) {
  clearAlerts($("errorAlert"));
  showAlert($("successAlert"), key, args);
}

function showError(error) {
  const [key, args] = errorMessageKey(error);
  clearAlerts($("successAlert"));
  showAlert($("errorAlert"), key, args);
}

// ---- Who is logged in, and how much they store ------------------------------

async function loadMe() {
  state.me = await api("GET", "/api/me");
  renderUser();
  renderUsage();
}

function renderUser() {
  const name = state.me.username;
  $("currentUser").textContent = name;
  $("avatar").textContent = [...name][0].toUpperCase();
  $("pwUsername").value = name; // lets a password manager update the right entry
  $("userChip").hidden = false;
}

function renderUsage() {
  const usage = (state.me && state.me.usage) || { files: 0, bytes: 0, quota_bytes: 0 };
  const quota = usage.quota_bytes || 0;
  $("usageText").textContent = t("ws.usageText", { used: formatBytes(usage.bytes), quota: formatBytes(quota) });
  $("usageBar").value = quota ? Math.min(1, usage.bytes / quota) : 0;
  $("usageBar").classList.toggle("is-full", quota > 0 && usage.bytes / quota > 0.9);
  $("usageFiles").textContent = t(pluralKey("ws.usageFiles", usage.files), { n: formatNumber(usage.files) });
  $("usageFree").textContent = t("ws.usageFree", { free: formatBytes(Math.max(0, quota - usage.bytes)) });
}

/** Bytes still free, minus what this page's running uploads will take. */
function freeBytes() {
  if (!state.me) return Infinity; // usage unknown: the server will judge
  const usage = state.me.usage;
  const reserved = state.jobs.filter((job) => job.status === "uploading").reduce((sum, job) => sum + job.file.size, 0);
  return usage.quota_bytes - usage.bytes - reserved;
}

async function loadLimits() {
  const limits = await fetchTusLimits();
  state.maxFileBytes = limits.maxSize || null;
  renderDropNote();
}

function renderDropNote() {
  if (state.maxFileBytes) setMessage($("dropNote"), "ws.dropNote", { max: formatBytes(state.maxFileBytes) });
  else setMessage($("dropNote"), "ws.dropNoteNoMax");
}

// ---- The file table -----------------------------------------------------------

async function loadFiles() {
  const offset = state.page * PAGE_SIZE;
  const data = await api("GET", `/api/files?limit=${PAGE_SIZE}&offset=${offset}`);
  state.files = data.files;
  state.total = data.total;
  if (state.files.length === 0 && state.page > 0) {
    // The last file of the last page was deleted: show the page before.
    state.page -= 1;
    return loadFiles();
  }
  renderFiles();
}

/** Refresh list and usage, once, shortly after a burst of changes. */
function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    Promise.all([loadFiles(), loadMe()]).catch(showError);
  }, 250);
}

function renderFiles() {
  const rows = $("fileRows");
  rows.replaceChildren(...state.files.map(fileRow));
  const empty = state.total === 0;
  $("fileTable").hidden = empty;
  $("filesEmpty").hidden = !empty;

  const pager = $("pager");
  pager.hidden = state.total <= PAGE_SIZE;
  const from = state.page * PAGE_SIZE + 1;
  const to = state.page * PAGE_SIZE + state.files.length;
  $("pageRange").textContent = t("files.range", { from, to, total: state.total });
  $("prevPage").disabled = state.page === 0;
  $("nextPage").disabled = to >= state.total;
}

/** One <tr>. Names go in with textContent, never innerHTML: a file name is
 * whatever the uploader typed, and must never become markup. */
function fileRow(file) {
  const tr = document.createElement("tr");
  tr.dataset.fileId = file.id;

  const name = document.createElement("td");
  name.className = "file-name";
  name.textContent = file.name;
  name.title = file.name;

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
    if (error.key === "not_found") refreshSoon();
  }
}

// ---- Delete, with a confirmation dialog -------------------------------------

let pendingDelete = null;

function askDelete(file) {
  pendingDelete = file;
  const dialog = $("confirmDialog");
  setMessage($("confirmText"), "confirm.text", { name: file.name });
  dialog.returnValue = "";
  dialog.showModal(); // focus lands on "Keep it", the harmless choice
}

async function onDialogClose() {
  const file = pendingDelete;
  pendingDelete = null;
  if (!file || $("confirmDialog").returnValue !== "delete") return;
  try {
    await api("DELETE", `/api/files/${encodeURIComponent(file.id)}`);
    showSuccess("files.deleted", { name: file.name });
  } catch (error) {
    showError(error);
  }
  refreshSoon();
}

// ---- Uploads --------------------------------------------------------------------

/** Queue every picked or dropped file; each gets its own row. */
function addFiles(fileList) {
  for (const file of fileList) {
    if (isAlreadyQueued(file)) continue;
    const job = { file, status: "waiting", upload: null, row: uploadRow(file) };
    job.row.querySelector(".upload-cancel").addEventListener("click", () => cancelOrDismiss(job));
    state.jobs.push(job);
    setRowStatus(job, "up.waiting");
  }
  startWaitingJobs();
}

/** The same file picked twice while its first upload still runs would resume
 * the same tus upload twice over; the second pick is ignored. */
function isAlreadyQueued(file) {
  return state.jobs.some(
    (job) =>
      (job.status === "waiting" || job.status === "uploading") &&
      job.file.name === file.name &&
      job.file.size === file.size &&
      job.file.lastModified === file.lastModified,
  );
}

function uploadRow(file) {
  const row = $("uploadRowTemplate").content.firstElementChild.cloneNode(true);
  row.querySelector(".upload-name").textContent = file.name;
  row.querySelector(".upload-name").title = file.name;
  row.querySelector(".upload-size").textContent = formatBytes(file.size);
  setMessage(row.querySelector(".upload-cancel"), "up.cancel"); // the template's text is English
  row.querySelector(".upload-cancel").setAttribute("aria-label", t("up.cancelLabel", { name: file.name }));
  $("uploadList").prepend(row);
  return row;
}

function startWaitingJobs() {
  let running = state.jobs.filter((job) => job.status === "uploading").length;
  for (const job of state.jobs) {
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
  if (state.maxFileBytes && size > state.maxFileBytes) {
    return ["up.tooLarge", { max: formatBytes(state.maxFileBytes) }];
  }
  // A remembered, half-sent upload already holds its space on the server.
  if (!upload.recall() && size > freeBytes()) {
    return ["up.overQuota", { free: formatBytes(Math.max(0, freeBytes())) }];
  }
  return null;
}

async function runJob(job) {
  const upload = new TusUpload(job.file, {
    accessToken,
    owner: state.me ? String(state.me.id) : "",
    onProgress: (progress) => renderProgress(job, progress),
    onRetry: ({ delayMs }) => setRowStatus(job, "up.retrying", { s: Math.round(delayMs / 1000) }),
    onResume: ({ offset }) => setRowStatus(job, "up.resumed", { done: formatBytes(offset) }),
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
    await upload.start();
    job.row.querySelector(".upload-bar").value = 100;
    finishJob(job, "done", "up.done");
    showSuccess("up.uploadedAlert", { name: job.file.name });
    refreshSoon();
  } catch (error) {
    if (error.key === "aborted") {
      finishJob(job, "cancelled", "up.cancelled");
    } else {
      failJob(job, errorMessageKey(error));
      // An access-token 401 means the session is over; make sure of it (api()
      // leads to the login page if so) rather than guess from the upload's token.
      if (error.status === 401) loadMe().catch(() => {});
    }
  }
  startWaitingJobs();
}

/** "Not uploaded: <reason>", the reason kept as a key to redraw in another language. */
function failJob(job, [reasonKey, reasonArgs]) {
  job.failure = [reasonKey, reasonArgs];
  finishJob(job, "error", "up.failed", { reason: t(reasonKey, reasonArgs) });
}

function finishJob(job, status, key, args = {}) {
  job.status = status;
  job.row.classList.remove("is-active");
  job.row.classList.add("is-" + status);
  job.row.querySelector(".upload-speed").textContent = "";
  const button = job.row.querySelector(".upload-cancel");
  setMessage(button, "up.dismiss");
  button.setAttribute("aria-label", t("up.dismissLabel", { name: job.file.name }));
  setRowStatus(job, key, args);
}

function setRowStatus(job, key, args = {}) {
  setMessage(job.row.querySelector(".upload-status"), key, args);
}

function renderProgress(job, progress) {
  job.progress = progress; // kept to redraw in another language
  const { bytesSent, bytesTotal, bytesPerSecond, secondsLeft } = progress;
  const pct = bytesTotal ? Math.floor((bytesSent / bytesTotal) * 100) : 100;
  const row = job.row;
  row.querySelector(".upload-bar").value = pct;
  row.querySelector(".upload-progress").textContent = t("up.progress", {
    pct,
    done: formatBytes(bytesSent),
    total: formatBytes(bytesTotal),
  });
  row.querySelector(".upload-speed").textContent =
    bytesPerSecond > 0 && secondsLeft != null
      ? t("up.speed", { speed: formatBytes(bytesPerSecond), eta: formatDuration(secondsLeft) })
      : "";
  // Once bytes flow, the "checking/resuming/retrying" note is stale.
  if (bytesSent > 0 && job.status === "uploading") {
    const status = row.querySelector(".upload-status");
    if (status.dataset.i18n === "up.checking" || status.dataset.i18n === "up.retrying") setMessage(status, "");
  }
}

async function cancelOrDismiss(job) {
  if (job.status === "waiting") {
    finishJob(job, "cancelled", "up.cancelled");
  } else if (job.status === "uploading") {
    await job.upload.cancel(); // abort + DELETE: the partial upload is freed
  } else {
    job.row.remove();
    state.jobs = state.jobs.filter((other) => other !== job);
  }
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
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("is-dragging");
    if (event.dataTransfer.files.length) addFiles(event.dataTransfer.files);
  });
  const input = $("fileInput");
  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = ""; // so picking the same file again (to resume it) fires "change"
  });
  $("uploadForm").addEventListener("submit", (event) => event.preventDefault());
}

// ---- Change password --------------------------------------------------------

async function onPasswordSubmit(event) {
  event.preventDefault();
  const oldInput = $("oldPassword");
  const newInput = $("newPassword");
  const confirmInput = $("confirmPassword");
  clearAlerts($("passwordSuccess"), $("passwordErrorAlert"));

  const problems = [
    [oldInput, oldInput.value === "" ? ["valid.passwordRequired", {}] : null],
    [newInput, checkPassword(newInput.value)],
    [confirmInput, checkConfirm(newInput.value, confirmInput.value)],
  ];
  for (const [input, problem] of problems) showFieldError(input, problem);
  const firstBad = problems.find(([, problem]) => problem);
  if (firstBad) {
    firstBad[0].focus();
    return;
  }

  const button = $("passwordSubmit");
  setBusy(button, true, "pw.working", "pw.submit");
  try {
    const data = await api("POST", "/api/password", {
      body: { old_password: oldInput.value, new_password: newInput.value },
    });
    // Every token issued before is refused from now on: keep the fresh one.
    setToken(data.access_token);
    state.stopRefreshing();
    state.stopRefreshing = keepTokenFresh();
    $("passwordForm").reset();
    $("pwUsername").value = state.me.username;
    showAlert($("passwordSuccess"), "pw.done");
  } catch (error) {
    const [key, args] = errorMessageKey(error);
    showAlert($("passwordErrorAlert"), key, args);
    if (error.key === "wrong_old_password") {
      showFieldError(oldInput, [key, args]);
      oldInput.focus();
    } else if (error.field === "new_password") {
      showFieldError(newInput, [key, args]);
      newInput.focus();
    }
  } finally {
    setBusy(button, false, "pw.working", "pw.submit");
  }
}

// ---- Log out ----------------------------------------------------------------

async function logout() {
  $("logoutButton").disabled = true;
  state.stopRefreshing();
  try {
    // Revoke the token on the server, so a copy of it is worthless too.
    // guard: false — if it is already dead, that is fine: we are leaving anyway.
    await api("POST", "/api/logout", { guard: false });
  } catch {
    // Offline or already revoked: forgetting the token locally still logs out here.
  }
  clearToken();
  location.replace("login.html?reason=logged_out");
}

// ---- Start --------------------------------------------------------------------

function onLanguageChange() {
  if (state.me) {
    renderUsage();
    renderFiles();
    renderDropNote();
  }
  for (const job of state.jobs) {
    const name = job.file.name;
    const button = job.row.querySelector(".upload-cancel");
    button.setAttribute("aria-label", t(job.status === "waiting" || job.status === "uploading" ? "up.cancelLabel" : "up.dismissLabel", { name }));
    job.row.querySelector(".upload-size").textContent = formatBytes(job.file.size);
    if (job.failure) setRowStatus(job, "up.failed", { reason: t(...job.failure) });
    if (job.progress) {
      const speed = job.row.querySelector(".upload-speed").textContent;
      renderProgress(job, job.progress);
      if (!speed) job.row.querySelector(".upload-speed").textContent = "";
    }
  }
}

async function main() {
  initLanguage();
  // The guard: nothing private is requested or drawn without a live token.
  const problem = tokenProblem();
  if (problem) {
    redirectToLogin(problem);
    return;
  }
  state.stopRefreshing = keepTokenFresh();
  document.addEventListener("languagechange", onLanguageChange);

  try {
    await Promise.all([loadMe(), loadFiles(), loadLimits()]);
  } catch (error) {
    if (error.status === 401) return; // api() is on its way to the login page
    showError(error);
  }
  $("loadingNotice").hidden = true;
  $("workspace").hidden = false;

  wireDropZone();
  $("refreshButton").addEventListener("click", () => Promise.all([loadFiles(), loadMe()]).catch(showError));
  $("prevPage").addEventListener("click", () => {
    state.page = Math.max(0, state.page - 1);
    loadFiles().catch(showError);
  });
  $("nextPage").addEventListener("click", () => {
    state.page += 1;
    loadFiles().catch(showError);
  });
  $("confirmDialog").addEventListener("close", onDialogClose);
  $("passwordForm").addEventListener("submit", onPasswordSubmit);
  $("logoutButton").addEventListener("click", logout);
}

main();
