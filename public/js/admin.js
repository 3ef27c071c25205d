// admin.js — the admin page's entry: the guard (a live token, and an account
// that is an admin now), then the three panels in js/admin/: accounts,
// invites and the audit log. The server decides who is an admin on every
// request; this page only avoids drawing what would be refused.

import { api, hasLiveToken, keepTokenFresh } from "./api.js";
import { initLanguage, registerMessages } from "./i18n.js";
import adminMessages from "./messages/admin.js";
import { initEventsPanel } from "./admin/events-panel.js";
import { initInvitesPanel } from "./admin/invites-panel.js";
import { initUsersPanel } from "./admin/users-panel.js";
import { showError } from "./workspace/notices.js";

registerMessages(adminMessages);

const $ = (id) => document.getElementById(id);

async function main() {
  initLanguage();
  if (!hasLiveToken()) return;
  keepTokenFresh();
  let me;
  try {
    me = await api("GET", "/api/me");
  } catch (error) {
    if (error.status !== 401) showError(error); // 401: api() is on its way to the login page
    return;
  }
  $("loadingNotice").hidden = true;
  if (!me.admin) {
    $("forbiddenNotice").hidden = false;
    return;
  }
  $("adminPage").hidden = false;
  const events = initEventsPanel();
  initUsersPanel({ showActivity: events.showAccount, changed: events.reload });
  initInvitesPanel({ changed: events.reload });
}

main();
