// admin/user-dialog.js — one <dialog> asks the three questions about an
// account: its quota, a new password, and whether to delete it (naming it, so
// the wrong account is not deleted by a slip). A real dialog, not prompt():
// styled, translated, reachable by keyboard (Esc cancels, focus returns).

import { setMessage } from "../i18n.js";
import { showFieldError } from "../forms.js";

const $ = (id) => document.getElementById(id);

/**
 * Ask, and resolve with the typed value ("" without an input), or null when
 * cancelled. `check(value)` returns a problem ([key, args]) to show, or null.
 */
export function ask({ title, text = null, input = null, yes, danger = false, check = () => null }) {
  const dialog = $("userDialog");
  const field = $("userDialogInput");
  setMessage($("userDialogTitle"), title[0], title[1]);
  setMessage($("userDialogText"), text ? text[0] : "", text ? text[1] : {});
  $("userDialogField").hidden = !input;
  if (input) {
    field.type = input.type;
    field.value = input.value ?? "";
    field.autocomplete = input.type === "password" ? "new-password" : "off";
    field.inputMode = input.type === "number" ? "decimal" : "text";
    setMessage($("userDialogLabel"), input.label);
  }
  showFieldError(field, null);
  const yesButton = $("userDialogYes");
  setMessage(yesButton, yes[0], yes[1]);
  yesButton.className = danger ? "btn btn-danger" : "btn btn-primary";

  return new Promise((resolve) => {
    function onSubmit(event) {
      if (event.submitter !== yesButton) return; // Cancel closes with its own value
      const problem = input ? check(field.value) : null;
      if (problem) {
        event.preventDefault(); // stay open and say what is wrong
        showFieldError(field, problem);
        field.focus();
      }
    }
    function onClose() {
      $("userDialogForm").removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      resolve(dialog.returnValue === "ok" ? (input ? field.value : "") : null);
    }
    $("userDialogForm").addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
    dialog.returnValue = "";
    dialog.showModal();
    if (input) field.focus();
  });
}
