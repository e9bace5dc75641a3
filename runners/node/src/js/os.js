// node:os: the few facts a WASI sandbox can state.
(function (pw, load) {
  "use strict";
  return {
    EOL: "\n",
    platform: () => pw.platform,
    type: () => "WASI",
    arch: () => "wasm32",
    homedir: () => process.env.HOME ?? "/",
    tmpdir: () => "/tmp",
    hostname: () => "localhost",
    cpus: () => [],
    totalmem: () => 0,
    freemem: () => 0,
  };
})
