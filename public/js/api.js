// api.js — how every page talks to the server.
//
// - The access token (a JWT) lives in localStorage under "token" and travels in
//   the Authorization header, never in a cookie: so the server needs no CSRF
//   defence, and the token is sent only where this code decides to send it.
// - Every /api/ answer is an envelope {"code", "message", "data"}. On errors
//   data.error is a stable key (and data.field names the field at fault); the
//   pages translate by that key (see i18n.js), never by the message text.
// - A missing or expired token is noticed *before* a request is sent (the JWT's
//   "exp" claim is readable by anyone: it is signed, not encrypted), and any 401
//   from the server sends the person to the login page with the reason and a
//   "next" link back to where they were.
// - While a page that needs a login is open, keepTokenFresh() trades the token
//   for a fresh one (POST /api/token/refresh) a little before it expires.
// - A 503 with Retry-After (the server is busy hashing passwords, RFC 9110
//   §15.6.4) is retried by itself after the wait the server asked for, with a
//   notice in the page counting down; only a server that stays busy becomes an
//   error the person sees.
// - Server settings a page shows or checks (length rules, the file limit…) come
//   from GET /api/config, fetched once per page by serverConfig().

import { acceptLanguage, formatDuration, hasMessage, setMessage, t } from "./i18n.js";

const TOKEN_KEY = "token";
/**
 * Everything a page keeps in localStorage for the logged-in account, besides
 * the token, goes under this prefix (tus.js keeps resumable-upload URLs and
 * their upload tokens there), so logging out removes all of it without having
 * to know every feature that stores something.
 */
export const ACCOUNT_STORAGE_PREFIX = "account:";
/** How often, and how long at most, a busy server is waited for before giving up. */
const BUSY_RETRIES = 5;
const BUSY_MAX_WAIT_SECONDS = 60;

/** An API call that did not succeed. `key` is the server's stable error key,
 * or "network" when no HTTP answer arrived at all. */
export class ApiError extends Error {
  constructor({ status = 0, key = "network", field = null, message = "", retryAfter = null } = {}) {
    super(message || key);
    this.name = "ApiError";
    this.status = status;
    this.key = key;
    this.field = field;
    this.retryAfter = retryAfter; // seconds, from a Retry-After header
  }
}

// ---- The token --------------------------------------------------------------

export function getToken() {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
}

function clearToken() {
  localStorage.removeItem(TOKEN_KEY);
}

/** Logging out: the token and everything stored for the account go, so the
 * next person at this browser finds nothing that still works (upload tokens
 * included: they can append to an upload until it expires). */
export function forgetAccount() {
  clearToken();
  for (const storage of [localStorage, sessionStorage]) {
    // Collect first: removing while indexing would skip entries.
    const keys = Array.from({ length: storage.length }, (_, i) => storage.key(i));
    for (const key of keys) if (key.startsWith(ACCOUNT_STORAGE_PREFIX)) storage.removeItem(key);
  }
}

/** The claims of a JWT (its middle part, base64url JSON), or null if it is not one.
 * Reading them needs no key; only the server can check the signature. */
