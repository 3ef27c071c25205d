// security/sessions.js — where this account is signed in (GET /api/sessions):
// one row per session with its browser, address and last activity, this device
// marked; "Sign out" ends one (DELETE /api/sessions/{id}: that browser's next
// request is refused and it lands on the login page), "Sign out everywhere
// else" ends all the others (DELETE /api/sessions).

import { api } from "../api.js";
import { formatDate, pluralKey, setMessage, t } from "../i18n.js";
import { showError, showSuccess } from "../workspace/notices.js";

const $ = (id) => document.getElementById(id);
let sessions = [];

// Most specific first: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS = [
  [/Edg(e|A|iOS)?\//, "Edge"], [/OPR\/|Opera/, "Opera"], [/Firefox\/|FxiOS/, "Firefox"],
  [/Chrome\/|CriOS/, "Chrome"], [/Safari\//, "Safari"], [/^curl\//, "curl"], [/python-requests|Python/, "Python"],
];
const SYSTEMS = [
  [/Windows/, "Windows"], [/Android/, "Android"], [/iPhone|iPad|iPod/, "iOS"], [/Mac OS X|Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"], [/Linux/, "Linux"],
];

/** "Firefox on Linux" from a User-Agent header: enough to recognise one's own devices. */
export function describeUserAgent(userAgent) {
  const browser = (BROWSERS.find(([pattern]) => pattern.test(userAgent)) || [])[1];
  const system = (SYSTEMS.find(([pattern]) => pattern.test(userAgent)) || [])[1];
  if (!browser) return t("sec.unknownBrowser");
  return system ? t("sec.browserOn", { browser, os: system }) : browser;
}

function sessionRow(session) {
  const row = document.createElement("li");
  row.className = "session-row";
  row.dataset.sessionId = session.id;
  const main = document.createElement("div");
  main.className = "session-main";
  const name = document.createElement("strong");
  name.textContent = describeUserAgent(session.user_agent);
  name.title = session.user_agent; // the whole header, for the curious
  main.append(name);
  if (session.current) {
    row.classList.add("is-current");
    const badge = document.createElement("span");
    badge.className = "badge badge-current";
    setMessage(badge, "sec.thisDevice");
    main.append(" ", badge);
  }
  const details = document.createElement("div");
  details.className = "session-details muted";
  const address = document.createElement("span");
  address.textContent = session.address;
  const lastSeen = document.createElement("span");
  setMessage(lastSeen, "sec.lastSeen", { when: formatDate(session.last_seen_at) });
  const signedIn = document.createElement("span");
  setMessage(signedIn, "sec.signedIn", { when: formatDate(session.created_at) });
  details.append(address, lastSeen, signedIn);
  main.append(details);
  row.append(main);
  if (!session.current) {
    const end = document.createElement("button");
    end.type = "button";
    end.className = "btn btn-secondary btn-small session-end";
    setMessage(end, "sec.endSession");
    end.setAttribute("aria-label", t("sec.endSessionLabel", { browser: name.textContent, address: session.address }));
    end.addEventListener("click", () => endSession(session.id, end));
    row.append(end);
  }
  return row;
}

function render() {
  // This device first, then the others as the server orders them (most recently used first).
  const ordered = sessions.filter((session) => session.current).concat(sessions.filter((session) => !session.current));
  $("sessionList").replaceChildren(...ordered.map(sessionRow));
  $("endOthers").disabled = !sessions.some((session) => !session.current);
}

export async function loadSessions() {
  sessions = (await api("GET", "/api/sessions")).sessions;
  render();
}

async function endSession(id, button) {
  button.disabled = true;
  try {
    await api("DELETE", `/api/sessions/${encodeURIComponent(id)}`);
    showSuccess("sec.sessionEnded");
  } catch (error) {
    if (error.status !== 404) showError(error); // 404: it had ended already; the new list shows it
  }
  await loadSessions().catch(showError);
  document.dispatchEvent(new CustomEvent("securitychange"));
}

async function endOthers() {
  $("endOthers").disabled = true;
  try {
    const { ended } = await api("DELETE", "/api/sessions");
    showSuccess(pluralKey("sec.othersEnded", ended), { n: ended });
  } catch (error) {
    showError(error);
  }
  await loadSessions().catch(showError);
  document.dispatchEvent(new CustomEvent("securitychange"));
}

export async function initSessions() {
  $("endOthers").addEventListener("click", endOthers);
  document.addEventListener("languagechange", render); // browser names and dates in the new language
  await loadSessions();
}
