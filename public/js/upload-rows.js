// upload-rows.js — one row of an upload list, drawn alike on the workspace and on
// an upload request's drop page: the file's name and size, a progress bar, the
// speed and the time left, a status line, and a Cancel button that becomes
// Dismiss once the upload has ended. The sentences are the workspace's "up.*"
// messages (the drop page registers them too).

import { formatBytes, formatDuration, setMessage, t } from "./i18n.js";

/** An element of the row: its tag, its classes, its text (never HTML: file names are not ours). */
function part(tag, className, text = "") {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = text;
  return element;
}

/** A new row for `file`, put at the top of `list`:
 *  [name  size  Cancel] / progress bar / [progress  speed] / status. */
export function newUploadRow(file, list) {
  const name = part("span", "upload-name", file.name);
  name.title = file.name;
  const cancel = part("button", "btn btn-ghost btn-small upload-cancel");
  cancel.type = "button";
  setMessage(cancel, "up.cancel");
  cancel.setAttribute("aria-label", t("up.cancelLabel", { name: file.name }));
  const head = part("div", "upload-head");
  head.append(name, part("span", "upload-size muted", formatBytes(file.size)), cancel);
  const bar = part("progress", "bar upload-bar");
  bar.max = 100;
  bar.value = 0;
  const meta = part("div", "upload-meta");
  meta.append(part("span", "upload-progress"), part("span", "upload-speed"));
  const status = part("p", "upload-status");
  status.setAttribute("role", "status");
  const row = part("li", "upload-row");
  row.append(head, bar, meta, status);
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
