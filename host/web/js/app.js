// The web app's entry: hash routes (`#/session/<id>` opens a session), the tabs, fork and
// delete, and errors shown as messages (never a blank page).

import { forgetToken, json, sessionPath, token } from "./api.js";
import { closeChat, openChat, setUpChat } from "./chat.js";
import { guard, showError } from "./dom.js";
import { openFiles } from "./files.js";
import { openGit, setUpGit } from "./git.js";
import { refreshSessions, setCurrentSession, setUpNewSession, watchSessions } from "./sessions.js";

const $ = (id) => document.getElementById(id);
let openId = null;
let tab = "chat";

window.addEventListener("error", (event) => showError(event.error ?? event.message));
window.addEventListener("unhandledrejection", (event) => showError(event.reason));

function route() {
  const match = location.hash.match(/^#\/session\/([^/?#]+)/);
  const id = match ? decodeURIComponent(match[1]) : null;
  if (id === openId) return;
  openId = id;
  setCurrentSession(id);
  $("welcome").hidden = Boolean(id);
  $("session").hidden = !id;
  $("session-title").textContent = id ? `session ${id}` : "";
  if (!id) {
    closeChat();
    return;
  }
  guard(() => openChat(id));
  showTab(tab);
}

function showTab(name) {
  tab = name;
  for (const button of document.querySelectorAll("[role=tab]")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll(".tab-panel")) panel.hidden = panel.dataset.panel !== name;
  if (!openId) return;
  if (name === "files") guard(() => openFiles(openId));
  if (name === "git") guard(() => openGit(openId));
}

function setUpSessionActions() {
  for (const button of document.querySelectorAll("[role=tab]")) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  }
  $("fork-session").addEventListener("click", () =>
    guard(async () => {
      const forked = await json(sessionPath(openId, "/fork"), { method: "POST", body: {} });
      await refreshSessions();
      location.hash = `#/session/${forked.sessionId}`;
    }),
  );
  $("delete-session").addEventListener("click", () =>
    guard(async () => {
      if (!confirm(`Delete session ${openId} with its files and history?`)) return;
      await json(sessionPath(openId, ""), { method: "DELETE" });
      localStorage.removeItem(`pi-worker:chat:${openId}`);
      location.hash = "#/";
      await refreshSessions();
    }),
  );
  // A revert changed the files and the conversation: show them anew.
  window.addEventListener("session-changed", (event) => {
    if (event.detail !== openId) return;
    guard(() => openChat(openId));
    if (tab !== "chat") showTab(tab);
  });
  $("forget-token").hidden = !token();
  $("forget-token").addEventListener("click", () => {
    forgetToken();
    location.reload();
  });
}

try {
  setUpChat();
  setUpGit();
  setUpSessionActions();
  setUpNewSession((id) => (location.hash = `#/session/${id}`));
  window.addEventListener("hashchange", route);
  route();
  watchSessions();
} catch (e) {
  showError(e);
}
