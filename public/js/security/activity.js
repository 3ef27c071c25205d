// security/activity.js — the account's own audit events (GET /api/activity),
// newest first, twenty at a time: sign-ins and failed sign-ins with the address
// they came from, password and two-factor changes, sessions ended. Reloaded when
// another panel changes something ("securitychange").

import { api } from "../api.js";
import { formatDate, setMessage } from "../i18n.js";
import { showError } from "../workspace/notices.js";

const PAGE_SIZE = 20;
const $ = (id) => document.getElementById(id);
let events = [];
let total = 0;

/** The sentence for each event type an account's holder may see (API.md's list). */
const EVENT_MESSAGES = {
  register: "sec.event.register",
  login: "sec.event.login",
  login_failed: "sec.event.login_failed",
  logout: "sec.event.logout",
  password_changed: "sec.event.password_changed",
  password_reset: "sec.event.password_reset",
  session_revoked: "sec.event.session_revoked",
  totp_enabled: "sec.event.totp_enabled",
  totp_disabled: "sec.event.totp_disabled",
  recovery_code_used: "sec.event.recovery_code_used",
};

/** The i18n key and arguments that say what an event was; a type this page does not know shows as it is. */
export function describeEvent(event) {
  const detail = event.detail || {};
  if (event.type === "login" && detail.second_factor === "recovery_code") return ["sec.event.loginRecovery", {}];
  if (event.type === "login_failed" && detail.reason === "invalid_code") return ["sec.event.loginFailedCode", {}];
  if (event.type === "login_failed" && detail.reason === "account_disabled") return ["sec.event.loginFailedDisabled", {}];
  const key = EVENT_MESSAGES[event.type];
  if (!key) return ["sec.event.other", { type: event.type }];
  return [key, { n: event.type === "session_revoked" ? detail.sessions ?? 1 : detail.left ?? "?" }];
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
