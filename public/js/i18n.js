// i18n.js — how the pages speak English, Simplified and Traditional Chinese.
// This file is the mechanism only; the sentences live in js/messages/.
//
// How it works:
// - The language comes from localStorage ("lang") if the person chose one in
//   the language menu, else from navigator.language: zh-TW, zh-HK, zh-MO and
//   zh-Hant… read Traditional characters, any other "zh…" Simplified ones.
// - Markup carries keys, not text: <h1 data-i18n="login.title">. translatePage()
//   fills every element that has data-i18n (text), data-i18n-placeholder,
//   data-i18n-aria-label or data-i18n-title. Parameters go in data-i18n-args as
//   JSON, so a message shown by script (an alert, a field error) is re-translated
//   too when the language changes.
// - Server errors are translated by their stable key (envelope data.error, and
//   data.field when the error is about one field), never by the server's message
//   text and never by showing raw JSON.
//
// Adding sentences for a new page or feature — never edit another area's table:
// 1. Create js/messages/<area>.js exporting one table,
//      export default { en: {"area.key": "…"}, "zh-CN": {…}, "zh-TW": {…} };
//    with every key in all three languages and keys prefixed by the area
//    ("share.", "admin.", …). tests/test_page_messages.py checks that every key
//    exists in every language, that every key is used, and that no two modules
//    define the same key.
// 2. In the module that shows them (the page entry or a panel module):
//      import { registerMessages } from "../i18n.js";
//      import areaMessages from "../messages/<area>.js";
//      registerMessages(areaMessages);
//    at top level, so the table is known before initLanguage() translates.
// common.js (shared words, field rules, the busy notice) and errors.js (the
// server error keys every page may meet) are registered here, because every
// page needs them. A feature's own server error keys go in the feature's
// module as error.<key> (error.share_expired for share_expired):
// errorMessageKey (api.js) finds them there like any other.

import commonMessages from "./messages/common.js";
import errorMessages from "./messages/errors.js";

/** The page languages, in the order the language menu offers them. */
export const LANGUAGES = ["en", "zh-CN", "zh-TW"];
/** Each language's name written in that language: a reader looks for their own. */
const LANGUAGE_NAMES = { en: "English", "zh-CN": "简体中文", "zh-TW": "繁體中文" };
const STORAGE_KEY = "lang";
/** Browser languages written in Traditional characters (BCP 47 region or script). */
const TRADITIONAL = /^zh-(tw|hk|mo|hant)\b/;

const MESSAGES = { en: {}, "zh-CN": {}, "zh-TW": {} };
const registered = new Set();

/**
 * Add one area's table ({en: {...}, "zh-CN": {...}, "zh-TW": {...}}). Several
 * modules of one area may each register the same table; it is added once. A
 * key defined by two different tables is a mistake that would make one page's
 * sentence silently replace another's, so it stops the page loudly instead.
 */
export function registerMessages(table) {
  if (registered.has(table)) return;
  registered.add(table);
  for (const lang of LANGUAGES) {
    for (const [key, text] of Object.entries(table[lang] || {})) {
      if (key in MESSAGES[lang]) throw new Error(`i18n: message "${key}" (${lang}) is defined twice`);
      MESSAGES[lang][key] = text;
    }
  }
}

registerMessages(commonMessages);
registerMessages(errorMessages);

/** The language navigator.language asks for, among the three. */
export function browserLanguage(tag = navigator.language || "en") {
  const lower = tag.toLowerCase();
  if (TRADITIONAL.test(lower)) return "zh-TW";
  return lower.startsWith("zh") ? "zh-CN" : "en";
}

/** The page language: the person's choice, else the browser's. */
export function currentLanguage() {
  const chosen = localStorage.getItem(STORAGE_KEY);
  if (LANGUAGES.includes(chosen)) return chosen;
  return browserLanguage();
}

/** Remember a language chosen in the menu and re-translate the page. */
export function setLanguage(lang) {
  localStorage.setItem(STORAGE_KEY, lang);
  translatePage();
  document.dispatchEvent(new CustomEvent("languagechange", { detail: { lang } }));
}

/** The Accept-Language header for API requests (RFC 9110 §12.5.4). The server
 * answers its `message` in this language; the pages translate by key anyway,
 * but a consistent language keeps logs and any fallback text in the same one. */
