// workspace/password-panel.js — changing the password. The server revokes
// every token issued before (API.md, POST /api/password) and answers with a
// fresh one, which this page keeps so it stays logged in.

import { api, errorMessageKey, setToken } from "../api.js";
import { registerMessages } from "../i18n.js";
import workspaceMessages from "../messages/workspace.js";
import { checkConfirm, checkPassword, clearAlerts, loadAccountRules, setBusy, showAlert, showFieldError, showRuleHint } from "../forms.js";

registerMessages(workspaceMessages);

const $ = (id) => document.getElementById(id);

async function onPasswordSubmit(workspace, event) {
  event.preventDefault();
  const oldInput = $("oldPassword");
  const newInput = $("newPassword");
  const confirmInput = $("confirmPassword");
  clearAlerts($("passwordSuccess"), $("passwordErrorAlert"));

  const problems = [
    [oldInput, oldInput.value === "" ? ["valid.passwordRequired", {}] : null],
    [newInput, checkPassword(newInput.value)],
    [confirmInput, checkConfirm(newInput.value, confirmInput.value)],
  ];
  for (const [input, problem] of problems) showFieldError(input, problem);
  const firstBad = problems.find(([, problem]) => problem);
  if (firstBad) {
    firstBad[0].focus();
    return;
  }

  const button = $("passwordSubmit");
  setBusy(button, true, "pw.working", "pw.submit");
  try {
    const data = await api("POST", "/api/password", {
      body: { old_password: oldInput.value, new_password: newInput.value },
    });
    // Every token issued before is refused from now on: keep the fresh one.
    setToken(data.access_token);
    workspace.tokenReplaced();
    $("passwordForm").reset();
    $("pwUsername").value = workspace.me().username;
    showAlert($("passwordSuccess"), "pw.done");
  } catch (error) {
    const [key, args] = errorMessageKey(error);
    showAlert($("passwordErrorAlert"), key, args);
    if (error.key === "wrong_old_password") {
      showFieldError(oldInput, [key, args]);
      oldInput.focus();
    } else if (error.field === "new_password") {
      showFieldError(newInput, [key, args]);
      newInput.focus();
    }
  } finally {
    setBusy(button, false, "pw.working", "pw.submit");
  }
}

/** The server's password rule (GET /api/config) in the new password's hint. */
export async function showPasswordRule() {
  await loadAccountRules();
  showRuleHint($("newPasswordHint"), "password");
}

export function initPasswordPanel(workspace) {
  $("passwordForm").addEventListener("submit", (event) => onPasswordSubmit(workspace, event));
}
