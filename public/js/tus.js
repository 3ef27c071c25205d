// tus.js — a small client for the tus 1.0 resumable-upload protocol
// (https://tus.io/protocols/resumable-upload), on XMLHttpRequest and Blob.slice.
//
// Theory of operation:
//   1. POST /api/uploads announces the upload: its length (Upload-Length) and its
//      name and type (Upload-Metadata). The server checks size and quota *here*,
//      before any byte is sent, and answers 201 with Location (the upload's URL)
//      and Upload-Token (a token that works for this one upload only).
//   2. PATCH <Location> sends one chunk, a Blob.slice() of the file. The browser
//      streams a Blob from disk, so even a 1 GB file is never held in page memory.
//      Upload-Offset says where the chunk belongs; the server refuses (409) a
//      chunk whose offset is not exactly the number of bytes it has stored, so a
//      chunk can never be written twice or leave a hole.
//   3. After a network error, HEAD <Location> asks how many bytes arrived
//      (Upload-Offset), and sending continues from there, after a pause that
//      grows with each failed attempt (backoff).
//   4. The upload's URL and token are kept in localStorage (or the storage the
//      caller names: the drop page uses sessionStorage), keyed by the user and
//      the file's name, size and lastModified: choosing the same file again after
//      a reload continues where it stopped instead of starting over. They sit
//      under api.js's ACCOUNT_STORAGE_PREFIX, so logging out removes them.
//      An upload this browser does not remember (GET /api/uploads lists them)
//      is continued with `resumeUrl`, authorised by the access token.
//   5. The response that completes the upload carries Upload-File-Id: the id of
//      the finished file in GET /api/files.
//   6. Cancel = abort the request in flight + DELETE <Location>, which frees the
//      partial data and the quota it reserved.
//
// Why Upload-Token for HEAD/PATCH/DELETE and not the access token: an upload of a
// large file can outlive the 30-minute access token; the upload token lasts as
// long as the upload and can do nothing else.

import { ACCOUNT_STORAGE_PREFIX, ApiError, errorFromResponse } from "./api.js";
import { acceptLanguage } from "./i18n.js";

const TUS_VERSION = "1.0.0";
const MIB = 1024 * 1024;
/** 8 MiB: big enough that per-request overhead is small, small enough that a
 * dropped connection loses little (the server keeps only whole requests). */
export const DEFAULT_CHUNK_BYTES = 8 * MIB;
/** Pauses before each retry; after the last one the upload fails. */
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const STORAGE_PREFIX = ACCOUNT_STORAGE_PREFIX + "tus-upload:";

/** tus metadata values are base64 of UTF-8 bytes (btoa alone only takes Latin-1). */
function base64Utf8(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * One XMLHttpRequest as a promise. Resolves with any HTTP answer (even 4xx/5xx);
 * rejects with ApiError "network" when no answer came, "aborted" when abort()ed.
 * `holder.xhr` is set so the caller can abort it.
 */
function send(method, url, { headers = {}, body = null, onUploadProgress = null, holder = {} } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    holder.xhr = xhr;
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onUploadProgress) {
      // Upload progress events: bytes of *this request's* body sent so far.
      xhr.upload.addEventListener("progress", (event) => onUploadProgress(event.loaded));
    }
    xhr.addEventListener("load", () => {
      holder.xhr = null;
      resolve(xhr);
    });
    xhr.addEventListener("error", () => reject(new ApiError({ key: "network" })));
    xhr.addEventListener("timeout", () => reject(new ApiError({ key: "network" })));
    xhr.addEventListener("abort", () => reject(new ApiError({ key: "aborted" })));
    xhr.send(body);
  });
}

/** The ApiError for an XHR that got an error status (the body is an envelope). */
function errorFromXhr(xhr) {
  const headers = new Headers();
  const retryAfter = xhr.getResponseHeader("Retry-After");
  if (retryAfter) headers.set("Retry-After", retryAfter);
  return errorFromResponse(new Response(xhr.responseText || null, { status: xhr.status, headers }));
}