export function decodeJwt(token) {
  try {
    const part = token.split(".")[1];
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/** Seconds until the token expires (negative when it already has), or -Infinity
 * when there is no readable token. */
export function tokenSecondsLeft(token = getToken()) {
  const claims = token ? decodeJwt(token) : null;
  if (!claims || typeof claims.exp !== "number") return -Infinity;
  return claims.exp - Date.now() / 1000;
}

/** Why there is no usable token right now ("token_missing", "token_expired"), or null. */
export function tokenProblem(token = getToken()) {
  if (!token) return "token_missing";
  const claims = decodeJwt(token);
  if (!claims || typeof claims.exp !== "number") return "token_invalid";
  // The server is the authority; this check only saves a pointless request.
  // A couple of seconds of margin covers the request's own travel time.
  if (claims.exp - Date.now() / 1000 < 2) return "token_expired";
  return null;
}

// ---- Going to the login page ------------------------------------------------

let redirecting = false;

/** The login page URL that explains `reason` and leads back to this page. */
export function loginUrl(reason) {
  const params = new URLSearchParams();
  if (reason) params.set("reason", reason);
  params.set("next", location.pathname + location.search + location.hash);
  return "login.html?" + params.toString();
}

/** Leave for the login page. The stale token is forgotten so nothing reuses it. */
export function redirectToLogin(reason) {
  if (redirecting) return;
  redirecting = true;
  clearToken();
  // replace(): the back button should not return to a page that cannot work.
  location.replace(loginUrl(reason));
}

/** The guard of a page that needs a login: true when a live token is there;
 * else false, and the page is already on its way to the login page. */
export function hasLiveToken() {
  const problem = tokenProblem();
  if (problem) redirectToLogin(problem);
  return !problem;
}

/** A page of this site: /name.html or /folder/name.html, nothing else (no
 * "//", no dot segments, no backslash, no API path). */
const PAGE_PATH = /^\/(?:[A-Za-z0-9_-]+\/)*[A-Za-z0-9_-]+\.html$/;

/**
 * Where to go after logging in: the `next` parameter if it names a page of
 * this site, else the workspace — so a crafted link (an open redirect) cannot
 * send people to another site with a login page behind them. Browsers resolve
 * more than one might think: "//evil.example" and "/\evil.example" are other
 * hosts, "/.//evil.example/x" becomes "//evil.example/x" once the dot segment
 * is removed, and tabs or newlines are dropped from URLs. So the raw text must
 * already be a plain path, and the resolved path must be a page path too.
 */
export function safeNext(next, fallback = "welcome.html") {
  if (typeof next !== "string" || !/^\/[^/\\]/.test(next) || /[\\\s\u0000-\u001f\u007f]/.test(next)) {
    return fallback;
  }
  let url;
  try {
    url = new URL(next, location.origin);
  } catch {
    return fallback;
  }
  if (url.origin !== location.origin || !PAGE_PATH.test(url.pathname)) return fallback;
  if (/\/(login|register)\.html$/.test(url.pathname)) return fallback;
  return url.pathname + url.search + url.hash;
}

// ---- Requests ---------------------------------------------------------------

/** The error key for an answer without an envelope (e.g. a proxy's own page). */
function keyForStatus(status) {
  if (status === 401) return "token_invalid";
  if (status === 404) return "not_found";
  if (status === 413) return "body_too_large";
  if (status === 429) return "too_many_attempts";
  if (status === 503) return "server_busy";
  if (status === 507) return "insufficient_storage";
  if (status >= 500) return "server_error";
  return "unknown";
}

/** Retry-After is either seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, Math.round((when - Date.now()) / 1000));
}

/** Read an envelope from a Response; null when the body is not one. */
async function readEnvelope(response) {
  try {
    const body = await response.json();
    return body && typeof body === "object" ? body : null;
  } catch {
    return null;
  }
}

/** The ApiError for an unsuccessful Response. */
export async function errorFromResponse(response) {
  const envelope = await readEnvelope(response);
  const data = envelope && envelope.data && typeof envelope.data === "object" ? envelope.data : {};
  return new ApiError({
    status: response.status,
    key: typeof data.error === "string" ? data.error : keyForStatus(response.status),
    field: typeof data.field === "string" ? data.field : null,
    message: envelope && typeof envelope.message === "string" ? envelope.message : "",
    retryAfter: parseRetryAfter(response.headers.get("Retry-After")),
  });
}

/**
 * Call the API and return the envelope's `data`.
 *
 * options.body    — an object, sent as JSON.
 * options.auth    — send the bearer token (default true). With auth, a missing or
 *                   expired token, or a 401 answer, leads to the login page…
 * options.guard   — …unless guard is false (logout: a dead token is no reason
 *                   to say "your session expired"; the caller decides).
 * options.headers — more request headers (e.g. Tus-Resumable for /api/uploads).
 */
export async function api(method, path, { body, auth = true, guard = true, headers = {} } = {}) {
  const response = await fetchRetryingWhenBusy(method, path, { body, auth, guard, headers });
  if (!response.ok) {
    const error = await errorFromResponse(response);
    if (auth && guard && response.status === 401) redirectToLogin(error.key);
    throw error;
  }
  const envelope = await readEnvelope(response);
  return envelope ? envelope.data : null;
}

/** One API request, sent again after Retry-After while the server answers 503. */
async function fetchRetryingWhenBusy(method, path, options) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetchOnce(method, path, options);
    const wait = response.status === 503 ? parseRetryAfter(response.headers.get("Retry-After")) : null;
    if (wait === null || wait > BUSY_MAX_WAIT_SECONDS || attempt >= BUSY_RETRIES) return response;
    // A 503 means the request was not carried out, so sending it again is safe
    // even for a POST (RFC 9110 §15.6.4).
    await waitWhileBusy(Math.max(1, wait));
  }
}

/** Send one request with the token and language headers. No HTTP answer at
 * all (server down, offline) is an ApiError "network". */
async function fetchOnce(method, path, { body, auth, guard, headers: extraHeaders }) {
  const headers = {
    ...extraHeaders,
    Accept: "application/json",
    // Server messages follow the page's language (the server negotiates on this
    // header); the pages translate by key, but logs and fallbacks stay consistent.
    "Accept-Language": acceptLanguage(),
  };
  if (auth) {
    const problem = tokenProblem();
    if (problem) {
      if (guard) redirectToLogin(problem);
      throw new ApiError({ status: 401, key: problem });
    }
    headers.Authorization = "Bearer " + getToken();
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";

  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    // fetch rejects only when no HTTP answer came back (server down, offline, CORS).
    throw new ApiError({ key: "network" });
  }
  return response;
}

