// forms.js — the account rules and the small pieces every form uses: field
// errors next to their input, alerts, busy buttons.
//
// The length limits are the server's settings, read from GET /api/config
// (loadAccountRules), never written here: a server started with
// --password-min-chars 12 gets pages that ask for 12. The page checks the rules
// only to answer faster and more precisely; the server checks them again, and
// its answer is the one that counts — so if the settings cannot be read, the
// page skips the length checks and leaves them to the server.

import { serverConfig } from "./api.js";
import { setMessage } from "./i18n.js";

/** ASCII letters, digits, and the CJK ideographs U+4E00–U+9FA5 (as in the tutorial). */
const USERNAME_CHARS = /^[A-Za-z0-9\u4e00-\u9fa5]*$/;

/** {username: {min_chars, max_chars}, password: {…}} once GET /api/config has answered. */
let rules = null;

/** Read the server's length rules; afterwards the checks and hints use them. */
export async function loadAccountRules() {
  const config = await serverConfig();
  rules = { username: config.username, password: config.password };
  return rules;
}

/** Show a field's rule in its hint ("field.passwordHint" with {min}, {max}),
 * or nothing while the server's rules are unknown. */
export function showRuleHint(box, field) {
  if (rules) setMessage(box, `field.${field}Hint`, { min: rules[field].min_chars, max: rules[field].max_chars });
  else setMessage(box, "");
}

/**
 * Length in Unicode code points, as the server counts. "😀".length is 2 in
 * JavaScript (UTF-16 units), but [..."😀"].length is 1.
 */
export function charCount(text) {
  return [...text].length;
}

/** "Too short"/"Too long" for a field whose limits the server set, or null. */
function lengthProblem(field, n, shortKey, longKey) {
  if (!rules) return null;
  const { min_chars: min, max_chars: max } = rules[field];
  if (n < min) return [shortKey, { n, min }];
  if (n > max) return [longKey, { n, max }];
  return null;
}

/** The i18n key and arguments saying what is wrong with a username, or null. */
export function checkUsername(username) {
  if (username === "") return ["valid.usernameRequired", {}];
  if (!USERNAME_CHARS.test(username)) return ["valid.usernameChars", {}];
  return lengthProblem("username", charCount(username), "valid.usernameShort", "valid.usernameLong");
}

/** The i18n key and arguments saying what is wrong with a new password, or null. */
export function checkPassword(password) {
  if (password === "") return ["valid.passwordRequired", {}];
  return lengthProblem("password", charCount(password), "valid.passwordShort", "valid.passwordLong");
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
