// Git: the current branch and HEAD, the download link and the clone URL, the working tree's diff
// against HEAD, and the log with each commit's diff. Diffs are drawn by diff2html (loaded the
// first time a diff is shown), unified or side by side.

import { download, json, sessionPath, token } from "./api.js";
import { el, guard } from "./dom.js";

const $ = (id) => document.getElementById(id);
let sessionId = null;
let shown = null;

/** Shows the git state of session `id`. */
export async function openGit(id) {
  sessionId = id;
  $("diff").replaceChildren(el("p", { class: "muted" }, "Loading…"));
  const [worktree, { commits }] = await Promise.all([
    json(sessionPath(id, "/diff")),
    json(sessionPath(id, "/log?limit=100")),
  ]);
  if (sessionId !== id) return;
  renderSummary(id, worktree);
  renderLog(commits);
  await showDiff("Working tree against HEAD", worktree.files);
}

function renderSummary(id, worktree) {
  const clone = `${location.origin}/session/${id}/git`;
  const cloneCommand = token()
    ? `git -c http.extraHeader="Authorization: Bearer <token>" clone ${clone}`
    : `git clone ${clone}`;
  const archive = el("a", { href: sessionPath(id, "/archive.tar.gz"), id: "download-archive" }, "Download archive.tar.gz");
  archive.addEventListener("click", (event) => {
    event.preventDefault();
    guard(() => download(sessionPath(id, "/archive.tar.gz"), `${id}.tar.gz`));
  });
  $("git-summary").replaceChildren(
    el("span", {}, "Branch ", el("code", { id: "git-branch" }, worktree.branch ?? "(detached HEAD)")),
    el("span", {}, "HEAD ", el("code", {}, worktree.head ? worktree.head.slice(0, 10) : "(no commits)")),
    archive,
    el("span", {}, "Clone ", el("code", { id: "clone-url" }, cloneCommand)),
    el("button", { class: "secondary", onclick: () => guard(() => navigator.clipboard.writeText(cloneCommand)) }, "Copy"),
  );
}

function renderLog(commits) {
  const working = el("button", { class: "selected" }, el("strong", {}, "Working tree"), el("div", { class: "sha" }, "uncommitted changes"));
  working.addEventListener("click", () =>
    guard(async () => {
      select(working);
      const worktree = await json(sessionPath(sessionId, "/diff"));
      await showDiff("Working tree against HEAD", worktree.files);
    }),
  );
  const items = commits.map((c) => {
    const button = el(
      "button",
      { dataset: { commit: c.id } },
      el("div", {}, c.message.split("\n")[0]),
      el("div", { class: "sha" }, `${c.id.slice(0, 10)} · ${c.authorName} · ${new Date(c.time * 1000).toLocaleString()}`),
    );
    button.addEventListener("click", () =>
      guard(async () => {
        select(button);
        const { commit, files } = await json(sessionPath(sessionId, `/log/${c.id}`));
        await showDiff(`Commit ${commit.id.slice(0, 10)}: ${commit.message.split("\n")[0]}`, files);
      }),
    );
    return el("li", {}, button);
  });
  $("git-log").replaceChildren(el("li", {}, working), ...items);
}

function select(button) {
  for (const b of document.querySelectorAll("#git-log button.selected")) b.classList.remove("selected");
  button.classList.add("selected");
}

/** Unified diff text of the API's file diffs, as diff2html reads it. */
function patchText(files) {
  return files
    .map((f) => {
      const head = [`diff --git a/${f.path} b/${f.path}`];
      if (f.change === "A") head.push("new file mode 100644");
      if (f.change === "D") head.push("deleted file mode 100644");
      if (f.binary) return [...head, `Binary files a/${f.path} and b/${f.path} differ`].join("\n");
      head.push(f.change === "A" ? "--- /dev/null" : `--- a/${f.path}`);
      head.push(f.change === "D" ? "+++ /dev/null" : `+++ b/${f.path}`);
      const hunks = f.hunks.map(
        (h) => `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@\n${h.lines.join("\n")}`,
      );
      return [...head, ...hunks].join("\n");
    })
    .join("\n");
}

let diff2html = null;

/** Loads diff2html's script and style once. */
function loadDiff2Html() {
  diff2html ??= new Promise((resolve, reject) => {
    document.head.append(el("link", { rel: "stylesheet", href: "/web/vendor/diff2html.min.css" }));
    const script = el("script", { src: "/web/vendor/diff2html.min.js" });
    script.addEventListener("load", () => resolve(window.Diff2Html));
    script.addEventListener("error", () => {
      diff2html = null;
      reject(new Error("could not load the diff viewer"));
    });
    document.head.append(script);
  });
  return diff2html;
}

async function showDiff(title, files) {
  shown = { title, files };
  $("diff-title").textContent = title;
  const box = $("diff");
  if (!files.length) {
    box.replaceChildren(el("p", { class: "muted", id: "diff-empty" }, "No changes."));
    return;
  }
  const { html } = await loadDiff2Html();
  const style = document.querySelector('input[name="diff-style"]:checked').value;
  box.innerHTML = html(patchText(files), { drawFileList: true, matching: "lines", outputFormat: style });
}

/** Wires the unified / side-by-side switch. */
export function setUpGit() {
  for (const radio of document.querySelectorAll('input[name="diff-style"]')) {
    radio.addEventListener("change", () => shown && guard(() => showDiff(shown.title, shown.files)));
  }
}
