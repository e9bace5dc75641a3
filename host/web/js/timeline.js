// Checkpoints along the chat: a marker after each message the working tree was recorded at.
// Selecting one shows its files as they stood, and offers to revert to it or fork from it.

import { json, request, sessionPath } from "./api.js";
import { el, guard, highlighted } from "./dom.js";

const $ = (id) => document.getElementById(id);

/** Puts a marker for each checkpoint into the rendered record `box`. */
export function renderTimeline(sessionId, box, checkpoints) {
  const rows = [...box.querySelectorAll(":scope > [data-seq]")];
  for (const checkpoint of checkpoints) {
    const marker = el(
      "div",
      { class: "checkpoint", dataset: { checkpoint: checkpoint.seq } },
      el(
        "button",
        { title: checkpoint.summary, onclick: (e) => openCheckpoint(sessionId, checkpoint, e.currentTarget) },
        `◆ checkpoint after message ${checkpoint.seq}: ${checkpoint.summary}`,
      ),
    );
    // After the last row at or before the checkpoint's message (at the top for message 0).
    const after = rows.filter((r) => Number(r.dataset.seq) <= checkpoint.seq).pop();
    if (after) after.after(marker);
    else box.prepend(marker);
  }
  $("checkpoint-panel").hidden = true;
}

async function openCheckpoint(sessionId, checkpoint, button) {
  for (const b of document.querySelectorAll(".checkpoint button.selected")) b.classList.remove("selected");
  button.classList.add("selected");
  const panel = $("checkpoint-panel");
  panel.hidden = false;
  const viewer = el("div", { class: "checkpoint-file" });
  const files = el("ul", {}, el("li", { class: "muted" }, "Loading files…"));
  panel.replaceChildren(
    el("h3", {}, `After message ${checkpoint.seq}`),
    el("p", { class: "muted" }, checkpoint.summary),
    el(
      "div",
      { class: "actions" },
      el("button", { id: "revert-checkpoint", onclick: () => revert(sessionId, checkpoint.seq) }, "Revert to here"),
      el("button", { id: "fork-checkpoint", class: "secondary", onclick: () => fork(sessionId, checkpoint.seq) }, "Fork from here"),
      el("button", { class: "link", onclick: () => (panel.hidden = true) }, "Close"),
    ),
    files,
    viewer,
  );
  await guard(async () => {
    const listing = await json(sessionPath(sessionId, `/checkpoints/${checkpoint.seq}/files`));
    files.replaceChildren(
      ...listing.files.map((f) =>
        el(
          "li",
          {},
          el("button", { dataset: { path: f.path }, onclick: () => showFile(sessionId, checkpoint.seq, f.path, viewer) }, f.path),
        ),
      ),
    );
    if (!listing.files.length) files.replaceChildren(el("li", { class: "muted" }, "No files."));
  });
}

async function showFile(sessionId, seq, path, viewer) {
  await guard(async () => {
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    const response = await request(sessionPath(sessionId, `/checkpoints/${seq}/files/${encoded}`));
    const text = await response.text();
    viewer.replaceChildren(el("h4", {}, path), el("pre", {}, highlighted(path, text)));
  });
}

async function revert(sessionId, seq) {
  if (!confirm(`Take the files and the conversation back to how they stood after message ${seq}?`)) return;
  await guard(async () => {
    await json(sessionPath(sessionId, "/revert"), { method: "POST", body: { atMessage: seq } });
    window.dispatchEvent(new CustomEvent("session-changed", { detail: sessionId }));
  });
}

async function fork(sessionId, seq) {
  await guard(async () => {
    const forked = await json(sessionPath(sessionId, "/fork"), { method: "POST", body: { atMessage: seq } });
    location.hash = `#/session/${forked.sessionId}`;
  });
}
