// security.js — the security page's entry: the guard (no token, no page), then
// three panels from js/security/: two-factor sign-in, where you are signed in,
// and your recent activity.

import { api, keepTokenFresh, redirectToLogin, tokenProblem } from "./api.js";
import { initLanguage, registerMessages } from "./i18n.js";
import securityMessages from "./messages/security.js";
import { initActivity } from "./security/activity.js";
import { showError } from "./workspace/notices.js";
import { initSessions } from "./security/sessions.js";
import { initTwoFactor } from "./security/two-factor.js";

registerMessages(securityMessages);

async function main() {
  initLanguage();
  const problem = tokenProblem();
  if (problem) {
    redirectToLogin(problem);
    return;
  }
  keepTokenFresh();
  let me;
  try {
    me = await api("GET", "/api/me");
  } catch (error) {
    if (error.status !== 401) showError(error); // a 401: api() is on its way to the login page
    return;
  }
  document.getElementById("loadingNotice").hidden = true;
  document.getElementById("securityPage").hidden = false;
  await Promise.all([initTwoFactor(me), initSessions(), initActivity()]).catch(showError);
}

main();
