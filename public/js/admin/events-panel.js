// admin/events-panel.js — the audit log, newest first: who did what, when,
// from where; filtered by type and by account (a click on a name, or
// "Activity" on an account), a page at a time. The server answers has_more
// instead of a total, so paging is "newer" and "older".

import { api } from "../api.js";
import { formatDate, hasMessage, registerMessages, setMessage, t } from "../i18n.js";
import adminMessages from "../messages/admin.js";
import { showError } from "../workspace/notices.js";

registerMessages(adminMessages);

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 50;
/** The event types API.md lists, offered in the type filter. */
const TYPES = ["login", "login_failed", "logout", "register", "password_changed", "password_reset",
  "session_revoked", "totp_enabled", "totp_disabled", "recovery_code_used", "invite_created", "invite_used",
  "invite_revoked", "user_changed", "user_deleted", "share_created", "share_revoked", "share_downloaded",
  "request_created", "request_closed", "request_received"];

const panel = { type: "", account: null, offset: 0, hasMore: false, events: [] };

function typeLabel(type) {
  return hasMessage(`adminEvent.${type}`) ? t(`adminEvent.${type}`) : type;
}

/** "self", "cli", "anonymous", "system" or "admin:<id>" (by name while that account exists), in words. */
function actorLabel(event) {
  if (event.actor_username) return t("adminActor.adminNamed", { name: event.actor_username });
  const admin = /^admin:(\d+)$/.exec(event.actor);
  if (admin) return t("adminActor.admin", { id: admin[1] });
  return hasMessage(`adminActor.${event.actor}`) ? t(`adminActor.${event.actor}`) : event.actor;
}

async function load() {
  const params = new URLSearchParams({ limit: PAGE_SIZE, offset: panel.offset });
  if (panel.type) params.set("type", panel.type);
  if (panel.account) params.set("user", panel.account.id);
  const data = await api("GET", `/api/admin/events?${params}`);
  panel.events = data.events;
  panel.hasMore = data.has_more;
  render();
}

function cell(content) {
  const td = document.createElement("td");
  td.append(content);
  return td;
}

function render() {
  const rows = panel.events.map((event) => {
    const tr = document.createElement("tr");
    tr.dataset.type = event.type;
    const what = document.createElement("span");
    what.textContent = typeLabel(event.type);
    const who = document.createElement("button");
    who.type = "button";
    who.className = "link-button";
    who.textContent = event.username || "—";
    who.disabled = event.user_id === null;
    who.addEventListener("click", () => showAccount({ id: event.user_id, username: event.username }));
    tr.append(cell(formatDate(event.at)), cell(what), cell(who), cell(actorLabel(event)),
      cell(event.address || "—"));
    return tr;
  });
  $("eventRows").replaceChildren(...rows);
  $("eventsNewer").disabled = panel.offset === 0;
  $("eventsOlder").disabled = !panel.hasMore;
  const accountButton = $("eventUser");
  accountButton.hidden = !panel.account;
  if (panel.account) setMessage(accountButton, "admin.events.onlyAccount", { name: panel.account.username });
}

function fillTypes() {
  const menu = $("eventType");
  const options = [new Option(t("admin.events.allTypes"), "")];
  for (const type of TYPES) options.push(new Option(typeLabel(type), type));
  menu.replaceChildren(...options);
  menu.value = panel.type;
}

function reload() {
  load().catch(showError);
}

/** Show only one account's events, and bring the log into view. */
function showAccount(account) {
  panel.account = account;
  panel.offset = 0;
  reload();
  $("eventsTitle").scrollIntoView({ block: "start" });
}

export function initEventsPanel() {
  fillTypes();
  $("eventType").addEventListener("change", (event) => {
    panel.type = event.target.value;
    panel.offset = 0;
    reload();
  });
  $("eventUser").addEventListener("click", () => {
    panel.account = null;
    panel.offset = 0;
    reload();
  });
  $("eventsNewer").addEventListener("click", () => {
    panel.offset = Math.max(0, panel.offset - PAGE_SIZE);
    reload();
  });
  $("eventsOlder").addEventListener("click", () => {
    panel.offset += PAGE_SIZE;
    reload();
  });
  document.addEventListener("languagechange", () => {
    fillTypes();
    render();
  });
  reload();
  return { reload, showAccount };
}
