// login.js — the login form. On success the token goes to localStorage and the
// person goes on to `next` (the page that sent them here) or the workspace.

import { api, errorMessageKey, safeNext, setToken } from "./api.js";
import { hasMessage, initLanguage, registerMessages } from "./i18n.js";
import loginMessages from "./messages/login.js";
import { clearAlerts, setBusy, showAlert, showFieldError } from "./forms.js";
import { askForCode } from "./security/login-code.js";
import { hideSignupLinkWhenClosed } from "./signup-mode.js";

registerMessages(loginMessages);

const form = document.getElementById("loginForm");
const username = document.getElementById("username");
const password = document.getElementById("password");
const submitButton = document.getElementById("submitButton");
const infoAlert = document.getElementById("infoAlert");
const successAlert = document.getElementById("successAlert");
const errorAlert = document.getElementById("errorAlert");

const REDIRECT_DELAY_MS = 800;
const params = new URLSearchParams(location.search);

/** Say why we are here: login.html?reason=token_expired and the like. */
function showReason() {
  const reason = params.get("reason");
  if (reason && hasMessage("reason." + reason)) showAlert(infoAlert, "reason." + reason);
}

/** Login applies no registration rules (an old account may not fit them):
 * it only needs both fields filled in. */
function missingFields() {
  const missing = [];
  showFieldError(username, username.value === "" ? ["login.usernameRequired", {}] : null);
  showFieldError(password, password.value === "" ? ["login.passwordRequired", {}] : null);
  if (username.value === "") missing.push(username);
  if (password.value === "") missing.push(password);
  return missing;
}

async function onSubmit(event) {
  event.preventDefault();
  clearAlerts(infoAlert, successAlert, errorAlert);
  const missing = missingFields();
  if (missing.length) {
    missing[0].focus();
    return;
  }

  setBusy(submitButton, true, "login.working", "login.submit");
  try {
    let data = await api("POST", "/api/login", {
      auth: false,
      body: { username: username.value, password: password.value },
    });
    if (data.mfa_required) {
      // Two-factor sign-in: the password was right, a code must follow.
      setBusy(submitButton, false, "login.working", "login.submit");
      data = await askForCode(data, form, errorAlert);
      if (!data) {
        password.value = "";
        password.focus();
        return;
      }
    }
    setToken(data.access_token);
    sessionStorage.removeItem("lastUsername");
    showAlert(successAlert, "login.success");
    const next = safeNext(params.get("next"));
    // replace(): "back" from the workspace should not land on the login form again.
    setTimeout(() => location.replace(next), REDIRECT_DELAY_MS);
  } catch (error) {
    // invalid_credentials, too_many_attempts (with Retry-After), server_busy (503),
    // network: each has its own sentence in i18n.js.
    const [key, args] = errorMessageKey(error);
    showAlert(errorAlert, key, args);
    setBusy(submitButton, false, "login.working", "login.submit");
    if (error.key === "invalid_credentials") {
      password.select();
      password.focus();
    }
  }
}

initLanguage();
showReason();
username.value = sessionStorage.getItem("lastUsername") || "";
(username.value ? password : username).focus();
for (const input of [username, password]) {
  input.addEventListener("input", () => showFieldError(input, null));
}
form.addEventListener("submit", onSubmit);
hideSignupLinkWhenClosed();