// ---- Waiting for a busy server ------------------------------------------------

let busyWaits = 0;

/** The page-wide notice "Server busy, retrying in 3 s…" (role=status, so it is
 * read out), created on first need: every page gets it without markup. */
function busyNotice() {
  let notice = document.getElementById("busyNotice");
  if (!notice) {
    notice = document.createElement("div");
    notice.id = "busyNotice";
    notice.className = "busy-notice";
    notice.setAttribute("role", "status");
    notice.setAttribute("aria-live", "polite");
    document.body.append(notice);
  }
  return notice;
}

/** Wait `seconds`, counting down in the notice; it disappears when the last wait ends. */
async function waitWhileBusy(seconds) {
  const notice = busyNotice();
  busyWaits += 1;
  notice.hidden = false;
  for (let left = seconds; left > 0; left -= 1) {
    setMessage(notice, "busy.retrying", { s: left });
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  busyWaits -= 1;
  if (busyWaits === 0) {
    setMessage(notice, "");
    notice.hidden = true;
  }
}

// ---- Server settings ------------------------------------------------------------

let configRequest = null;

/** GET /api/config, once per page: the limits and choices the server applies. */
export function serverConfig() {
  if (!configRequest) {
    configRequest = api("GET", "/api/config", { auth: false }).catch((error) => {
      configRequest = null; // a failed fetch is tried again next time
      throw error;
    });
  }
  return configRequest;
}

/**
 * The i18n key and arguments that describe an error, chosen by the server's
 * stable key (refined by field), so an alert can be re-translated later.
 */
export function errorMessageKey(error) {
  if (!(error instanceof ApiError)) return ["error.unknown", { status: "?" }];
  if (error.key === "too_many_attempts") {
    return error.retryAfter == null
      ? ["error.too_many_attempts_nowait", {}]
      : ["error.too_many_attempts", { wait: formatDuration(error.retryAfter) }];
  }
  if (error.field && hasMessage(`error.${error.key}.${error.field}`)) return [`error.${error.key}.${error.field}`, {}];
  // An error about one field with no sentence of its own here is usually about
  // a limit the server sets (password length…): its own sentence names the
  // real limit, in the page's language (we sent Accept-Language).
  if (error.field && error.message) return ["error.serverSaid", { message: error.message }];
  if (hasMessage(`error.${error.key}`)) return [`error.${error.key}`, {}];
  // A key this page does not know yet: the server's own sentence is already in
  // the page's language (we sent Accept-Language), so it is the best fallback.
  if (error.message && error.message !== error.key) return ["error.serverSaid", { message: error.message }];
  return ["error.unknown", { status: error.status }];
}

/** A sentence for any error, in the page language. */
export function errorText(error) {
  const [key, args] = errorMessageKey(error);
  return t(key, args);
}

// ---- Keeping the token fresh ------------------------------------------------

/**
 * Refresh the access token a little before it expires, for as long as the page
 * is open. Returns a function that stops it.
 *
 * Timers in background tabs are throttled and a laptop may sleep, so the
 * schedule is re-checked whenever the tab becomes visible again. If the token
 * did expire meanwhile, the next request (or the refresh itself) gets a 401
 * and leads to the login page with the reason.
 */
export function keepTokenFresh() {
  let timer = null;

  function schedule(delaySeconds) {
    clearTimeout(timer);
    if (delaySeconds === undefined) {
      const token = getToken();
      const claims = token && decodeJwt(token);
      if (!claims) return;
      const lifetime = claims.iat ? claims.exp - claims.iat : 1800;
      // Two minutes early, or a quarter of the lifetime for short-lived tokens.
      const margin = Math.min(120, lifetime / 4);
      delaySeconds = Math.max(0, tokenSecondsLeft(token) - margin);
    }
    // setTimeout overflows above 2^31-1 ms (about 24.8 days).
    timer = setTimeout(refresh, Math.min(delaySeconds * 1000, 2 ** 31 - 1));
  }

  async function refresh() {
    try {
      const data = await api("POST", "/api/token/refresh");
      if (data && data.access_token) setToken(data.access_token);
      schedule();
    } catch (error) {
      // 401 (expired, revoked, session too old): api() is already leaving for
      // the login page. Network trouble or a busy server: try again soon.
      if (error.status !== 401) schedule(15);
    }
  }

  function onVisible() {
    if (document.visibilityState === "visible") schedule();
  }

  // Another tab logged out (or in as someone else): follow it.
  function onStorage(event) {
    if (event.key === TOKEN_KEY) {
      if (!event.newValue) redirectToLogin("logged_out");
      else schedule();
    }
  }

  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener("storage", onStorage);
  schedule();
  return () => {
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
    window.removeEventListener("storage", onStorage);
  };
}
