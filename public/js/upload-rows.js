// upload-rows.js — one row of an upload list, drawn alike on the workspace and on
// an upload request's drop page: the file's name and size, a progress bar, the
// speed and the time left, a status line, and a Cancel button that becomes
// Dismiss once the upload has ended. The markup is each page's
// #uploadRowTemplate; the sentences are the workspace's "up.*" messages.

import { formatBytes, formatDuration, setMessage, t } from "./i18n.js";

/** A new row for `file`, put at the top of `list`. */
export function newUploadRow(file, list) {
  const row = document.getElementById("uploadRowTemplate").content.firstElementChild.cloneNode(true);
  row.querySelector(".upload-name").textContent = file.name;
  row.querySelector(".upload-name").title = file.name;
  row.querySelector(".upload-size").textContent = formatBytes(file.size);
  setMessage(row.querySelector(".upload-cancel"), "up.cancel"); // the template's text is English
  row.querySelector(".upload-cancel").setAttribute("aria-label", t("up.cancelLabel", { name: file.name }));
  list.prepend(row);
  return row;
}

/** Draw one of tus.js's progress reports on `row`. */
export function showRowProgress(row, { bytesSent, bytesTotal, bytesPerSecond, secondsLeft }) {
  const pct = bytesTotal ? Math.floor((bytesSent / bytesTotal) * 100) : 100;
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
  // Once bytes flow, a "checking…" or "retrying…" note is stale (bytes flow again only after a retry's pause).
  const status = row.querySelector(".upload-status");
  if (bytesSent > 0 && (status.dataset.i18n === "up.checking" || status.dataset.i18n === "up.retrying")) {
    setMessage(status, "");
  }
}

/** The row of an upload that ended (`status`: done, error or cancelled): its note, and Cancel becomes Dismiss. */
export function endUploadRow(row, file, status, key, args = {}) {
  row.classList.remove("is-active");
  row.classList.add("is-" + status);
  row.querySelector(".upload-speed").textContent = ""; // a finished upload has no speed
  const button = row.querySelector(".upload-cancel");
  setMessage(button, "up.dismiss");
  button.setAttribute("aria-label", t("up.dismissLabel", { name: file.name }));
  setMessage(row.querySelector(".upload-status"), key, args);
}
