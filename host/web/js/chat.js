// The chat: the conversation's record, the running chat streamed live from the session's event
// stream (rejoined after a reload from the id kept in localStorage), the message box, the model
// picker, the stop button and each chat's usage.

import { ApiError, json, sessionPath, streamEvents } from "./api.js";
import { el, guard, markdown, showError } from "./dom.js";
import { refreshSessions } from "./sessions.js";
import { renderTimeline } from "./timeline.js";

/** A tool result longer than this many characters (or lines) starts collapsed. */
const SHORT_RESULT = { chars: 600, lines: 12 };

let session = null;

const $ = (id) => document.getElementById(id);

/** Where a running chat was, so a reload can rejoin it: `{start, ended}` per session. */
function chatMark(id) {
  try {
    return JSON.parse(localStorage.getItem(`pi-worker:chat:${id}`)) ?? null;
  } catch {
    return null;
  }
}

function setChatMark(id, mark) {
  localStorage.setItem(`pi-worker:chat:${id}`, JSON.stringify(mark));
}

/** Opens the chat of session `id`: its record, its checkpoints, and its live events. */
export async function openChat(id) {
  closeChat();
  const controller = new AbortController();
  session = { id, controller, live: null, running: false, sending: false, lastEventId: null };
  $("messages").replaceChildren(el("p", { class: "muted" }, "Loading…"));
  const usage = localStorage.getItem(`pi-worker:usage:${id}`);
  $("usage").textContent = usage ?? "";
  setRunning(false);
  await reloadRecord();
  const mark = chatMark(id);
  // A chat this browser saw start and not end: replay it from its start.
  const rejoinFrom = mark && !mark.ended ? mark.start - 1 : null;
  followEvents(session, rejoinFrom);
}

/** Stops following the open session. */
export function closeChat() {
  session?.controller.abort();
  session = null;
}

/** Re-renders the record and the checkpoints from the server. */
async function reloadRecord() {
  const current = session;
  const [{ messages }, { checkpoints }] = await Promise.all([
    json(sessionPath(current.id, "/messages")),
    json(sessionPath(current.id, "/checkpoints")),
  ]);
  if (current !== session) return;
  const box = $("messages");
  box.replaceChildren(...renderRecord(messages));
  renderTimeline(current.id, box, checkpoints);
  if (current.live) box.append(current.live.user, current.live.answer);
  box.scrollTop = box.scrollHeight;
}

/** The elements of the persisted record. */
function renderRecord(rows) {
  const out = [];
  const tools = new Map();
  for (const row of rows) {
    if (row.role === "revert") {
      out.push(el("div", { class: "msg marker", dataset: { seq: row.seq } }, `Reverted to message ${row.atMessage}`));
    } else if (row.role === "compaction") {
      out.push(el("div", { class: "msg marker", dataset: { seq: row.seq } }, "Older turns were summarised for the model"));
    } else if (row.role === "user") {
      const text = row.content.filter((b) => b.type === "text").map((b) => b.text).join("\n");
      for (const block of row.content.filter((b) => b.type === "toolResult")) {
        const tool = tools.get(block.callId);
        if (tool) finishTool(tool, block.isError, block.content);
      }
      if (text) out.push(el("div", { class: "msg user", dataset: { seq: row.seq } }, text));
    } else {
      const answer = el("div", { class: "msg assistant", dataset: { seq: row.seq } });
      for (const block of row.content) {
        if (block.type === "text") answer.append(answerText(block.text));
        if (block.type === "toolCall") {
          const tool = toolElement(block.name, parseArgs(block.arguments));
          tools.set(block.id, tool);
          answer.append(tool);
        }
      }
      out.push(answer);
    }
  }
  if (!out.length) out.push(el("p", { class: "muted" }, "No messages yet. Ask the agent something."));
  return out;
}

