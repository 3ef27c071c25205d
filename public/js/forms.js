// forms.js — the account rules (the same as the server's, API.md) and the small
// pieces every form uses: field errors next to their input, alerts, busy buttons.
//
// The page checks the rules only to answer faster and more precisely; the
// server checks them again, and its answer is the one that counts.

import { setMessage } from "./i18n.js";

/** ASCII letters, digits, and the CJK ideographs U+4E00–U+9FA5 (as in the tutorial). */
const USERNAME_CHARS = /^[A-Za-z0-9\u4e00-\u9fa5]*$/;
export const USERNAME_MIN = 6;
export const USERNAME_MAX = 32;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

/**
 * Length in Unicode code points, as the server counts. "😀".length is 2 in
 * JavaScript (UTF-16 units), but [..."😀"].length is 1.
 */
export function charCount(text) {
  return [...text].length;
}

/** The i18n key and arguments saying what is wrong with a username, or null. */
export function checkUsername(username) {
  const n = charCount(username);
  if (n === 0) return ["valid.usernameRequired", {}];
  if (!USERNAME_CHARS.test(username)) return ["valid.usernameChars", {}];
  if (n < USERNAME_MIN) return ["valid.usernameShort", { n }];
  if (n > USERNAME_MAX) return ["valid.usernameLong", { n }];
  return null;
}

/** The i18n key and arguments saying what is wrong with a new password, or null. */
export function checkPassword(password) {
  const n = charCount(password);
  if (n === 0) return ["valid.passwordRequired", {}];
  if (n < PASSWORD_MIN) return ["valid.passwordShort", { n }];
  if (n > PASSWORD_MAX) return ["valid.passwordLong", { n }];
  return null;
}

/** What is wrong with the confirmation of a password, or null. */
export function checkConfirm(password, confirm) {
  if (confirm === "") return ["valid.confirmRequired", {}];
  if (confirm !== password) return ["valid.confirmMismatch", {}];
  return null;
}

/**
 * Show (or clear, with null) the reason next to an input: the text goes into
 * the element named by id + "Error", and aria-invalid tells screen readers.
 */
export function showFieldError(input, problem) {
  const box = document.getElementById(input.id + "Error");
  if (problem) {
    setMessage(box, problem[0], problem[1]);
    input.setAttribute("aria-invalid", "true");
  } else {
    setMessage(box, "");
    input.removeAttribute("aria-invalid");
  }
}

/** Put a translatable message into an alert box; empty boxes are hidden by CSS. */
export function showAlert(box, key, args = {}) {
  setMessage(box, key, args);
}

export function clearAlerts(...boxes) {
  for (const box of boxes) setMessage(box, "");
}

/** Disable a submit button while its request runs, showing `busyKey` meanwhile. */
export function setBusy(button, busy, busyKey, idleKey) {
  button.disabled = busy;
  button.setAttribute("aria-busy", String(busy));
  setMessage(button, busy ? busyKey : idleKey);
}
