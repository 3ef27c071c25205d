// workspace/viewer.js — a dialog that shows images, video, audio, PDF and text
// files, with previous/next buttons and the arrow keys (Esc closes).
//
// The bytes come through a preview link (POST /api/files/{id}/link with
// {"inline": true}): a URL that needs no header, so <img>, <video>, <audio> and
// <iframe> can load it. The server sends it inline only for the types below,
// as their own type, with nosniff and "Content-Security-Policy: sandbox": even
// an HTML page declared as an image runs no script in this origin. Text is
// read with fetch (the first 256 KiB) and shown with textContent, never as markup.

import { api } from "../api.js";
import { registerMessages, setMessage } from "../i18n.js";
import folderMessages from "../messages/folders.js";
import { showError } from "./notices.js";

registerMessages(folderMessages);

const $ = (id) => document.getElementById(id);

/** What the server shows inline (files/previews.py), by how the page shows it. */
const SHOWN_AS = {
  "image/png": "img", "image/jpeg": "img", "image/gif": "img", "image/webp": "img", "image/avif": "img",
  "video/mp4": "video", "video/webm": "video",
  "audio/mpeg": "audio", "audio/ogg": "audio", "audio/wav": "audio", "audio/webm": "audio",
  "application/pdf": "iframe",
};
const TEXT_PREVIEW_BYTES = 256 * 1024;

const viewer = { files: [], index: 0 };

function shownAs(file) {
  if (file.content_type.startsWith("text/")) return "text";
  return SHOWN_AS[file.content_type] || null;
}

export function isPreviewable(file) {
  return shownAs(file) !== null;
}

/** Open the viewer on `file`, with `files` (all previewable) for previous/next. */
export function openViewer(files, file) {
  viewer.files = files;
  viewer.index = Math.max(0, files.findIndex((other) => other.id === file.id));
  $("viewerDialog").showModal();
  show().catch(showError);
}

async function show() {
  const file = viewer.files[viewer.index];
  const kind = shownAs(file);
  $("viewerTitle").textContent = file.name;
  setMessage($("viewerPosition"), "vw.position", { n: viewer.index + 1, total: viewer.files.length });
  $("viewerPrev").disabled = viewer.index === 0;
  $("viewerNext").disabled = viewer.index === viewer.files.length - 1;
  const body = $("viewerBody");
  body.replaceChildren();
  const link = await api("POST", `/api/files/${encodeURIComponent(file.id)}/link`, { body: { inline: true } });
  if (viewer.files[viewer.index] !== file) return; // the person moved on meanwhile
  let shown;
  if (kind === "text") {
    shown = document.createElement("pre");
    shown.className = "viewer-text";
    const answer = await fetch(link.url, { headers: { Range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` } });
    shown.textContent = await answer.text();
  } else {
    shown = document.createElement(kind);
    shown.src = link.url;
    if (kind === "img") shown.alt = file.name;
    if (kind === "video" || kind === "audio") shown.controls = true;
    if (kind === "iframe") shown.title = file.name;
  }
  shown.classList.add("viewer-media");
  body.replaceChildren(shown);
}

function step(by) {
  const next = viewer.index + by;
  if (next < 0 || next >= viewer.files.length) return;
  viewer.index = next;
  show().catch(showError);
}

export function initViewer({ download }) {
  const dialog = $("viewerDialog");
  $("viewerPrev").addEventListener("click", () => step(-1));
  $("viewerNext").addEventListener("click", () => step(1));
  $("viewerClose").addEventListener("click", () => dialog.close());
  $("viewerDownload").addEventListener("click", () => download(viewer.files[viewer.index]));
  // On the document, not the dialog: the button that had focus may just have
  // been disabled (the last file reached), which leaves the focus outside it.
  document.addEventListener("keydown", (event) => {
    if (!dialog.open || event.target.closest("video, audio, input")) return; // media keys seek and set the volume
    if (event.key === "ArrowLeft") step(-1);
    if (event.key === "ArrowRight") step(1);
  });
  // Stop a playing video and drop the link when the viewer closes.
  dialog.addEventListener("close", () => $("viewerBody").replaceChildren());
  document.addEventListener("languagechange", () => {
    if (dialog.open) setMessage($("viewerPosition"), "vw.position", { n: viewer.index + 1, total: viewer.files.length });
  });
}