/** Errors worth retrying: no answer at all, the server busy or failing, or an
 * offset disagreement (409) or damaged chunk (460) that a HEAD will sort out. */
function isRetryable(error) {
  if (error.key === "network") return true;
  return [409, 423, 429, 460, 500, 502, 503, 504].includes(error.status);
}

/** Bytes per second over the last few seconds, for speed and time left. */
class RateMeter {
  constructor(windowMs = 5000) {
    this.windowMs = windowMs;
    this.samples = [];
  }

  add(bytes) {
    const now = performance.now();
    // Bytes can go *down* after a lost chunk: start measuring afresh.
    if (this.samples.length && bytes < this.samples[this.samples.length - 1].bytes) this.samples = [];
    this.samples.push({ time: now, bytes });
    while (this.samples.length > 2 && now - this.samples[0].time > this.windowMs) this.samples.shift();
  }

  bytesPerSecond() {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const seconds = (last.time - first.time) / 1000;
    return seconds > 0.2 ? (last.bytes - first.bytes) / seconds : 0;
  }
}

/**
 * Upload one File.
 *
 *   const upload = new TusUpload(file, {
 *     accessToken: () => localStorage.getItem("token"),
 *     owner: "42",                      // user id: keeps resume entries per user
 *     storage: sessionStorage,          // where resume entries live (default localStorage)
 *     onProgress: ({ bytesSent, bytesTotal, bytesPerSecond, secondsLeft }) => …,
 *     onRetry: ({ delayMs, attempt }) => …,
 *     onResume: ({ offset }) => …,
 *     resumeUrl: "/api/uploads/ab12…",  // optional: continue this upload of the file
 *     metadata: { folder_id: "…", relativePath: "photos/a.jpg" },   // more Upload-Metadata
 *   });
 *   const { fileId } = await upload.start();   // rejects with ApiError
 *   upload.cancel();                           // abort + DELETE
 */
export class TusUpload {
  constructor(file, options = {}) {
    this.file = file;
    this.endpoint = options.endpoint || "/api/uploads";
    this.chunkBytes = Math.min(32 * MIB, Math.max(8 * MIB, options.chunkBytes || DEFAULT_CHUNK_BYTES));
    this.accessToken = options.accessToken || (() => localStorage.getItem("token"));
    this.owner = options.owner || "";
    this.storage = options.storage || localStorage;
    // Extra Upload-Metadata pairs: the target folder, a dropped file's path.
    this.metadata = options.metadata || {};
    this.onProgress = options.onProgress || (() => {});
    this.onRetry = options.onRetry || (() => {});
    this.onResume = options.onResume || (() => {});
    this.retryDelays = options.retryDelaysMs || RETRY_DELAYS_MS;

    this.resumeUrl = options.resumeUrl ? new URL(options.resumeUrl, location.href).href : null;
    this.url = null; // the upload's URL (Location of the POST)
    this.uploadToken = null; // bearer for HEAD/PATCH/DELETE of this upload, if the POST gave one
    this.offset = 0; // bytes the server has stored, as it last told us
    this.fileId = null; // set when the upload is complete
    this.done = false;
    this.aborted = false;
    this.holder = {}; // the XHR in flight
    this.wakeUp = null; // ends a retry pause early (on abort)
    this.meter = new RateMeter();
  }

  // ---- Remembering the upload across reloads --------------------------------

  get storageKey() {
    const f = this.file;
    // The same file dropped into two folders is two uploads: the metadata is part of the key.
    return STORAGE_PREFIX + JSON.stringify([this.owner, f.name, f.size, f.lastModified, this.metadata]);
  }

  remember() {
    this.storage.setItem(this.storageKey, JSON.stringify({ url: this.url, token: this.uploadToken }));
  }

