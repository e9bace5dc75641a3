// node:url: file URL helpers (there is no WHATWG URL class in this runtime).
(function (pw, load) {
  "use strict";
  const path = load("path");
  function fileURLToPath(url) {
    const href = typeof url === "string" ? url : url.href;
    if (!href.startsWith("file://")) throw new TypeError("The URL must be of scheme file");
    return decodeURIComponent(href.slice("file://".length));
  }
  function pathToFileURL(file) {
    const href = "file://" + encodeURI(path.resolve(file));
    return { href, pathname: path.resolve(file), protocol: "file:", toString: () => href };
  }
  return { fileURLToPath, pathToFileURL };
})
