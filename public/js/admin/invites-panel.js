// admin/invites-panel.js — invites: create one (how many people, for how
// long, with what quota), copy its link, revoke it. The server derives each
// code from its id and the signing key, so the list can show a code (and its
// link) again at any time.

import { api } from "../api.js";
import { setBusy, showFieldError } from "../forms.js";
import { formatBytes, formatDate, formatNumber, registerMessages, setMessage } from "../i18n.js";
import adminMessages from "../messages/admin.js";
import { showError, showSuccess } from "../workspace/notices.js";
import { quotaFromGiB } from "./users-panel.js";

registerMessages(adminMessages);

const $ = (id) => document.getElementById(id);
const panel = { invites: [], changed: () => {} };

async function load() {
  panel.invites = (await api("GET", "/api/admin/invites")).invites;
  render();
}

function inviteState(invite) {
  if (invite.uses_left <= 0) return "admin.invites.usedUp";
  if (Date.parse(invite.expires_at) <= Date.now()) return "admin.invites.expired";
  return "admin.invites.live";
}

function text(tag, className, key, args = {}) {
  const element = document.createElement(tag);
  element.className = className;
  setMessage(element, key, args);
  return element;
}

/** Copy the link; where the clipboard API is refused, the selected text is there to copy by hand. */
async function copy(input, invite) {
  input.select();
  try {
    await navigator.clipboard.writeText(invite.url);
    showSuccess("admin.invites.copied", {});
  } catch {
    showSuccess("admin.invites.copyByHand", {});
  }
}

function render() {
  const items = panel.invites.map((invite) => {
    const li = document.createElement("li");
    const state = inviteState(invite);
    li.className = "invite-row" + (state === "admin.invites.live" ? "" : " is-dead");
    const link = document.createElement("input");
    link.type = "text";
    link.readOnly = true;
    link.value = invite.url;
    link.className = "invite-link";
    link.setAttribute("aria-label", invite.code);
    const copyButton = text("button", "btn btn-secondary btn-small", "admin.invites.copy");
    copyButton.type = "button";
    copyButton.addEventListener("click", () => copy(link, invite));
    const head = document.createElement("div");
    head.className = "invite-head";
    head.append(link, copyButton);
    if (state === "admin.invites.live") {
      const revoke = text("button", "btn btn-danger-text btn-small", "admin.invites.revoke");
      revoke.type = "button";
      revoke.addEventListener("click", () => revokeInvite(invite));
      head.append(revoke);
    }
    const details = text("p", "muted invite-meta", "admin.invites.details", {
      uses: formatNumber(invite.uses_left), expires: formatDate(invite.expires_at),
      quota: invite.quota_bytes === null ? "—" : formatBytes(invite.quota_bytes), by: invite.created_by,
    });
    details.prepend(text("span", `badge badge-${state === "admin.invites.live" ? "live" : "disabled"}`, state), " ");
    li.append(head, details);
    return li;
  });
  $("inviteList").replaceChildren(...items);
  $("invitesEmpty").hidden = items.length > 0;
}

async function revokeInvite(invite) {
  try {
    await api("DELETE", `/api/admin/invites/${invite.id}`);
    showSuccess("admin.invites.revoked", {});
  } catch (error) {
    showError(error);
  }
  load().catch(showError);
  panel.changed();
}

async function create(event) {
  event.preventDefault();
  const uses = Number($("inviteUses").value);
  const quota = quotaFromGiB($("inviteQuota").value);
  const usesProblem = Number.isInteger(uses) && uses >= 1 && uses <= 1000 ? null : ["admin.invites.usesInvalid", {}];
  showFieldError($("inviteUses"), usesProblem);
  showFieldError($("inviteQuota"), quota.problem || null);
  if (usesProblem || quota.problem) return;
  const submit = $("inviteSubmit");
  setBusy(submit, true, "admin.working", "admin.invites.create");
  try {
    const body = { uses, expires_in: Number($("inviteExpires").value) };
    if (quota.bytes !== null) body.quota_bytes = quota.bytes;
    await api("POST", "/api/admin/invites", { body });
    showSuccess("admin.invites.created", {});
    await load();
    panel.changed();
  } catch (error) {
    showError(error);
  } finally {
    setBusy(submit, false, "admin.working", "admin.invites.create");
  }
}

export function initInvitesPanel({ changed }) {
  panel.changed = changed;
  $("inviteForm").addEventListener("submit", create);
  document.addEventListener("languagechange", render);
  load().catch(showError);
}
