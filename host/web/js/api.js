// The HTTP API: JSON calls and server-sent event streams, with the bearer token asked for once
// (on the first 401) and kept in localStorage.

import { createParser } from "../vendor/eventsource-parser/index.js";

const TOKEN_KEY = "pi-worker:token";

/** An answer that was not 2xx: its status and the server's `{"error"}` text. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  return localStorage.getItem(TOKEN_KEY);
}

export function forgetToken() {
  localStorage.removeItem(TOKEN_KEY);
}

let asking = null;

/** Shows the token dialog (once, however many requests wait for it) and stores the answer. */
function askForToken() {
  asking ??= new Promise((resolve) => {
    const dialog = document.getElementById("token-dialog");
    const input = document.getElementById("token-input");
    input.value = "";
    dialog.addEventListener(
      "close",
      () => {
        const value = input.value.trim();
        if (value) localStorage.setItem(TOKEN_KEY, value);
        asking = null;
        resolve(Boolean(value));
      },
      { once: true },
    );
    dialog.showModal();
  });
  return asking;
}

function withAuth(headers = {}) {
  const t = token();
  return t ? { ...headers, Authorization: `Bearer ${t}` } : headers;
}

/** Sends a request; on 401 asks for a token and sends it again. Throws ApiError otherwise. */
export async function request(path, options = {}) {
  for (;;) {
    let response;
    try {
      response = await fetch(path, { ...options, headers: withAuth(options.headers) });
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new ApiError(0, `cannot reach the server (${e.message})`);
    }
    if (response.status === 401 && (await askForToken())) continue;
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      try {
        const body = await response.json();
        if (body.error) message = `${body.error} (${response.status})`;
      } catch {
        // Not JSON: keep the status line.
      }
      throw new ApiError(response.status, message);
    }
    return response;
  }
}

/** A JSON call: `body` (an object) is sent as JSON; the answer is parsed (null when empty). */
export async function json(path, { method = "GET", body, headers } = {}) {
  const options = { method, headers: { ...headers } };
  if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers["Content-Type"] = "application/json";
  }
  const response = await request(path, options);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/**
 * Reads a server-sent event stream: `onEvent({event, data, id})` for each event, until the
 * stream ends or `signal` aborts. Resolves when the stream ends.
 */
export async function streamEvents(path, { onEvent, signal, headers }) {
  const response = await request(path, { headers: { Accept: "text/event-stream", ...headers }, signal });
  const parser = createParser({ onEvent });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.feed(value);
    }
  } finally {
    reader.releaseLock();
  }
}

/** Downloads `path` as a file named `name`, with the token (a plain link could not send it). */
export async function download(path, name) {
  const response = await request(path);
  const url = URL.createObjectURL(await response.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A session's API path. */
export function sessionPath(id, rest = "") {
  return `/session/${encodeURIComponent(id)}${rest}`;
}
