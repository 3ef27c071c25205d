// workspace/notices.js — the workspace's two alert boxes at the top: one
// success at a time, one error at a time, each kept as an i18n key so it is
// redrawn when the language changes.

import { errorMessageKey } from "../api.js";
import { clearAlerts, showAlert } from "../forms.js";

const successBox = () => document.getElementById("successAlert");
const errorBox = () => document.getElementById("errorAlert");

export function showSuccess(key, args) {
  clearAlerts(errorBox());
  showAlert(successBox(), key, args);
}

/** An error (an ApiError or anything thrown) in the page language. */
export function showError(error) {
  const [key, args] = errorMessageKey(error);
  clearAlerts(successBox());
  showAlert(errorBox(), key, args);
}
