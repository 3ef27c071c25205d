// security/activity.js — the account's own audit events (GET /api/activity),
// newest first, twenty at a time: sign-ins and failed sign-ins with the address
// they came from, password and two-factor changes, sessions ended. Reloaded when
// another panel changes something ("securitychange").

import { api } from "../api.js";
import { formatDate, hasMessage, setMessage } from "../i18n.js";
import { showError } from "../workspace/notices.js";

const PAGE_SIZE = 20;
const $ = (id) => document.getElementById(id);
let events = [];
let total = 0;

/** The i18n key and arguments that say what an event was. */
export function describeEvent(event) {
  const detail = event.detail || {};
  if (event.type === "login" && detail.second_factor === "recovery_code") return ["sec.event.loginRecovery", {}];
  if (event.type === "login_failed" && detail.reason === "code") return ["sec.event.loginFailedCode", {}];
  if (event.type === "session_revoked") return ["sec.event.session_revoked", { n: detail.sessions ?? 1 }];
  if (event.type === "recovery_code_used") return ["sec.event.recovery_code_used", { n: detail.left ?? "?" }];
  const key = `sec.event.${event.type}`;
  return hasMessage(key) ? [key, {}] : ["sec.event.other", { type: event.type }];
}

function eventRow(event) {
  const row = document.createElement("tr");
  row.dataset.type = event.type;
  const when = document.createElement("td");
  when.textContent = formatDate(event.at);
  const what = document.createElement("td");
  const [key, args] = describeEvent(event);
  setMessage(what, key, args);
  const from = document.createElement("td");
  from.textContent = event.address;
  row.append(when, what, from);
  if (event.type === "login_failed") row.classList.add("is-failure");
  return row;
}

function render() {
  $("activityRows").replaceChildren(...events.map(eventRow));
  $("activityEmpty").hidden = events.length > 0;
  $("moreActivity").hidden = events.length >= total;
}

async function loadPage(offset) {
  const data = await api("GET", `/api/activity?limit=${PAGE_SIZE}&offset=${offset}`);
  total = data.total;
  events = offset === 0 ? data.events : events.concat(data.events);
  render();
}

export async function initActivity() {
  $("moreActivity").addEventListener("click", () => loadPage(events.length).catch(showError));
  $("refreshActivity").addEventListener("click", () => loadPage(0).catch(showError));
  document.addEventListener("securitychange", () => loadPage(0).catch(showError));
  document.addEventListener("languagechange", render); // dates in the new language's style
  await loadPage(0);
}
