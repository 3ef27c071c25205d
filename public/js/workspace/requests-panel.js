// workspace/requests-panel.js — upload requests ("send me your files"): a form
// that makes a link somebody without an account can upload through, and the
// list of requests with their state, what they received, their link (to copy
// again) and a Close button. Files received appear in the file list, marked
// with the sender's name and the request they came through.
//
// initRequestsPanel(workspace) wires the form; loadRequests() fetches the list.

import { api, errorText } from "../api.js";
import { formatBytes, formatDate, formatNumber, pluralKey, registerMessages, t } from "../i18n.js";
import sharingMessages from "../messages/sharing.js";
import { showError, showSuccess } from "./notices.js";
import { linkActions, stateBadge } from "./sharing-panel.js";

registerMessages(sharingMessages);

const $ = (id) => document.getElementById(id);
const DAY = 24 * 3600;
const MIB = 1024 * 1024;
const REQUEST_STATES = { open: "rq.state.open", expired: "rq.state.expired", full: "rq.state.full", closed: "rq.state.closed" };

const panel = { workspace: null, requests: [], loaded: false };

export async function loadRequests() {
  panel.requests = (await api("GET", "/api/requests")).requests;
  panel.loaded = true;
  renderRequests();
}

function renderRequests() {
  $("requestItems").replaceChildren(...panel.requests.map(requestItem));
  $("requestsEmpty").hidden = panel.requests.length > 0;
}

function requestItem(request) {
  const item = document.createElement("li");
  item.className = "link-item";
  item.dataset.requestId = request.id;
  const head = document.createElement("div");
  head.className = "link-head";
  const title = document.createElement("span");
  title.className = "link-title";
  title.textContent = request.title; // the owner's own words, still text only
  head.append(title, stateBadge(REQUEST_STATES[request.state], request.state));
  const facts = document.createElement("p");
  facts.className = "link-facts muted";
  const received = t(pluralKey("rq.received", request.files_received),
                     { n: formatNumber(request.files_received), size: formatBytes(request.bytes_received) });
  const extras = [received];
  if (request.max_files != null) extras.push(t("rq.maxFiles", { n: formatNumber(request.max_files) }));
  if (request.max_bytes != null) extras.push(t("rq.maxBytes", { size: formatBytes(request.max_bytes) }));
  extras.push(t("sh.expires", { date: formatDate(request.expires_at) }));
  if (request.password) extras.push(t("sh.withPassword"));
  facts.textContent = extras.join(" · ");
  item.append(head, facts);
  if (request.state !== "closed") {
    item.append(linkActions(request.url, request.title, "rq.close", "rq.closeLabel", () => close(request)));
  }
  return item;
}

async function close(request) {
  try {
    await api("DELETE", `/api/requests/${encodeURIComponent(request.id)}`);
    showSuccess("rq.closed", { title: request.title });
  } catch (error) {
    showError(error);
  }
  loadRequests().catch(showError);
}

async function createRequest(event) {
  event.preventDefault();
  const title = $("requestTitle").value.trim();
  $("requestTitleError").textContent = title ? "" : t("rq.titleRequired");
  if (!title) {
    $("requestTitle").focus();
    return;
  }
  const body = { title, expires_in: Number($("requestExpiry").value) * DAY };
  const note = $("requestNote").value.trim();
  if (note) body.note = note;
  const maxFiles = $("requestMaxFiles").value.trim();
  if (maxFiles) body.max_files = Number(maxFiles);
  const maxMib = $("requestMaxMib").value.trim();
  if (maxMib) body.max_bytes = Math.round(Number(maxMib) * MIB);
  const password = $("requestSecret").value;
  if (password) body.password = password;
  $("requestCreate").disabled = true;
  try {
    const request = await api("POST", "/api/requests", { body });
    $("requestForm").reset();
    showSuccess("rq.created", { title: request.title });
    await loadRequests();
    const field = document.querySelector(`[data-request-id="${CSS.escape(request.id)}"] .link-field`);
    if (field) field.focus();
  } catch (error) {
    showError(error);
    $("requestFormError").textContent = errorText(error);
  } finally {
    $("requestCreate").disabled = false;
  }
}

export function initRequestsPanel(workspace) {
  panel.workspace = workspace;
  $("requestForm").addEventListener("submit", createRequest);
  $("requestForm").addEventListener("input", () => {
    $("requestFormError").textContent = "";
  });
  $("refreshRequests").addEventListener("click", () => {
    loadRequests().catch(showError);
    workspace.refresh();
  });
  document.addEventListener("languagechange", () => {
    if (panel.loaded) renderRequests();
  });
}