  forget() {
    this.storage.removeItem(this.storageKey);
  }

  recall() {
    try {
      const saved = JSON.parse(this.storage.getItem(this.storageKey));
      return saved && saved.url ? saved : null;
    } catch {
      return null;
    }
  }

  // ---- The protocol ---------------------------------------------------------

  /** The upload's own token, or the access token for an upload continued from
   * GET /api/uploads (the owner may resume with any live access token). */
  bearer() {
    return this.uploadToken || this.accessToken();
  }

  commonHeaders(bearer = this.bearer()) {
    return {
      "Tus-Resumable": TUS_VERSION, // every tus request says which version it speaks
      Authorization: "Bearer " + bearer,
      "Accept-Language": acceptLanguage(),
    };
  }

  /** POST: announce the upload. Size and quota are refused here, before any byte. */
  async create() {
    const metadata = ["filename " + base64Utf8(this.file.name)];
    if (this.file.type) metadata.push("filetype " + base64Utf8(this.file.type));
    for (const [key, value] of Object.entries(this.metadata)) {
      if (value) metadata.push(key + " " + base64Utf8(value));
    }
    const xhr = await send("POST", this.endpoint, {
      headers: {
        ...this.commonHeaders(this.accessToken()),
        "Upload-Length": String(this.file.size),
        "Upload-Metadata": metadata.join(","),
      },
      holder: this.holder,
    });
    if (xhr.status !== 201) throw await errorFromXhr(xhr);
    // Location may be relative; resolve it against the endpoint's URL.
    this.url = new URL(xhr.getResponseHeader("Location"), new URL(this.endpoint, location.href)).href;
    this.uploadToken = xhr.getResponseHeader("Upload-Token");
    this.offset = 0;
    this.remember();
    // A zero-byte file is complete as soon as it is created.
    this.checkComplete(xhr);
  }

  /** HEAD: how many bytes does the server have? (after an error, or on resume) */
  async syncOffset() {
    const xhr = await send("HEAD", this.url, {
      headers: this.commonHeaders(),
      holder: this.holder,
    });
    if (xhr.status === 401 && this.uploadToken) {
      // The upload's own token died with the session that created it (a logout,
      // "sign out" from another device); the owner may go on with the current
      // access token (API.md, tus), so the bytes already sent are not lost.
      this.uploadToken = null;
      this.remember();
      return this.syncOffset();
    }
    if (xhr.status === 404 || xhr.status === 410 || xhr.status === 401 || xhr.status === 403) {
      // Expired, cancelled elsewhere, or not ours any more: start afresh.
      const error = new ApiError({ status: xhr.status, key: "upload_gone" });
      error.uploadGone = true;
      throw error;
    }
    if (xhr.status !== 200) throw await errorFromXhr(xhr);
    const length = Number(xhr.getResponseHeader("Upload-Length"));
    if (Number.isFinite(length) && xhr.getResponseHeader("Upload-Length") !== null && length !== this.file.size) {
      const error = new ApiError({ status: 409, key: "upload_gone" });
      error.uploadGone = true;
      throw error;
    }
    this.offset = Number(xhr.getResponseHeader("Upload-Offset")) || 0;
    this.report(this.offset);
    this.checkComplete(xhr);
  }

  /** PATCH: send the next chunk, from the offset the server confirmed. */
  async sendChunk() {
    const start = this.offset;
    const end = Math.min(start + this.chunkBytes, this.file.size);
    const xhr = await send("PATCH", this.url, {
      headers: {
        ...this.commonHeaders(),
        // tus requires this exact type: the body is raw bytes at Upload-Offset.
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": String(start),
      },
      body: this.file.slice(start, end), // a Blob: read from disk as it is sent
      onUploadProgress: (loaded) => this.report(start + loaded),
      holder: this.holder,
    });
    if (xhr.status !== 204) throw await errorFromXhr(xhr);
    // Trust the server's count, not our own: it is what a resume will see.
    this.offset = Number(xhr.getResponseHeader("Upload-Offset"));
    this.report(this.offset);
    this.checkComplete(xhr);
  }

