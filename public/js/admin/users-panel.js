// admin/users-panel.js — the accounts: search, usage bars, the admin and
// disabled flags, quota, password reset, create and delete.
//
// Every change is one request (PATCH /api/admin/users/{id} and friends) and
// the list is then read again from the server, so what is shown is what the
// server holds, also when another admin changed it meanwhile.

import { api } from "../api.js";
import { checkPassword, checkUsername, clearAlerts, setBusy, showFieldError } from "../forms.js";
import { formatBytes, formatDate, formatNumber, registerMessages, setMessage, t } from "../i18n.js";
import adminMessages from "../messages/admin.js";
import { showError, showSuccess } from "../workspace/notices.js";
import { ask } from "./user-dialog.js";

registerMessages(adminMessages);

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 20;
const SEARCH_DELAY_MS = 250; // wait for a pause in typing: one request per word, not per letter
const GIB = 1024 ** 3;

const panel = { query: "", offset: 0, total: 0, users: [], showActivity: () => {}, changed: () => {} };

/** "1.5" GiB typed in a form → bytes; "" → null (the server's default). A problem is [key, args]. */
export function quotaFromGiB(text) {
  if (String(text).trim() === "") return { bytes: null };
  const gib = Number(text);
  if (!Number.isFinite(gib) || gib < 0 || gib > 1024 * 1024) return { problem: ["admin.quotaInvalid", {}] };
  return { bytes: Math.round(gib * GIB) };
}

async function load() {
  const params = new URLSearchParams({ q: panel.query, limit: PAGE_SIZE, offset: panel.offset });
  const data = await api("GET", `/api/admin/users?${params}`);
  panel.users = data.users;
  panel.total = data.total;
  render();
}

function reload() {
  load().catch(showError);
  panel.changed();
}

function cell(...children) {
  const td = document.createElement("td");
  td.append(...children);
  return td;
}

function badge(key, kind) {
  const span = document.createElement("span");
  span.className = `badge badge-${kind}`;
  setMessage(span, key);
  return span;
}

function button(key, onClick, kind = "btn-ghost", args = {}) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `btn ${kind} btn-small`;
  setMessage(element, key, args);
  element.addEventListener("click", onClick);
  return element;
}

function usageCell(user) {
  const { bytes, files, quota_bytes: quota } = user.usage;
  const bar = document.createElement("progress");
  bar.className = "bar";
  bar.max = 1;
  bar.value = quota ? Math.min(1, bytes / quota) : 1;
  bar.classList.toggle("is-full", !quota || bytes / quota > 0.9);
  bar.setAttribute("aria-label", t("admin.users.usageOf", { name: user.username }));
  const text = document.createElement("span");
  text.className = "muted usage-line";
  text.textContent = t("admin.users.usageText", {
    used: formatBytes(bytes), quota: formatBytes(quota), files: formatNumber(files),
  });
  return cell(bar, text);
}

function render() {
  const rows = panel.users.map((user) => {
    const tr = document.createElement("tr");
    tr.dataset.username = user.username;
    const name = document.createElement("strong");
    name.textContent = user.username;
    const nameCell = cell(name);
    if (user.admin) nameCell.append(" ", badge("admin.users.adminBadge", "admin"));
    if (user.disabled) nameCell.append(" ", badge("admin.users.disabledBadge", "disabled"));
    if (user.totp) nameCell.append(" ", badge("admin.users.totpBadge", "totp"));
    const lastLogin = document.createElement("span");
    lastLogin.className = "muted";
    lastLogin.textContent = user.last_login_at ? formatDate(user.last_login_at) : t("admin.users.never");
    const actions = cell(
      button(user.disabled ? "admin.users.enable" : "admin.users.disable", () =>
        change(user, { disabled: !user.disabled }, user.disabled ? "admin.users.enabled" : "admin.users.disabled")),
      button(user.admin ? "admin.users.removeAdmin" : "admin.users.makeAdmin", () =>
        change(user, { admin: !user.admin }, "admin.users.changed")),
      button("admin.users.quota", () => editQuota(user)),
      button("admin.users.password", () => resetPassword(user)),
      ...(user.totp ? [button("admin.users.removeTotp", () => removeSecondFactor(user))] : []),
      button("admin.users.activity", () => panel.showActivity(user)),
      button("admin.users.delete", () => remove(user), "btn-danger-text"),
    );
    actions.className = "actions";
    tr.append(nameCell, usageCell(user), cell(lastLogin), actions);
    return tr;
  });
  $("userRows").replaceChildren(...rows);
  const last = Math.min(panel.offset + PAGE_SIZE, panel.total);
  setMessage($("usersRange"), "admin.users.range", {
    first: formatNumber(panel.total ? panel.offset + 1 : 0), last: formatNumber(last), total: formatNumber(panel.total),
  });
  $("usersPrev").disabled = panel.offset === 0;
  $("usersNext").disabled = last >= panel.total;
}

