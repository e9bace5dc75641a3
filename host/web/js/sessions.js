// The session list (refreshed every few seconds and after each change) and creating sessions:
// the sample project, an empty one, an uploaded archive or a repository URL, with the agent
// picked when the server runs more than one.

import { json, request } from "./api.js";
import { ago, el, guard, showError } from "./dom.js";

const REFRESH_MS = 5000;
let current = null;

/** Marks `id` as the open session in the list. */
export function setCurrentSession(id) {
  current = id;
  for (const li of document.querySelectorAll("#sessions li[data-id]")) {
    li.classList.toggle("active", li.dataset.id === id);
  }
}

/** Reloads the list of sessions. */
export async function refreshSessions() {
  const { sessions } = await json("/sessions?limit=100");
  const list = document.getElementById("sessions");
  const items = sessions.map((s) =>
    el(
      "li",
      { dataset: { id: s.sessionId }, class: s.sessionId === current ? "active" : null },
      el(
        "a",
        { href: `#/session/${s.sessionId}` },
        el("span", { class: "title" }, s.title || "(no messages yet)"),
        el("span", { class: "meta" }, `${s.fileCount} files · ${s.messageCount} messages · ${ago(s.updatedAt)}`),
      ),
    ),
  );
  list.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "No sessions yet.")]));
}

/** Keeps the list fresh. */
export function watchSessions() {
  let failed = false;
  const tick = async () => {
    try {
      await refreshSessions();
      failed = false;
    } catch (e) {
      // Say it once, not every few seconds.
      if (!failed) showError(e);
      failed = true;
    }
    setTimeout(tick, REFRESH_MS);
  };
  tick();
}

/** Wires the "new session" form; `opened(id)` is called with each new session. */
export function setUpNewSession(opened) {
  const form = document.getElementById("new-session");
  const kind = document.getElementById("new-kind");
  const file = document.getElementById("new-file");
  const repo = document.getElementById("new-repo");
  const agent = document.getElementById("new-agent");
  guard(() => offerAgents(agent));
  kind.addEventListener("change", () => {
    file.hidden = kind.value !== "upload";
    repo.hidden = kind.value !== "repo";
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guard(async () => {
      const button = document.getElementById("create-session");
      button.disabled = true;
      try {
        const created = await createSession(kind.value, file.files[0], repo.value.trim(), agent.value);
        await refreshSessions();
        opened(created.sessionId);
      } finally {
        button.disabled = false;
      }
    });
  });
}

/** Fills the agent picker from `GET /agents`, and shows it when there is a choice. */
async function offerAgents(select) {
  const { defaultAgent, agents } = await json("/agents");
  select.replaceChildren(
    ...agents.map((a) => el("option", { value: a.name, title: a.hash }, a.name)),
  );
  select.value = defaultAgent;
  document.getElementById("new-agent-label").hidden = agents.length < 2;
}

/** Creates a session of `kind`; `agent` is the picked agent's name (empty: the default). */
async function createSession(kind, archive, url, agent) {
  const picked = agent ? { agent } : {};
  switch (kind) {
    case "empty":
      return json("/session/new", { method: "POST", body: { template: "empty", ...picked } });
    case "upload": {
      if (!archive) throw new Error("choose a .tar or .tar.gz file first");
      const gzip = /\.(tgz|gz)$/i.test(archive.name);
      const query = agent ? `?agent=${encodeURIComponent(agent)}` : "";
      const response = await request(`/session/new${query}`, {
        method: "POST",
        headers: { "Content-Type": gzip ? "application/gzip" : "application/x-tar" },
        body: archive,
      });
      return response.json();
    }
    case "repo":
      if (!url) throw new Error("give the repository's URL first");
      return json("/session/new", { method: "POST", body: { repo: url, ...picked } });
    default:
      return json("/session/new", { method: "POST", body: picked });
  }
}
