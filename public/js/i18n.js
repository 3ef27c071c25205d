// i18n.js — every sentence the pages show, in English and Simplified Chinese.
//
// How it works:
// - The language comes from localStorage ("lang") if the person chose one with
//   the switch, else from navigator.language (any "zh…" → Chinese).
// - Markup carries keys, not text: <h1 data-i18n="login.title">. translatePage()
//   fills every element that has data-i18n (text), data-i18n-placeholder,
//   data-i18n-aria-label or data-i18n-title. Parameters go in data-i18n-args as
//   JSON, so a message shown by script (an alert, a field error) is re-translated
//   too when the language changes.
// - Server errors are translated by their stable key (envelope data.error, and
//   data.field when the error is about one field), never by the server's message
//   text and never by showing raw JSON.

export const LANGUAGES = ["en", "zh-CN"];
const STORAGE_KEY = "lang";

const MESSAGES = {
  en: {
    "app.name": "AuthUpload",
    "app.tagline": "Your private file box",
    "lang.switch": "中文",
    "lang.switchLabel": "切换到中文 (Switch to Chinese)",

    // Units and durations
    "unit.B": "{n} B",
    "unit.KiB": "{n} KiB",
    "unit.MiB": "{n} MiB",
    "unit.GiB": "{n} GiB",
    "unit.TiB": "{n} TiB",
    "time.s": "{s} s",
    "time.m": "{m} min",
    "time.ms": "{m} min {s} s",
    "time.hm": "{h} h {m} min",

    // Register page
    "register.pageTitle": "Create account · AuthUpload",
    "register.title": "Create your account",
    "register.subtitle": "It takes a few seconds. No e-mail needed.",
    "register.submit": "Create account",
    "register.working": "Creating account…",
    "register.haveAccount": "Already have an account?",
    "register.loginLink": "Log in",
    "register.success": "Account “{name}” created. Taking you to the login page…",

    "field.username": "Username",
    "field.password": "Password",
    "field.confirm": "Confirm password",
    "field.usernameHint": "6–32 letters, digits or Chinese characters.",
    "field.passwordHint": "At least 8 characters. Spaces, symbols and emoji are welcome.",
    "field.confirmHint": "Type the same password again.",
    "field.show": "Show",
    "field.hide": "Hide",

    // Client-side validation (the same rules as the server, see API.md)
    "valid.usernameRequired": "Enter a username.",
    "valid.usernameChars": "Use only ASCII letters, digits or Chinese characters — no spaces or symbols.",
    "valid.usernameShort": "Too short: {n} characters, at least 6.",
    "valid.usernameLong": "Too long: {n} characters, at most 32.",
    "valid.passwordRequired": "Enter a password.",
    "valid.passwordShort": "Too short: {n} characters, at least 8.",
    "valid.passwordLong": "Too long: {n} characters, at most 1024.",
    "valid.confirmRequired": "Type the password again.",
    "valid.confirmMismatch": "The two passwords do not match.",
    "valid.fixFields": "Please correct the fields marked below.",
    "valid.ok": "Looks good.",

    // Login page
    "login.pageTitle": "Log in · AuthUpload",
    "login.title": "Welcome back",
    "login.subtitle": "Log in to reach your files.",
    "login.submit": "Log in",
    "login.working": "Logging in…",
    "login.noAccount": "New here?",
    "login.registerLink": "Create an account",
    "login.success": "Logged in. Opening your files…",
    "login.usernameRequired": "Enter your username.",
    "login.passwordRequired": "Enter your password.",

    // Why the login page was opened (login.html?reason=…)
    "reason.token_missing": "Please log in to open your files.",
    "reason.token_expired": "Your session has expired. Please log in again.",
    "reason.token_revoked": "Your session was ended (you logged out or changed your password). Please log in again.",
    "reason.token_invalid": "Your session is no longer valid. Please log in again.",
    "reason.logged_out": "You have logged out. See you soon!",
    "reason.registered": "Your account is ready. Log in to continue.",

    // Workspace
    "ws.pageTitle": "Your files · AuthUpload",
    "ws.signedInAs": "Signed in as",
    "ws.logout": "Log out",
    "ws.loading": "Loading…",
    "ws.usageTitle": "Storage",
    "ws.usageText": "{used} of {quota} used",
    "ws.usageFiles": "{n} files",
    "ws.usageFiles.one": "{n} file",
    "ws.usageFree": "{free} free",
    "ws.uploadTitle": "Upload files",
    "ws.dropHint": "Drag files here",
    "ws.dropOr": "or",
    "ws.chooseFiles": "Choose files",
    "ws.dropNote": "Files of up to {max} upload in pieces and resume by themselves if the connection drops.",
    "ws.dropNoteNoMax": "Files upload in pieces and resume by themselves if the connection drops.",
    "ws.fileInputLabel": "Files to upload",

    "up.waiting": "Waiting…",
    "up.checking": "Checking…",
    "up.progress": "{pct}% · {done} of {total}",
    "up.speed": "{speed}/s · {eta} left",
    "up.retrying": "Connection lost. Retrying in {s} s…",
    "up.resumed": "Resuming at {done}…",
    "up.done": "Uploaded.",
    "up.cancelled": "Cancelled.",
    "up.failed": "Not uploaded: {reason}",
    "up.cancel": "Cancel",
    "up.cancelLabel": "Cancel upload of {name}",
    "up.dismiss": "Remove",
    "up.dismissLabel": "Remove {name} from the list",
    "up.tooLarge": "this file is larger than the {max} limit.",
    "up.overQuota": "not enough space: {free} free.",
    "up.uploadedAlert": "Uploaded “{name}”.",

    "files.title": "Your files",
    "files.refresh": "Refresh",
    "files.name": "Name",
    "files.size": "Size",
    "files.date": "Uploaded",
    "files.actions": "Actions",
    "files.download": "Download",
    "files.downloadLabel": "Download {name}",
    "files.delete": "Delete",
    "files.deleteLabel": "Delete {name}",
    "files.empty": "No files yet. Upload something and it will appear here.",
    "files.range": "{from}–{to} of {total}",
    "files.prev": "Previous",
    "files.next": "Next",
    "files.deleted": "Deleted “{name}”.",
    "files.downloadStarted": "Download of “{name}” started.",

    "confirm.title": "Delete this file?",
    "confirm.text": "“{name}” will be deleted for good. This cannot be undone.",
    "confirm.yes": "Delete",
    "confirm.no": "Keep it",

    "pw.title": "Change password",
    "pw.intro": "All your other sessions and download links stop working when you change it.",
    "pw.old": "Current password",
    "pw.new": "New password",
    "pw.confirm": "Confirm new password",
    "pw.submit": "Change password",
    "pw.working": "Changing…",
    "pw.done": "Password changed. Your other sessions were signed out.",

    // Errors by the server's stable key (envelope data.error), refined by field
    "error.invalid_json": "The request could not be read. Please reload the page.",
    "error.unsupported_media_type": "The request type was refused. Please reload the page.",
    "error.body_too_large": "What you sent is too large.",
    "error.invalid_field": "A field is missing or not valid.",
    "error.invalid_field.username": "Username must be 6–32 letters, digits or Chinese characters.",
    "error.invalid_field.password": "Password must be 8–1024 characters.",
    "error.invalid_field.new_password": "The new password must be 8–1024 characters.",
    "error.invalid_field.old_password": "Enter your current password.",
    "error.username_taken": "This username is already taken. Please choose another.",
    "error.invalid_credentials": "Wrong username or password.",
    "error.too_many_attempts": "Too many failed attempts. Please try again in {wait}.",
    "error.too_many_attempts_nowait": "Too many failed attempts. Please try again later.",
    "error.wrong_old_password": "The current password is wrong.",
    "error.server_busy": "The server is busy right now. Please try again in a moment.",
    "error.token_missing": "Please log in first.",
    "error.token_invalid": "Your session is not valid. Please log in again.",
    "error.token_expired": "Your session has expired. Please log in again.",
    "error.token_revoked": "Your session was ended. Please log in again.",
    "error.not_found": "Not found — it may have been deleted already.",
    "error.method_not_allowed": "This action is not allowed.",
    "error.invalid_multipart": "The upload was malformed.",
    "error.file_too_large": "The file is larger than the size limit.",
    "error.quota_exceeded": "Not enough space left in your storage quota.",
    "error.range_not_satisfiable": "The requested part of the file does not exist.",
    "error.invalid_query": "The request was not valid.",
    "error.insufficient_storage": "The server has run out of disk space. Please try later.",
    "error.server_error": "Something went wrong on the server. Please try again.",
    "error.tus_version_unsupported": "The server does not speak this upload protocol version.",
    "error.offset_mismatch": "The upload got out of step with the server.",
    "error.upload_length_exceeded": "The upload is longer than announced.",
    "error.checksum_mismatch": "A piece of the upload was damaged on the way.",
    "error.network": "Cannot reach the server. Check your connection and try again.",
    "error.unknown": "Something went wrong (HTTP {status}). Please try again.",
    "error.serverSaid": "{message}",
  },

  "zh-CN": {
    "app.name": "AuthUpload",
    "app.tagline": "你的私人文件箱",
    "lang.switch": "English",
    "lang.switchLabel": "Switch to English (切换到英文)",

    "unit.B": "{n} B",
    "unit.KiB": "{n} KiB",
    "unit.MiB": "{n} MiB",
    "unit.GiB": "{n} GiB",
    "unit.TiB": "{n} TiB",
    "time.s": "{s} 秒",
    "time.m": "{m} 分钟",
    "time.ms": "{m} 分 {s} 秒",
    "time.hm": "{h} 小时 {m} 分",

    "register.pageTitle": "注册 · AuthUpload",
    "register.title": "创建账户",
    "register.subtitle": "只需几秒钟，无需电子邮件。",
    "register.submit": "注册",
    "register.working": "正在注册…",
    "register.haveAccount": "已有账户？",
    "register.loginLink": "登录",
    "register.success": "账户“{name}”已创建，正在前往登录页…",

    "field.username": "用户名",
    "field.password": "密码",
    "field.confirm": "确认密码",
    "field.usernameHint": "6–32 个字母、数字或汉字。",
    "field.passwordHint": "至少 8 个字符，可以使用空格、符号和表情。",
    "field.confirmHint": "再输入一次同样的密码。",
    "field.show": "显示",
    "field.hide": "隐藏",

    "valid.usernameRequired": "请输入用户名。",
    "valid.usernameChars": "只能使用英文字母、数字或汉字，不能有空格或符号。",
    "valid.usernameShort": "太短：{n} 个字符，至少 6 个。",
    "valid.usernameLong": "太长：{n} 个字符，最多 32 个。",
    "valid.passwordRequired": "请输入密码。",
    "valid.passwordShort": "太短：{n} 个字符，至少 8 个。",
    "valid.passwordLong": "太长：{n} 个字符，最多 1024 个。",
    "valid.confirmRequired": "请再输入一次密码。",
    "valid.confirmMismatch": "两次输入的密码不一致。",
    "valid.fixFields": "请修改下面标出的字段。",
    "valid.ok": "可以使用。",

    "login.pageTitle": "登录 · AuthUpload",
    "login.title": "欢迎回来",
    "login.subtitle": "登录后查看你的文件。",
    "login.submit": "登录",
    "login.working": "正在登录…",
    "login.noAccount": "还没有账户？",
    "login.registerLink": "注册新账户",
    "login.success": "登录成功，正在打开你的文件…",
    "login.usernameRequired": "请输入用户名。",
    "login.passwordRequired": "请输入密码。",

    "reason.token_missing": "请先登录，再查看你的文件。",
    "reason.token_expired": "登录已过期，请重新登录。",
    "reason.token_revoked": "会话已结束（你已退出登录或修改了密码），请重新登录。",
    "reason.token_invalid": "会话已失效，请重新登录。",
    "reason.logged_out": "你已退出登录，再见！",
    "reason.registered": "账户已就绪，请登录。",

    "ws.pageTitle": "我的文件 · AuthUpload",
    "ws.signedInAs": "当前用户",
    "ws.logout": "退出登录",
    "ws.loading": "加载中…",
    "ws.usageTitle": "存储空间",
    "ws.usageText": "已用 {used}，共 {quota}",
    "ws.usageFiles": "{n} 个文件",
    "ws.usageFree": "剩余 {free}",
    "ws.uploadTitle": "上传文件",
    "ws.dropHint": "把文件拖到这里",
    "ws.dropOr": "或",
    "ws.chooseFiles": "选择文件",
    "ws.dropNote": "单个文件最大 {max}，分块上传，网络中断后会自动续传。",
    "ws.dropNoteNoMax": "文件分块上传，网络中断后会自动续传。",
    "ws.fileInputLabel": "要上传的文件",

    "up.waiting": "等待中…",
    "up.checking": "检查中…",
    "up.progress": "{pct}% · {done} / {total}",
    "up.speed": "{speed}/秒 · 还需 {eta}",
    "up.retrying": "网络中断，{s} 秒后重试…",
    "up.resumed": "从 {done} 处继续上传…",
    "up.done": "上传完成。",
    "up.cancelled": "已取消。",
    "up.failed": "上传失败：{reason}",
    "up.cancel": "取消",
    "up.cancelLabel": "取消上传 {name}",
    "up.dismiss": "移除",
    "up.dismissLabel": "从列表中移除 {name}",
    "up.tooLarge": "文件超过 {max} 的大小限制。",
    "up.overQuota": "空间不足：仅剩 {free}。",
    "up.uploadedAlert": "已上传“{name}”。",

    "files.title": "我的文件",
    "files.refresh": "刷新",
    "files.name": "文件名",
    "files.size": "大小",
    "files.date": "上传时间",
    "files.actions": "操作",
    "files.download": "下载",
    "files.downloadLabel": "下载 {name}",
    "files.delete": "删除",
    "files.deleteLabel": "删除 {name}",
    "files.empty": "还没有文件。上传的文件会显示在这里。",
    "files.range": "第 {from}–{to} 个，共 {total} 个",
    "files.prev": "上一页",
    "files.next": "下一页",
    "files.deleted": "已删除“{name}”。",
    "files.downloadStarted": "已开始下载“{name}”。",

    "confirm.title": "删除这个文件？",
    "confirm.text": "“{name}”将被永久删除，无法恢复。",
    "confirm.yes": "删除",
    "confirm.no": "保留",

    "pw.title": "修改密码",
    "pw.intro": "修改后，你的其他会话和下载链接都会失效。",
    "pw.old": "当前密码",
    "pw.new": "新密码",
    "pw.confirm": "确认新密码",
    "pw.submit": "修改密码",
    "pw.working": "正在修改…",
    "pw.done": "密码已修改，其他会话已退出登录。",

    "error.invalid_json": "请求无法读取，请刷新页面。",
    "error.unsupported_media_type": "请求类型被拒绝，请刷新页面。",
    "error.body_too_large": "发送的内容过大。",
    "error.invalid_field": "字段缺失或无效。",
    "error.invalid_field.username": "用户名须为 6–32 个字母、数字或汉字。",
    "error.invalid_field.password": "密码长度须为 8–1024 个字符。",
    "error.invalid_field.new_password": "新密码长度须为 8–1024 个字符。",
    "error.invalid_field.old_password": "请输入当前密码。",
    "error.username_taken": "该用户名已被占用，请换一个。",
    "error.invalid_credentials": "用户名或密码错误。",
    "error.too_many_attempts": "失败次数过多，请在 {wait} 后再试。",
    "error.too_many_attempts_nowait": "失败次数过多，请稍后再试。",
    "error.wrong_old_password": "当前密码错误。",
    "error.server_busy": "服务器繁忙，请稍后再试。",
    "error.token_missing": "请先登录。",
    "error.token_invalid": "会话无效，请重新登录。",
    "error.token_expired": "登录已过期，请重新登录。",
    "error.token_revoked": "会话已结束，请重新登录。",
    "error.not_found": "未找到，可能已被删除。",
    "error.method_not_allowed": "不允许此操作。",
    "error.invalid_multipart": "上传内容格式错误。",
    "error.file_too_large": "文件超过大小限制。",
    "error.quota_exceeded": "存储配额不足。",
    "error.range_not_satisfiable": "请求的文件范围不存在。",
    "error.invalid_query": "请求无效。",
    "error.insufficient_storage": "服务器磁盘空间不足，请稍后再试。",
    "error.server_error": "服务器出错了，请重试。",
    "error.tus_version_unsupported": "服务器不支持此上传协议版本。",
    "error.offset_mismatch": "上传进度与服务器不一致。",
    "error.upload_length_exceeded": "上传内容超过了声明的长度。",
    "error.checksum_mismatch": "上传的分块在传输中损坏。",
    "error.network": "无法连接服务器，请检查网络后重试。",
    "error.unknown": "出错了（HTTP {status}），请重试。",
    "error.serverSaid": "{message}",
  },
};

