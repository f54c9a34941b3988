export { applyPlan, type ApplyOptions } from "./apply.js";
export { toRelative } from "./discover.js";
export { BadInputError, MigrateError, RefusedError, WriteFailedError } from "./errors.js";
export { toolPackage } from "./package-root.js";
export { planMigration, type MigrateFunction, type MigrationPlan, type PlanOptions, type PlanStatus, type PlannedChange } from "./plan.js";
export { rollbackMigration } from "./rollback.js";
export type { Manifest, ManifestFile } from "./state.js";
export { textOf } from "./text.js";
