export { verifyServer, BodyError, type VerifyOptions, type VerifyResult, type PhaseSummary } from "./run.js";
export { verifyJson, verifyTable, verifyText } from "./report.js";
export { parseRoute, formatRoute, type Route } from "./routes.js";
export { bootServer, freePort, stoppingServersOnSignals, BootError, type ServerProcess } from "./processes.js";
export type { Check, CheckName } from "./checks.js";
