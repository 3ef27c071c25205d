// security/two-factor.js — turning two-factor sign-in on and off.
//
// Off → the password (POST /api/totp/setup) → the QR code of the otpauth:// URI,
// drawn here by js/qr.js (no image leaves the page, no CDN sees the secret), and
// the key as text for typing → the first code (POST /api/totp/enable) → the ten
// recovery codes, shown once, with copy and download.
// On → password and a code → new recovery codes, or off.

import { api, errorMessageKey } from "../api.js";
import { setBusy, showFieldError } from "../forms.js";
import { setMessage, t } from "../i18n.js";
import { qrSvg } from "../qr.js";
import { showError, showSuccess } from "../workspace/notices.js";

const $ = (id) => document.getElementById(id);

let username = "";
let recoveryCodes = [];

/** Show one of the panels of this card (the others hide), and say whether it is on. */
function show(panel, enabled) {
  setMessage($("tfaState"), enabled ? "sec.tfaOn" : "sec.tfaOff");
  for (const id of ["setupForm", "enableForm", "recoveryPanel", "manageForm"]) $(id).hidden = id !== panel;
}

/** A field error from the server's answer when it names this form's field; else the page alert. */
function fieldOrPageError(error, fields) {
  const input = fields[error.field];
  if (input && (error.key === "wrong_old_password" || error.key === "invalid_code" || error.key === "invalid_field")) {
    showFieldError(input, errorMessageKey(error));
    input.select();
    input.focus();
  } else {
    showError(error);
  }
}

function required(input, key) {
  if (input.value !== "") return true;
  showFieldError(input, [key, {}]);
  input.focus();
  return false;
}

/** The base32 key in groups of four, as apps print it and people type it. */
function grouped(secret) {
  return secret.match(/.{1,4}/g).join(" ");
}

// ---- Off: setup and the first code -------------------------------------------

async function onSetup(event) {
  event.preventDefault();
  const password = $("setupPassword");
  if (!required(password, "sec.passwordRequired")) return;
  setBusy($("setupSubmit"), true, "sec.preparing", "sec.startSetup");
  try {
    const data = await api("POST", "/api/totp/setup", { body: { password: password.value } });
    password.value = "";
    $("qrCode").replaceChildren(qrSvg(data.otpauth_uri, 4));
    $("qrCode").dataset.uri = data.otpauth_uri;
    $("secretText").textContent = grouped(data.secret);
    show("enableForm", false);
    $("enableCode").focus();
  } catch (error) {
    fieldOrPageError(error, { password });
  } finally {
    setBusy($("setupSubmit"), false, "sec.preparing", "sec.startSetup");
  }
}

async function onEnable(event) {
  event.preventDefault();
  const code = $("enableCode");
  if (!required(code, "sec.codeRequired")) return;
  setBusy($("enableSubmit"), true, "sec.checking", "sec.confirm");
  try {
    const data = await api("POST", "/api/totp/enable", { body: { code: code.value } });
    code.value = "";
    $("qrCode").replaceChildren(); // the secret is in the app now; off the screen with it
    $("secretText").textContent = "";
    showSuccess("sec.enabled");
    showRecoveryCodes(data.recovery_codes);
    document.dispatchEvent(new CustomEvent("securitychange"));
  } catch (error) {
    fieldOrPageError(error, { code });
  } finally {
    setBusy($("enableSubmit"), false, "sec.checking", "sec.confirm");
  }
}

function onCancelSetup() {
  $("qrCode").replaceChildren();
  $("secretText").textContent = "";
  show("setupForm", false);
}

// ---- The recovery codes, shown once --------------------------------------------

function showRecoveryCodes(codes) {
  recoveryCodes = codes;
  $("recoveryCodes").replaceChildren(...codes.map((code) => {
    const item = document.createElement("li");
    const text = document.createElement("code");
    text.textContent = code;
    item.append(text);
    return item;
  }));
  setMessage($("copyStatus"), "");
  show("recoveryPanel", true);
  $("copyCodes").focus();
}

function recoveryText() {
  return `${t("sec.recoveryFileHeader", { name: username })}\n\n${recoveryCodes.join("\n")}\n`;
}

async function onCopy() {
  try {
    await navigator.clipboard.writeText(recoveryText());
    setMessage($("copyStatus"), "sec.copied");
  } catch (error) {
    showError(error); // no clipboard permission: Download still works
  }
}

function onDownload() {
  // A file made in the page: the codes never travel over the network again.
  const url = URL.createObjectURL(new Blob([recoveryText()], { type: "text/plain;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `authupload-recovery-codes-${username}.txt`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function onRecoveryDone() {
  recoveryCodes = [];
  $("recoveryCodes").replaceChildren();
  show("manageForm", true);
}

// ---- On: new recovery codes, or off ------------------------------------------------

async function onManage(event) {
  event.preventDefault();
  const password = $("managePassword");
  const code = $("manageCode");
  if (!required(password, "sec.passwordRequired") || !required(code, "sec.codeRequired")) return;
  const turnOff = event.submitter && event.submitter.value === "disable";
  const button = turnOff ? $("disableSubmit") : $("newCodesSubmit");
  const idleKey = turnOff ? "sec.disable" : "sec.newCodes";
  setBusy(button, true, "sec.working", idleKey);
  try {
    const body = { password: password.value, code: code.value };
    if (turnOff) {
      await api("POST", "/api/totp/disable", { body });
      show("setupForm", false);
      showSuccess("sec.disabled");
    } else {
      const data = await api("POST", "/api/totp/recovery-codes", { body });
      showSuccess("sec.newCodesDone");
      showRecoveryCodes(data.recovery_codes);
    }
    password.value = "";
    code.value = "";
    document.dispatchEvent(new CustomEvent("securitychange"));
  } catch (error) {
    fieldOrPageError(error, { password, code });
  } finally {
    setBusy(button, false, "sec.working", idleKey);
  }
}

export function initTwoFactor(me) {
  username = me.username;
  // A hidden username beside each password lets a password manager fill the right entry.
  for (const field of document.querySelectorAll(".username-for-managers")) field.value = username;
  show(me.totp ? "manageForm" : "setupForm", me.totp);
  $("setupForm").addEventListener("submit", onSetup);
  $("enableForm").addEventListener("submit", onEnable);
  $("enableCancel").addEventListener("click", onCancelSetup);
  $("copyCodes").addEventListener("click", onCopy);
  $("downloadCodes").addEventListener("click", onDownload);
  $("recoveryDone").addEventListener("click", onRecoveryDone);
  $("manageForm").addEventListener("submit", onManage);
  for (const input of document.querySelectorAll(".security-form input[id]")) {
    input.addEventListener("input", () => showFieldError(input, null));
  }
}