/** The page language: the person's choice, else the browser's. */
export function currentLanguage() {
  const chosen = localStorage.getItem(STORAGE_KEY);
  if (LANGUAGES.includes(chosen)) return chosen;
  const browser = (navigator.language || "en").toLowerCase();
  return browser.startsWith("zh") ? "zh-CN" : "en";
}

/** Remember a language chosen with the switch and re-translate the page. */
export function setLanguage(lang) {
  localStorage.setItem(STORAGE_KEY, lang);
  translatePage();
  document.dispatchEvent(new CustomEvent("languagechange", { detail: { lang } }));
}

/**
 * The Accept-Language header for API requests. The server answers its
 * `message` in this language; the pages translate by key anyway, but a
 * consistent language keeps logs and any fallback text in the same language.
 */
export function acceptLanguage() {
  return currentLanguage() === "zh-CN" ? "zh-CN,zh;q=0.9,en;q=0.5" : "en";
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
  const toggle = document.getElementById("langToggle");
  if (toggle) {
    // The switch names the *other* language, written in that language.
    toggle.setAttribute("lang", lang === "zh-CN" ? "en" : "zh-CN");
  }
}

function parseArgs(el) {
  try {
    return el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : {};
  } catch {
    return {};
  }
}

/** Wire the visible language switch (#langToggle) and translate the page once. */
export function initLanguage() {
  translatePage();
  const toggle = document.getElementById("langToggle");
  if (toggle) {
    toggle.addEventListener("click", () => {
      setLanguage(currentLanguage() === "zh-CN" ? "en" : "zh-CN");
    });
  }
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
  return t("unit." + units[unit], { n });
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
