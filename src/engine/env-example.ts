import type { MigrationSettings } from "../../transforms/types.js";

/** Where projects document their settings, in order of preference; `.env` itself is never touched. */
export const SETTINGS_FILES = [".env.example", ".env.sample"] as const;

function settingsLines(settings: MigrationSettings): [name: string, value: string][] {
  return [
    ["LLM_POOL_SIZE", String(settings.poolSize)],
    ["LLM_CANARY_PERCENT", String(settings.canaryPercent)],
    ["FORCE_LEGACY_LLM", "false"],
    ["DISABLE_POOL", "false"],
    ["EMERGENCY_MODE", "false"],
    ["LLM_MAX_QUEUE", ""],
    ["LLM_TIMEOUT_MS", ""],
  ];
}

/**
 * Appends the settings of the migrated client that the file does not mention yet, under one
 * comment block. Returns undefined when all of them are already there (a second run adds nothing).
 */
export function appendLlmSettings(text: string, settings: MigrationSettings, runtimeReadme: string): string | undefined {
  const missing = settingsLines(settings).filter(([name]) => !new RegExp(`^\\s*(export\\s+)?${name}\\s*=`, "m").test(text));
  if (missing.length === 0) return undefined;
  const block = [
    `# llm-migrate: settings of the process-wide LLM client (see ${runtimeReadme} for when each is read; the switches within a second, no restart).`,
    "# LLM_POOL_SIZE: concurrent upstream calls per process. LLM_CANARY_PERCENT: share of users on the new path.",
    "# FORCE_LEGACY_LLM, DISABLE_POOL: roll back to the original calls. EMERGENCY_MODE: shed load beyond the pool.",
    "# LLM_MAX_QUEUE, LLM_TIMEOUT_MS: queue bound, and one deadline for queue wait and retries (empty: the runtime's default).",
    ...missing.map(([name, value]) => `${name}=${value}`),
  ].join("\n");
  if (text.length === 0) return block + "\n";
  const separator = text.endsWith("\n") ? "\n" : "\n\n";
  return text + separator + block + "\n";
}