async function change(user, body, doneKey) {
  try {
    await api("PATCH", `/api/admin/users/${user.id}`, { body });
    showSuccess(doneKey, { name: user.username });
  } catch (error) {
    showError(error);
  }
  reload();
}

async function editQuota(user) {
  const current = user.usage.quota_bytes / GIB;
  const typed = await ask({
    title: ["admin.users.quotaTitle", { name: user.username }],
    text: ["admin.users.quotaText", {}],
    input: { type: "number", label: "admin.quotaGiB", value: String(Math.round(current * 1000) / 1000) },
    yes: ["admin.save", {}],
    check: (value) => quotaFromGiB(value).problem || null,
  });
  if (typed === null) return;
  await change(user, { quota_bytes: quotaFromGiB(typed).bytes }, "admin.users.changed");
}

async function resetPassword(user) {
  const password = await ask({
    title: ["admin.users.passwordTitle", { name: user.username }],
    text: ["admin.users.passwordText", {}],
    input: { type: "password", label: "field.password" },
    yes: ["admin.users.passwordSet", {}],
    check: checkPassword,
  });
  if (password === null) return;
  try {
    await api("POST", `/api/admin/users/${user.id}/password`, { body: { new_password: password } });
    showSuccess("admin.users.passwordDone", { name: user.username });
  } catch (error) {
    showError(error);
  }
  panel.changed();
}

/** A lost phone: the holder signs in with the password alone until they set up a new app. */
async function removeSecondFactor(user) {
  const confirmed = await ask({
    title: ["admin.users.removeTotpTitle", { name: user.username }],
    text: ["admin.users.removeTotpText", { name: user.username }],
    yes: ["admin.users.removeTotpYes", {}],
    danger: true,
  });
  if (confirmed === null) return;
  await change(user, { totp: false }, "admin.users.totpRemoved");
}

async function remove(user) {
  const confirmed = await ask({
    title: ["admin.users.deleteTitle", { name: user.username }],
    text: ["admin.users.deleteText", { name: user.username, files: formatNumber(user.usage.files),
      bytes: formatBytes(user.usage.bytes) }],
    yes: ["admin.users.deleteYes", { name: user.username }],
    danger: true,
  });
  if (confirmed === null) return;
  try {
    await api("DELETE", `/api/admin/users/${user.id}`);
    showSuccess("admin.users.deleted", { name: user.username });
  } catch (error) {
    showError(error);
  }
  reload();
}

async function create(event) {
  event.preventDefault();
  const username = $("newUsername");
  const password = $("newPassword");
  const problems = [[username, checkUsername(username.value)], [password, checkPassword(password.value)]];
  for (const [input, problem] of problems) showFieldError(input, problem);
  const quota = quotaFromGiB($("newQuota").value);
  if (quota.problem) showFieldError($("newQuota"), quota.problem);
  const firstBad = problems.find(([, problem]) => problem);
  if (firstBad || quota.problem) {
    (firstBad ? firstBad[0] : $("newQuota")).focus();
    return;
  }
  const submit = $("newUserSubmit");
  setBusy(submit, true, "admin.working", "admin.users.create");
  try {
    const body = { username: username.value, password: password.value, admin: $("newAdmin").checked };
    if (quota.bytes !== null) body.quota_bytes = quota.bytes;
    const user = await api("POST", "/api/admin/users", { body });
    showSuccess("admin.users.created", { name: user.username });
    $("newUserForm").reset();
    reload();
  } catch (error) {
    showError(error);
    if (error.key === "username_taken" || error.field === "username") username.focus();
  } finally {
    setBusy(submit, false, "admin.working", "admin.users.create");
  }
}

export function initUsersPanel({ showActivity, changed }) {
  Object.assign(panel, { showActivity, changed });
  let searchTimer = null;
  $("userSearch").addEventListener("input", (event) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      panel.query = event.target.value.trim();
      panel.offset = 0;
      load().catch(showError);
    }, SEARCH_DELAY_MS);
  });
  $("usersPrev").addEventListener("click", () => {
    panel.offset = Math.max(0, panel.offset - PAGE_SIZE);
    load().catch(showError);
  });
  $("usersNext").addEventListener("click", () => {
    panel.offset += PAGE_SIZE;
    load().catch(showError);
  });
  $("newUserForm").addEventListener("submit", create);
  $("newUserForm").addEventListener("input", () => clearAlerts($("successAlert")));
  document.addEventListener("languagechange", render);
  load().catch(showError);
}
