// welcome.js — the workspace page's entry: the guard (no token, no page), who
// is logged in and their usage, logging out; the panels live in js/workspace/
// (upload-panel.js, unfinished-uploads.js, file-list.js with folder-picker.js, viewer.js and
// trash-view.js, password-panel.js)
// and get `workspace`, the little they need from the page.

import { api, forgetAccount, hasLiveToken, keepTokenFresh } from "./api.js";
import { formatBytes, formatNumber, initLanguage, pluralKey, registerMessages, t } from "./i18n.js";
import adminMessages from "./messages/admin.js";
import workspaceMessages from "./messages/workspace.js";
import { clearSelection, currentFolder, download, initFileList, loadFiles, selectedFiles } from "./workspace/file-list.js";
import { initFolderPicker } from "./workspace/folder-picker.js";
import { initTrashView } from "./workspace/trash-view.js";
import { initViewer } from "./workspace/viewer.js";
import { showError } from "./workspace/notices.js";
import { initPasswordPanel, showPasswordRule } from "./workspace/password-panel.js";
import { initRequestsPanel, loadRequests } from "./workspace/requests-panel.js";
import { initSharingPanel, loadShares } from "./workspace/sharing-panel.js";
import { hideUploadsInProgress, initUnfinishedUploads, loadUnfinishedUploads } from "./workspace/unfinished-uploads.js";
import { initUploadPanel, loadLimits } from "./workspace/upload-panel.js";

registerMessages(workspaceMessages);
registerMessages(adminMessages); // the header's link to the admin page

/** How often an open workspace asks whether its session still stands: an
 * account disabled (or a session ended) elsewhere leaves for the login page
 * within this time, or at once when the tab is looked at again. */
const SESSION_CHECK_SECONDS = 60;

const $ = (id) => document.getElementById(id);

const state = {
  me: null, // GET /api/me data
  stopRefreshing: () => {},
  refreshTimer: null,
};

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
  $("adminLink").hidden = !state.me.admin;
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

/** Refresh files, unfinished uploads and usage, once, shortly after a burst of changes. */
function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    Promise.all([loadFiles(), loadUnfinishedUploads(), loadMe()]).catch(showError);
  }, 250);
}

/** What the panels may ask of the page. */
const workspace = {
  me: () => state.me,
  refresh: refreshSoon,
  uploadStarted: hideUploadsInProgress,
  currentFolder, // where uploads go: the folder the list shows
  // A 401 on an upload: GET /api/me tells whether the session is over (api()
  // then leads to the login page) or the upload's own token was at fault.
  checkSession: () => loadMe().catch(() => {}),
  // The files selected in the list (folders aside), for the Share dialog.
  selectedFiles,
  clearSelection,
  // The password changed and a fresh token came: refresh that one from now on.
  tokenReplaced: () => {
    state.stopRefreshing();
    state.stopRefreshing = keepTokenFresh();
  },
};

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
  forgetAccount();
  location.replace("login.html?reason=logged_out");
}

// ---- Start --------------------------------------------------------------------

async function main() {
  initLanguage();
  // The guard: nothing private is requested or drawn without a live token.
  if (!hasLiveToken()) return;
  state.stopRefreshing = keepTokenFresh();
  document.addEventListener("languagechange", () => {
    if (state.me) renderUsage();
  });

  try {
    await Promise.all([loadMe(), loadFiles(), loadUnfinishedUploads(), loadLimits(), showPasswordRule(), loadShares(),
                       loadRequests()]);
  } catch (error) {
    if (error.status === 401) return; // api() is on its way to the login page
    showError(error);
  }
  $("loadingNotice").hidden = true;
  $("workspace").hidden = false;

  initUploadPanel(workspace);
  initUnfinishedUploads(workspace);
  initFileList(workspace);
  initFolderPicker();
  initViewer({ download });
  initTrashView(workspace);
  initPasswordPanel(workspace);
  initSharingPanel(workspace);
  initRequestsPanel(workspace);
  $("logoutButton").addEventListener("click", logout);
  watchSession();
}

/** Ask GET /api/me now and then, and whenever the tab comes back into view;
 * a 401 there (disabled, revoked) makes api() leave for the login page. */
function watchSession() {
  const check = () => loadMe().catch(() => {});
  setInterval(check, SESSION_CHECK_SECONDS * 1000);
  window.addEventListener("focus", check);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });
}

main();
