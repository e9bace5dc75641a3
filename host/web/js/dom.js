// Small DOM helpers: building elements, showing errors, markdown and code highlighting.

import { marked } from "../vendor/marked.esm.js";
import hljs from "../vendor/highlight.min.js";

/** `el("div", {class: "x", onclick: f}, child, "text")`: an element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

/** Shows an error as a message at the top right, until dismissed (or 15 s pass). */
export function showError(error) {
  const text = typeof error === "string" ? error : error?.message || String(error);
  console.error(error);
  const box = document.getElementById("errors");
  const message = el("div", { class: "error" }, el("span", {}, text));
  message.append(el("button", { class: "link", "aria-label": "Dismiss", onclick: () => message.remove() }, "×"));
  box.append(message);
  setTimeout(() => message.remove(), 15_000);
}

/** Runs `f`, showing its failure as an error message. */
export async function guard(f) {
  try {
    return await f();
  } catch (e) {
    showError(e);
    return undefined;
  }
}

marked.use({
  gfm: true,
  breaks: false,
  renderer: {
    code({ text, lang }) {
      const language = lang && hljs.getLanguage(lang) ? lang : null;
      const html = language
        ? hljs.highlight(text, { language, ignoreIllegals: true }).value
        : hljs.highlightAuto(text).value;
      return `<pre><code class="hljs">${html}</code></pre>`;
    },
  },
});

/** Markdown as sanitized HTML, code blocks highlighted. */
export function markdown(text) {
  const html = marked.parse(text ?? "");
  return window.DOMPurify ? window.DOMPurify.sanitize(html) : escapeHtml(text ?? "");
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const EXTENSIONS = {
  ts: "typescript", tsx: "typescript", js: "javascript", mjs: "javascript", jsx: "javascript",
  rs: "rust", py: "python", md: "markdown", json: "json", toml: "ini", yml: "yaml", yaml: "yaml",
  sh: "bash", html: "xml", xml: "xml", css: "css", go: "go", c: "c", h: "c", cpp: "cpp", java: "java",
};

/** A `<code>` of `text` highlighted as the language of `path` (guessed when unknown). */
export function highlighted(path, text) {
  const ext = path.split(".").pop().toLowerCase();
  const language = EXTENSIONS[ext] && hljs.getLanguage(EXTENSIONS[ext]) ? EXTENSIONS[ext] : null;
  const code = el("code", { class: "hljs" });
  code.innerHTML =
    text.length > 500_000
      ? escapeHtml(text)
      : language
        ? hljs.highlight(text, { language, ignoreIllegals: true }).value
        : hljs.highlightAuto(text).value;
  return code;
}

/** A short "3 min ago" for milliseconds since the epoch. */
export function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}
