// workspace/folder-picker.js — "Move to…": a dialog that walks the folder tree
// (one level at a time, like the file list) and answers the folder chosen.
//
// pickFolder(start, items) resolves to a <folder>, null for the top level, or
// undefined when the dialog was closed without choosing. The folders being
// moved are not offered as destinations (a folder cannot go into itself; the
// server refuses it too, with folder_cycle).

import { api } from "../api.js";
import { registerMessages, t } from "../i18n.js";
import folderMessages from "../messages/folders.js";
import { showError } from "./notices.js";

registerMessages(folderMessages);

const $ = (id) => document.getElementById(id);

const picker = { here: null, excluded: new Set(), resolve: null };

async function show(folder) {
  const place = await api("GET", `/api/folders/${folder ? encodeURIComponent(folder.id) : "root"}`);
  picker.here = place.folder;
  const path = [t("fo.root"), ...place.path.map((step) => step.name)];
  $("pickerPath").textContent = path.join(" / ");
  $("pickerUp").disabled = !place.folder;
  picker.parent = place.path.length > 1 ? place.path[place.path.length - 2] : null;
  const choices = place.folders.filter((sub) => !picker.excluded.has(sub.id));
  $("pickerEmpty").hidden = choices.length > 0;
  $("pickerFolders").replaceChildren(
    ...choices.map((sub) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "picker-folder";
      button.textContent = sub.name; // a name is text, never markup
      button.setAttribute("aria-label", t("fo.open", { name: sub.name }));
      button.addEventListener("click", () => show(sub).catch(showError));
      item.append(button);
      return item;
    }),
  );
  ($("pickerFolders").querySelector("button") || $("pickerHere")).focus();
}

export async function pickFolder(start, items) {
  picker.excluded = new Set(items.filter((x) => x.kind === "folder").map((x) => x.item.id));
  const startHere = start && !picker.excluded.has(start.id) ? start : null;
  const chosen = new Promise((resolve) => {
    picker.resolve = resolve;
  });
  $("pickerDialog").showModal();
  try {
    await show(startHere);
  } catch (error) {
    $("pickerDialog").close();
    showError(error);
  }
  return chosen;
}

export function initFolderPicker() {
  $("pickerUp").addEventListener("click", () => show(picker.parent).catch(showError));
  $("pickerHere").addEventListener("click", () => {
    const resolve = picker.resolve;
    picker.resolve = null;
    $("pickerDialog").close();
    resolve(picker.here);
  });
  // Escape, the cancel button or the form's own close: nothing moves.
  $("pickerDialog").addEventListener("close", () => {
    if (picker.resolve) picker.resolve(undefined);
    picker.resolve = null;
  });
}
