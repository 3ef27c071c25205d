// register.js — the registration form: rules checked while typing and on
// submit, the specific reason next to each field, server errors by key.

import { api, errorMessageKey } from "./api.js";
import { initLanguage, registerMessages } from "./i18n.js";
import registerPageMessages from "./messages/register.js";
import { checkConfirm, checkPassword, checkUsername, clearAlerts, loadAccountRules, setBusy, showAlert, showFieldError, showRuleHint } from "./forms.js";
import { applyRegistrationMode } from "./signup-mode.js";

registerMessages(registerPageMessages);

const form = document.getElementById("registerForm");
const username = document.getElementById("username");
const password = document.getElementById("password");
const confirm = document.getElementById("confirm");
const submitButton = document.getElementById("submitButton");
const successAlert = document.getElementById("successAlert");
const errorAlert = document.getElementById("errorAlert");
const invite = document.getElementById("invite");
/** The invite code to send, once the registration mode is known (null: none). */
let inviteCode = () => null;

/** Delay before moving on to the login page, so the success message can be read. */
const REDIRECT_DELAY_MS = 1200;

/** Fields the person has started on: only those get live messages, so an
 * untouched field does not shout "required" while they fill the first one. */
const touched = new Set();

function problems() {
  return new Map([
    [username, checkUsername(username.value)],
    [password, checkPassword(password.value)],
    [confirm, checkConfirm(password.value, confirm.value)],
  ]);
}

/** Show the reasons for touched fields (or all of them); return the problems. */
function showProblems(all = false) {
  const found = problems();
  for (const [input, problem] of found) {
    if (all || touched.has(input)) showFieldError(input, problem);
  }
  return found;
}

function onTyping(event) {
  touched.add(event.target);
  showProblems();
}

async function onSubmit(event) {
  event.preventDefault();
  clearAlerts(successAlert, errorAlert);
  const found = showProblems(true);
  const firstBad = [...found].find(([, problem]) => problem);
  if (firstBad) {
    showAlert(errorAlert, "valid.fixFields");
    firstBad[0].focus();
    return;
  }

  setBusy(submitButton, true, "register.working", "register.submit");
  try {
    const data = await api("POST", "/api/register", {
      auth: false,
      body: { username: username.value, password: password.value, ...(inviteCode() ? { invite: inviteCode() } : {}) },
    });
    const name = (data && data.username) || username.value;
    showAlert(successAlert, "register.success", { name });
    // Pre-fill the login form (sessionStorage: this tab only, gone when it closes).
    sessionStorage.setItem("lastUsername", name);
    form.reset();
    setTimeout(() => location.assign("login.html?reason=registered"), REDIRECT_DELAY_MS);
  } catch (error) {
    showServerError(error);
    setBusy(submitButton, false, "register.working", "register.submit");
  }
}

/** A server refusal: in the alert, and next to the field it is about. */
function showServerError(error) {
  const [key, args] = errorMessageKey(error);
  showAlert(errorAlert, key, args);
  const fieldName = error.key === "username_taken" ? "username" : error.field;
  const input = { username, password, invite }[fieldName];
  if (input) {
    showFieldError(input, [key, args]);
    input.focus();
  }
}

/** The server's length rules, in the hints and the checks of fields already touched. */
async function applyServerRules() {
  try {
    await loadAccountRules();
  } catch {
    return; // unknown rules: the server judges the lengths when the form is sent
  }
  showRuleHint(document.getElementById("usernameHint"), "username");
  showRuleHint(document.getElementById("passwordHint"), "password");
  showProblems();
}

initLanguage();
applyServerRules();
for (const input of [username, password, confirm]) {
  input.addEventListener("input", onTyping);
  input.addEventListener("blur", (event) => {
    if (event.target.value !== "") onTyping(event);
  });
}
form.addEventListener("submit", onSubmit);
applyRegistrationMode().then((getCode) => {
  inviteCode = getCode;
});
