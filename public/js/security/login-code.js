// security/login-code.js — the login's second step, for an account with
// two-factor sign-in. POST /api/login answered {mfa_required, mfa_token,
// expires_in} instead of a token; this swaps the password form for a code form
// and finishes with POST /api/login/totp {mfa_token, code}. The mfa_token lives
// only in this page's memory: it is useless anywhere else (the server answers
// 401 to it as a bearer) and dies after five minutes.

import { api, errorMessageKey } from "../api.js";
import { registerMessages, setMessage } from "../i18n.js";
import securityMessages from "../messages/security.js";
import { clearAlerts, setBusy, showAlert, showFieldError } from "../forms.js";

registerMessages(securityMessages);

const $ = (id) => document.getElementById(id);

/** The two kinds of code a person may type, and how the field helps with each. */
const MODES = {
  app: { intro: "sec.codeIntro", label: "sec.codeLabel", switchTo: "sec.useRecovery", inputmode: "numeric",
    autocomplete: "one-time-code" },
  recovery: { intro: "sec.recoveryIntro", label: "sec.recoveryLabel", switchTo: "sec.useApp", inputmode: "text",
    autocomplete: "off" },
};

/**
 * Ask for the code. Resolves with login's data ({access_token, …}) once the
 * server accepts one, or with null when the person starts over or the
 * mfa_token ran out (the password form is back then, with the reason shown).
 */
export function askForCode(challenge, passwordForm, errorAlert) {
  const form = $("codeForm");
  const code = $("code");
  const submit = $("codeSubmit");
  let mode = "app";

  function showMode() {
    const settings = MODES[mode];
    setMessage($("codeIntro"), settings.intro);
    setMessage($("codeLabel"), settings.label);
    setMessage($("switchCodeKind"), settings.switchTo);
    code.inputMode = settings.inputmode;
    code.autocomplete = settings.autocomplete;
    code.value = "";
    showFieldError(code, null);
    code.focus();
  }

  passwordForm.hidden = true;
  form.hidden = false;
  showMode();

  return new Promise((resolve) => {
    function finish(result) {
      form.removeEventListener("submit", onSubmit);
      $("switchCodeKind").removeEventListener("click", onSwitch);
      $("startOver").removeEventListener("click", onStartOver);
      form.hidden = true;
      passwordForm.hidden = result !== null;
      resolve(result);
    }

    async function onSubmit(event) {
      event.preventDefault();
      clearAlerts(errorAlert);
      if (code.value.trim() === "") {
        showFieldError(code, ["sec.codeRequired", {}]);
        code.focus();
        return;
      }
      setBusy(submit, true, "sec.checking", "sec.codeSubmit");
      try {
        const data = await api("POST", "/api/login/totp", {
          auth: false,
          body: { mfa_token: challenge.mfa_token, code: code.value },
        });
        finish(data);
      } catch (error) {
        setBusy(submit, false, "sec.checking", "sec.codeSubmit");
        if (error.key === "token_expired" || error.key === "token_revoked") {
          finish(null);
          showAlert(errorAlert, "sec.codeExpired");
          return;
        }
        if (error.key === "invalid_code") {
          showFieldError(code, errorMessageKey(error));
          code.select();
          code.focus();
          return;
        }
        const [key, args] = errorMessageKey(error); // too_many_attempts, server_busy, offline …
        showAlert(errorAlert, key, args);
      }
    }

    function onSwitch() {
      mode = mode === "app" ? "recovery" : "app";
      showMode();
    }

    function onStartOver() {
      clearAlerts(errorAlert);
      finish(null);
    }

    form.addEventListener("submit", onSubmit);
    $("switchCodeKind").addEventListener("click", onSwitch);
    $("startOver").addEventListener("click", onStartOver);
    code.oninput = () => showFieldError(code, null);
  });
}