const ACCEPT_LANGUAGE = {
  en: "en",
  "zh-CN": "zh-CN,zh;q=0.9,en;q=0.5",
  "zh-TW": "zh-TW,zh-Hant;q=0.9,en;q=0.5",
};

export function acceptLanguage() {
  return ACCEPT_LANGUAGE[currentLanguage()];
}

/** Does a message exist for this key in the current language? */
export function hasMessage(key) {
  return key in MESSAGES[currentLanguage()];
}

/** The message for `key`, with {name} placeholders replaced from `args`. */
export function t(key, args = {}) {
  const table = MESSAGES[currentLanguage()];
  const template = table[key] ?? MESSAGES.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in args ? String(args[name]) : whole));
}

/**
 * The message for a count: "key.one" when the language's plural rules say
 * "one" and such a message exists ("1 file"), else "key" ("2 files").
 */
export function pluralKey(key, n) {
  const category = new Intl.PluralRules(currentLanguage()).select(n);
  return hasMessage(`${key}.${category}`) ? `${key}.${category}` : key;
}

/**
 * Put a translatable message into an element, remembering key and arguments
 * so translatePage() can redo it in another language. An empty key clears it.
 */
export function setMessage(element, key, args = {}) {
  if (!key) {
    delete element.dataset.i18n;
    delete element.dataset.i18nArgs;
    element.textContent = "";
    return;
  }
  element.dataset.i18n = key;
  element.dataset.i18nArgs = JSON.stringify(args);
  element.textContent = t(key, args);
}

/** Fill every data-i18n* element under `root` in the current language. */
export function translatePage(root = document) {
  const lang = currentLanguage();
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n, parseArgs(el));
  }
  const attributes = { i18nPlaceholder: "placeholder", i18nAriaLabel: "aria-label", i18nTitle: "title" };
  for (const [dataName, attribute] of Object.entries(attributes)) {
    const selector = "[data-" + dataName.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()) + "]";
    for (const el of root.querySelectorAll(selector)) {
      el.setAttribute(attribute, t(el.dataset[dataName], parseArgs(el)));
    }
  }
  const menu = document.getElementById("langSelect");
  if (menu) menu.value = lang;
}

function parseArgs(el) {
  try {
    return el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : {};
  } catch {
    return {};
  }
}

/**
 * Fill the language menu (a <select id="langSelect"> in the top bar: a real
 * form control, so it works by keyboard and screen reader with nothing added)
 * and translate the page once. Each option names its language in that
 * language and carries its lang attribute, so it is read out correctly.
 */
export function initLanguage() {
  const menu = document.getElementById("langSelect");
  if (menu) {
    menu.replaceChildren(
      ...LANGUAGES.map((lang) => {
        const option = new Option(LANGUAGE_NAMES[lang], lang);
        option.lang = lang;
        return option;
      }),
    );
    menu.addEventListener("change", () => setLanguage(menu.value));
  }
  translatePage();
}

// ---- Formatting numbers, sizes and durations in the page language ----------

/** 1536 → "1.5 KiB". Binary units, because quotas and limits are set in them. */
export function formatBytes(bytes) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  const n = new Intl.NumberFormat(currentLanguage(), { maximumFractionDigits: digits }).format(value);
  // B, KiB, MiB… are written the same in every page language (IEC 80000-13).
  return `${n} ${units[unit]}`;
}

/** 125 → "2 min 5 s". */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.ceil(seconds));
  if (total < 60) return t("time.s", { s: total });
  if (total < 3600) {
    const m = Math.floor(total / 60);
    return total % 60 ? t("time.ms", { m, s: total % 60 }) : t("time.m", { m });
  }
  return t("time.hm", { h: Math.floor(total / 3600), m: Math.floor((total % 3600) / 60) });
}

/** An API timestamp (ISO 8601 text or seconds since the epoch) as a local date and time. */
export function formatDate(value) {
  let date;
  if (typeof value === "number") {
    date = new Date(value < 1e12 ? value * 1000 : value);
  } else {
    date = new Date(value);
  }
  if (Number.isNaN(date.getTime())) return String(value ?? "");
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A number in the page language's style (1234 → "1,234"). */
export function formatNumber(n) {
  return new Intl.NumberFormat(currentLanguage()).format(n);
}