  /** Done when the server names the finished file, or holds every byte. */
  checkComplete(xhr) {
    const fileId = xhr.getResponseHeader("Upload-File-Id");
    if (fileId) this.fileId = fileId;
    if (fileId || this.offset >= this.file.size) this.done = true;
  }

  report(bytesSent) {
    this.meter.add(bytesSent);
    const bytesPerSecond = this.meter.bytesPerSecond();
    const remaining = this.file.size - bytesSent;
    this.onProgress({
      bytesSent,
      bytesTotal: this.file.size,
      bytesPerSecond,
      secondsLeft: bytesPerSecond > 0 ? remaining / bytesPerSecond : null,
    });
  }

  /** Wait before a retry; abort() ends the wait at once. */
  pause(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  // ---- Public API -----------------------------------------------------------

  /** Upload the file (or continue a remembered upload). Resolves { fileId }. */
  async start() {
    this.aborted = false;
    const saved = this.resumeUrl ? { url: this.resumeUrl, token: null } : this.recall();
    let needSync = false;
    if (saved) {
      this.url = saved.url;
      this.uploadToken = saved.token;
      needSync = true;
      if (this.resumeUrl) this.remember(); // a reload may pick it up like any other
    }
    let attempt = 0;
    while (!this.done) {
      if (this.aborted) throw new ApiError({ key: "aborted" });
      try {
        if (!this.url) {
          await this.create();
        } else if (needSync) {
          await this.syncOffset();
          needSync = false;
          if (saved && attempt === 0 && this.offset > 0) this.onResume({ offset: this.offset });
        } else {
          const before = this.offset;
          await this.sendChunk();
          if (this.offset > before) attempt = 0; // progress made: the backoff starts over
        }
      } catch (error) {
        if (this.aborted || error.key === "aborted") throw new ApiError({ key: "aborted" });
        if (error.uploadGone && this.resumeUrl) throw error; // the chosen upload is gone: say so
        if (error.uploadGone) {
          // The remembered upload is no longer there: create a new one.
          this.forget();
          this.url = null;
          needSync = false;
          continue;
        }
        if (error.status === 401) {
          // Who is asking was refused, not the upload: it stays on the server and
          // resumes after the next login, with that login's access token (the
          // upload's own token dies with the session that created it).
          this.uploadToken = null;
          this.remember();
          throw error;
        }
        if (!isRetryable(error) || attempt >= this.retryDelays.length) {
          // A refused upload (too large, over quota …) cannot be resumed: forget it.
          if (!isRetryable(error)) this.forget();
          throw error;
        }
        // A busy server's Retry-After is a minimum (RFC 9110 §10.2.3).
        const delayMs = Math.max(this.retryDelays[attempt], (error.retryAfter || 0) * 1000);
        attempt += 1;
        this.onRetry({ delayMs, attempt, error });
        await this.pause(delayMs);
        // If a POST got lost we simply POST again (a stray upload expires by itself);
        // otherwise ask the server where to go on from.
        needSync = Boolean(this.url);
      }
    }
    this.forget();
    return { fileId: this.fileId };
  }

  /** Stop sending. The server keeps what it has, so start() can resume later. */
  abort() {
    this.aborted = true;
    if (this.holder.xhr) this.holder.xhr.abort();
    if (this.wakeUp) this.wakeUp();
  }

  /** Abort and delete the partial upload on the server (tus termination). */
  async cancel() {
    this.abort();
    this.forget();
    if (!this.url || this.done) return;
    try {
      await send("DELETE", this.url, { headers: this.commonHeaders() });
    } catch {
      // Unreachable server: the partial upload expires there by itself.
    }
  }
}