function parseArgs(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function answerText(text) {
  const div = el("div", { class: "answer" });
  div.innerHTML = markdown(text);
  return div;
}

/** A tool call, running until `finishTool`. */
function toolElement(name, args) {
  const argsText = typeof args === "string" ? args : JSON.stringify(args, null, 2);
  const brief = typeof args === "object" && args ? args.path ?? args.pattern ?? args.command ?? "" : "";
  return el(
    "details",
    { class: "tool running", dataset: { tool: name } },
    el(
      "summary",
      {},
      el("span", { class: "name" }, name),
      brief ? ` ${brief}` : "",
      el("span", { class: "state" }, "running…"),
    ),
    el("pre", { class: "args" }, argsText),
  );
}

function finishTool(tool, isError, result) {
  tool.classList.remove("running");
  tool.classList.add(isError ? "failed" : "ok");
  tool.querySelector(".state").textContent = isError ? "failed" : "done";
  const text = String(result ?? "");
  const short = text.length <= SHORT_RESULT.chars && text.split("\n").length <= SHORT_RESULT.lines;
  const output = el("pre", { class: "result" }, text || "(no output)");
  if (short) {
    tool.append(output);
    if (isError) tool.open = true;
  } else {
    tool.append(el("details", { class: "long-result" }, el("summary", {}, `result (${text.length} characters)`), output));
  }
}

/** Follows the session's events until it is closed: reconnects after a drop, from the last id. */
async function followEvents(current, lastEventId) {
  current.lastEventId = lastEventId;
  let failures = 0;
  while (session === current) {
    const query = current.lastEventId ? `?lastEventId=${current.lastEventId}` : "";
    try {
      await streamEvents(sessionPath(current.id, `/events${query}`), {
        signal: current.controller.signal,
        onEvent: (event) => onEvent(current, event),
      });
      failures = 0;
    } catch (e) {
      if (e.name === "AbortError" || session !== current) return;
      if (e instanceof ApiError && e.status === 404) {
        showError(e);
        return;
      }
      if (failures++ === 0) showError(`live events lost, reconnecting: ${e.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** failures, 10_000)));
  }
}

function onEvent(current, { event, data, id }) {
  if (session !== current) return;
  if (id) current.lastEventId = id;
  let body;
  try {
    body = JSON.parse(data);
  } catch {
    body = {};
  }
  switch (event) {
    case "chat_start":
      setChatMark(current.id, { start: Number(id), ended: false });
      startLive(current, body.message);
      break;
    case "text_delta":
      liveTurn(current).appendText(body.text);
      break;
    case "tool_start":
      liveTurn(current).startTool(body.id, body.tool, body.args);
      break;
    case "tool_end":
      liveTurn(current).endTool(body.id, body.isError, body.result);
      break;
    case "compaction":
      liveTurn(current).note(`Older turns were summarised (${body.tokensBefore} → ${body.tokensAfter} tokens)`);
      break;
    case "chat_end":
      setChatMark(current.id, { start: chatMark(current.id)?.start ?? 0, ended: true });
      // This tab's own chat shows the server's error from its request instead.
      if (body.stopReason === "error" && !current.sending) showError("a chat on this session ended with an error");
      current.live = null;
      setRunning(false, body.stopReason);
      guard(reloadRecord);
      guard(refreshSessions);
      break;
    case "reset":
      guard(reloadRecord);
      break;
    case "lagged":
      liveTurn(current).note(`${body.missed} events were missed; the record reloads when the chat ends`);
      break;
    case "error":
      showError(body.error ?? "the event stream failed");
      break;
  }
}

/** A running chat's elements: the user's message and the answer as it streams in. */
function startLive(current, message) {
  const box = $("messages");
  // Rejoined after a reload: the record already holds this chat's finished turns. Drop them
  // (from its message on); the replay shows them again.
  const users = [...box.querySelectorAll(".msg.user")];
  const same = users.reverse().find((u) => u.textContent === message);
  if (same) {
    while (same.nextSibling) same.nextSibling.remove();
    same.remove();
  }
  box.querySelector(":scope > p.muted")?.remove();
  const user = el("div", { class: "msg user live" }, message ?? "");
  const answer = el("div", { class: "msg assistant live" });
  current.live = { user, answer, text: null, buffer: "", tools: new Map(), frame: 0 };
  box.append(user, answer);
  setRunning(true);
  box.scrollTop = box.scrollHeight;
}

/** The live turn, created when events arrive from a chat that started before we joined. */
function liveTurn(current) {
  if (!current.live) startLive(current, "(a chat that was already running)");
  const live = current.live;
  const box = $("messages");
  const stick = () => {
    if (box.scrollHeight - box.scrollTop - box.clientHeight < 120) box.scrollTop = box.scrollHeight;
  };
  return {
    appendText(text) {
      if (!live.text) {
        live.text = el("div", { class: "answer" });
        live.buffer = "";
        live.answer.append(live.text);
      }
      live.buffer += text;
      live.frame ||= requestAnimationFrame(() => {
        live.frame = 0;
        if (live.text) live.text.innerHTML = markdown(live.buffer);
        stick();
      });
    },
    startTool(id, tool, args) {
      if (live.text) live.text.innerHTML = markdown(live.buffer);
      live.text = null;
      const element = toolElement(tool, args);
      live.tools.set(id, element);
      live.answer.append(element);
      stick();
    },
    endTool(id, isError, result) {
      const element = live.tools.get(id);
      if (element) finishTool(element, isError, result);
    },
    note(text) {
      live.answer.append(el("div", { class: "footer" }, text));
    },
  };
}

function setRunning(running, stopReason) {
  if (session) session.running = running;
  $("stop").hidden = !running;
  $("chat-status").textContent = running
    ? "The agent is working…"
    : stopReason && stopReason !== "end_turn"
      ? `Stopped: ${stopReason}`
      : "";
}

/** Wires the message box, the stop button and the model picker. */
export function setUpChat() {
  const input = $("chat-input");
  const model = $("model");
  model.value = localStorage.getItem("pi-worker:model") ?? "";
  model.addEventListener("change", () => localStorage.setItem("pi-worker:model", model.value.trim()));
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message || !session) return;
    input.value = "";
    send(session, message, model.value.trim());
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("chat-form").requestSubmit();
  });
  $("stop").addEventListener("click", () =>
    guard(async () => {
      if (session) await json(sessionPath(session.id, "/abort"), { method: "POST" });
    }),
  );
  guard(loadModels);
}

async function send(current, message, model) {
  setRunning(true);
  current.sending = true;
  try {
    const body = { message, ...(model ? { model } : {}) };
    const reply = await json(sessionPath(current.id, "/chat"), { method: "POST", body });
    const u = reply.usage ?? {};
    const text = `Last chat: ${u.inputTokens ?? 0} in · ${u.outputTokens ?? 0} out tokens${
      u.cacheReadTokens ? ` · ${u.cacheReadTokens} cached` : ""
    }`;
    localStorage.setItem(`pi-worker:usage:${current.id}`, text);
    if (session === current) $("usage").textContent = text;
  } catch (e) {
    // A reload cuts the request, not the chat: the event stream shows how it goes on.
    if (e.name !== "AbortError") showError(e);
    if (session === current && !current.live) setRunning(false);
  } finally {
    current.sending = false;
  }
}

/** Fills the model picker with the configured models. */
async function loadModels() {
  const { defaultModel, models, providers } = await json("/models");
  $("model").placeholder = `default: ${defaultModel}`;
  const configured = providers.filter((p) => p.configured).map((p) => `${p.prefix}/…`);
  $("model").title = configured.length
    ? `Any model of a configured provider: ${configured.join(", ")}`
    : "No provider is configured on the server";
  // The named models, then a start for each configured prefix (`openai/…`) to type on from.
  const prefixes = providers.filter((p) => p.configured && !p.unprefixed).map((p) => `${p.prefix}/`);
  $("models").replaceChildren(...[...models, ...prefixes].map((m) => el("option", { value: m })));
}
