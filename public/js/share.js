// share.js — the public page of a share, /s/<token>: no account, no login.
//
// The token is the last part of this page's own URL. The page asks
// GET /api/public/shares/<token> what is shared; with a password, it first
// trades the password for an access string (POST …/unlock, one hour), which it
// keeps in memory only — never in localStorage: a reload asks for the password
// again, and nothing of the share outlives the tab.
//
// Downloads are plain links: the browser's download manager streams each file
// to disk (and can resume it with Range), whatever its size. The server counts
// a download only when its last byte has been sent. Referrer-Policy:
// no-referrer (sent by the server) keeps the link from leaking to other sites.

import { api, errorMessageKey } from "./api.js";
import { showAlert, clearAlerts, setBusy, showFieldError } from "./forms.js";
import { formatBytes, formatDate, initLanguage, registerMessages, setMessage, t } from "./i18n.js";
import sharingMessages from "./messages/sharing.js";

registerMessages(sharingMessages);

const $ = (id) => document.getElementById(id);
const token = decodeURIComponent(location.pathname.split("/")[2] || "");
const apiBase = `/api/public/shares/${encodeURIComponent(token)}`;

const state = { info: null, access: "" };

/** A public API call: no Authorization header (the link is the proof), the visitor's language. */
function publicApi(method, path, body) {
  return api(method, apiBase + path, { body, auth: false });
}

function withAccess(path) {
  return state.access ? `${apiBase}${path}?access=${encodeURIComponent(state.access)}` : apiBase + path;
}

async function load() {
  const query = state.access ? `?access=${encodeURIComponent(state.access)}` : "";
  state.info = await publicApi("GET", query);
  render();
}

function render() {
  const info = state.info;
  $("loadingNotice").hidden = true;
  $("shareBody").hidden = false;
  setMessage($("sharedBy"), "share.sharedBy", { owner: info.owner });
  $("shareNote").textContent = info.note; // the owner's words: text, never markup
  $("shareNote").hidden = !info.note;
  setMessage($("shareExpiry"), "share.expires", { date: formatDate(info.expires_at) });
  if (info.downloads_left == null) setMessage($("downloadsLeft"), "");
  else setMessage($("downloadsLeft"), "share.downloadsLeft", { n: info.downloads_left });

  const locked = info.password_required && !info.unlocked;
  $("unlockForm").hidden = !locked;
  $("fileSection").hidden = locked;
  if (locked) {
    $("sharePassword").focus();
    return;
  }
  $("sharedFiles").replaceChildren(...info.files.map(fileItem));
  $("zipLink").href = withAccess("/zip");
}

/** One file: its name (as text: whatever the owner uploaded), size, and a download link. */
function fileItem(file) {
  const item = document.createElement("li");
  item.className = "shared-file";
  const name = document.createElement("span");
  name.className = "shared-file-name";
  name.textContent = file.name;
  name.title = file.name;
  const size = document.createElement("span");
  size.className = "muted";
  size.textContent = formatBytes(file.size);
  const link = document.createElement("a");
  link.className = "btn btn-secondary btn-small";
  link.href = withAccess(`/files/${encodeURIComponent(file.id)}`);
  link.download = file.name;
  link.textContent = t("share.download");
  link.setAttribute("aria-label", t("share.downloadLabel", { name: file.name }));
  item.append(name, size, link);
  return item;
}

async function unlock(event) {
  event.preventDefault();
  const input = $("sharePassword");
  clearAlerts($("errorAlert"));
  if (!input.value) {
    showFieldError(input, ["share.passwordRequired", {}]);
    return;
  }
  showFieldError(input, null);
  setBusy($("unlockButton"), true, "share.unlocking", "share.unlock");
  try {
    const data = await publicApi("POST", "/unlock", { password: input.value });
    state.access = data.access;
    input.value = "";
    await load();
  } catch (error) {
    showProblem(error);
  } finally {
    setBusy($("unlockButton"), false, "share.unlocking", "share.unlock");
  }
}

/** A gone, expired or used-up link replaces the page's content with the reason. */
function showProblem(error) {
  const [key, args] = errorMessageKey(error);
  showAlert($("errorAlert"), key, args);
  if (["not_found", "share_expired", "share_exhausted"].includes(error.key)) {
    $("loadingNotice").hidden = true;
    $("shareBody").hidden = true;
  }
}

function main() {
  initLanguage();
  $("unlockForm").addEventListener("submit", unlock);
  document.addEventListener("languagechange", () => {
    if (state.info) render();
  });
  load().catch(showProblem);
}

main();
