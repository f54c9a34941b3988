// Preloaded (`node --require`) into an llm-migrate child by the safety tests to simulate a run that
// is killed (SIGKILL) or held (SIGSTOP) half-way, with no hook in the engine: right after the Nth
// file lands in the target — an atomic write ends with rename(), backups and the manifest under
// .llm-migrate/ not counted — the process signals itself. With SAFETY_FAULT_BEFORE_RENAME=1 it
// signals itself just before that rename instead, leaving the temp file written but not renamed.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const fault = process.env.SAFETY_FAULT;
const after = Number(process.env.SAFETY_FAULT_AFTER_WRITES);
const marker = process.env.SAFETY_FAULT_MARKER;
const beforeRename = process.env.SAFETY_FAULT_BEFORE_RENAME === "1";
let writes = 0;
const rename = fs.rename;

fs.rename = function renameThenMaybeSignal(from, to, callback) {
  if (beforeRename) {
    if (!String(to).split(path.sep).includes(".llm-migrate") && ++writes === after) {
      if (marker) fs.writeFileSync(marker, `${process.pid}\n`);
      process.kill(process.pid, fault);
    }
    return rename.call(fs, from, to, callback);
  }
  return rename.call(fs, from, to, (err) => {
    if (!err && !String(to).split(path.sep).includes(".llm-migrate") && ++writes === after) {
      if (marker) fs.writeFileSync(marker, `${process.pid}\n`);
      process.kill(process.pid, fault);
    }
    callback(err);
  });
};
