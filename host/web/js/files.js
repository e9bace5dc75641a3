// The workspace's files: a tree (directories open on demand) and a viewer with syntax
// highlighting. Editing saves through the file API with `If-Match`, so a file changed meanwhile
// (by the agent, say) is not overwritten.

import { json, request, sessionPath } from "./api.js";
import { el, guard, highlighted, showError } from "./dom.js";

const $ = (id) => document.getElementById(id);
let sessionId = null;

function filePath(path) {
  return sessionPath(sessionId, `/files/${path.split("/").map(encodeURIComponent).join("/")}`);
}

/** Shows the files of session `id` (the root opened). */
export async function openFiles(id) {
  sessionId = id;
  $("file-view").replaceChildren(el("p", { class: "muted" }, "Select a file."));
  const root = $("file-tree");
  root.replaceChildren();
  await listInto(root, "");
}

async function listInto(list, dir) {
  const { entries } = await json(dir ? filePath(dir) : sessionPath(sessionId, "/files"));
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === "directory" ? -1 : 1));
  list.replaceChildren(
    ...entries.map((entry) => {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.kind === "directory") {
        const children = el("ul", { hidden: true });
        const button = el("button", { class: "dir", dataset: { path } }, entry.name);
        button.addEventListener("click", () =>
          guard(async () => {
            const open = button.classList.toggle("open");
            children.hidden = !open;
            if (open) await listInto(children, path);
          }),
        );
        return el("li", {}, button, children);
      }
      return el("li", {}, el("button", { class: "file", dataset: { path }, onclick: () => openFile(path) }, entry.name));
    }),
  );
  if (!entries.length && !dir) list.append(el("li", { class: "muted" }, "No files."));
}

/** Opens the file at `path` (as the tree names it) in the viewer. */
export async function openFile(path) {
  await guard(async () => {
    for (const b of document.querySelectorAll("#file-tree button.selected")) b.classList.remove("selected");
    document.querySelector(`#file-tree button.file[data-path="${CSS.escape(path)}"]`)?.classList.add("selected");
    const response = await request(filePath(path));
    const etag = response.headers.get("ETag");
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.subarray(0, 8000).includes(0)) {
      $("file-view").replaceChildren(
        el("div", { class: "bar" }, el("strong", { id: "file-path" }, path)),
        el("p", { class: "muted" }, `A binary file of ${bytes.length} bytes.`),
      );
      return;
    }
    showFile(path, new TextDecoder().decode(bytes), etag);
  });
}

function showFile(path, text, etag) {
  const edit = el("button", { class: "secondary", id: "edit-file" }, "Edit");
  edit.addEventListener("click", () => editFile(path, text, etag));
  $("file-view").replaceChildren(
    el("div", { class: "bar" }, el("strong", { id: "file-path" }, path), el("span", { class: "spacer" }), edit),
    el("pre", { id: "file-content" }, highlighted(path, text)),
  );
}

function editFile(path, text, etag) {
  const area = el("textarea", { id: "file-editor", spellcheck: "false" });
  area.value = text;
  const save = el("button", { id: "save-file" }, "Save");
  const cancel = el("button", { class: "secondary", onclick: () => showFile(path, text, etag) }, "Cancel");
  save.addEventListener("click", () =>
    guard(async () => {
      save.disabled = true;
      try {
        const response = await request(filePath(path), {
          method: "PUT",
          headers: etag ? { "If-Match": etag } : {},
          body: area.value,
        });
        showFile(path, area.value, response.headers.get("ETag"));
      } catch (e) {
        if (e.status === 412) {
          showError(`${path} changed since you opened it; reopen it to edit the current version`);
        } else throw e;
      } finally {
        save.disabled = false;
      }
    }),
  );
  $("file-view").replaceChildren(
    el("div", { class: "bar" }, el("strong", {}, `Editing ${path}`), el("span", { class: "spacer" }), cancel, save),
    area,
  );
  area.focus();
}
