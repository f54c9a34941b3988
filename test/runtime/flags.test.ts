// Switches flipped without a restart (seen within SWITCH_REFRESH_MS, or at once after reloadLlmSwitches) and the stable canary.
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import {
  canaryBucket,
  gateLlmCall,
  getAsyncLlmClient,
  getPathCounts,
  isInCanary,
  LlmOverloadedError,
  SWITCH_REFRESH_MS,
  useNewLlmPath,
} from "../../runtime/index.js";
import { envFlag } from "../../runtime/flags.js";
import { setSwitch, useStubUpstream } from "./support.js";

const upstream = useStubUpstream();

interface CanaryVector {
  key: string;
  hash: number;
  bucket: number;
  inCanary: Record<string, boolean>;
}
const vectors: CanaryVector[] = JSON.parse(
  readFileSync(new URL("../../fixtures/canary-vectors.json", import.meta.url), "utf8"),
).vectors;

describe("boolean flags", () => {
  it.each(["true", "TRUE", "1", "yes", "Yes", "on", " on "])("reads %j as on", (value) => {
    process.env.FORCE_LEGACY_LLM = value;
    expect(envFlag("FORCE_LEGACY_LLM")).toBe(true);
  });

  it.each(["false", "0", "no", "off", "", "enabled"])("reads %j as off", (value) => {
    process.env.FORCE_LEGACY_LLM = value;
    expect(envFlag("FORCE_LEGACY_LLM")).toBe(false);
  });
});

describe("useNewLlmPath", () => {
  it("takes the legacy path while no client was created", () => {
    expect(useNewLlmPath({ key: "user-1" })).toBe(false);
    expect(getPathCounts()).toEqual({ new: 0, legacy: 1 });
  });

  it("sees a flip of the environment within SWITCH_REFRESH_MS, without a restart or a reload", () => {
    vi.useFakeTimers();
    try {
      getAsyncLlmClient({ poolSize: 2 });
      expect(useNewLlmPath({ key: "user-1" })).toBe(true);
      process.env.FORCE_LEGACY_LLM = "true";
      // Until the period ends the last reading stands; then the flip is seen.
      expect(useNewLlmPath({ key: "user-1" })).toBe(true);
      vi.advanceTimersByTime(SWITCH_REFRESH_MS);
      expect(useNewLlmPath({ key: "user-1" })).toBe(false);
      delete process.env.FORCE_LEGACY_LLM;
      vi.advanceTimersByTime(SWITCH_REFRESH_MS);
      expect(useNewLlmPath({ key: "user-1" })).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it("follows FORCE_LEGACY_LLM, DISABLE_POOL and LLM_CANARY_PERCENT after each flip, counting each path", () => {
    getAsyncLlmClient({ poolSize: 2, canaryPercent: 100 });
    expect(useNewLlmPath({ key: "user-1" })).toBe(true);

    setSwitch("FORCE_LEGACY_LLM", "true");
    expect(useNewLlmPath({ key: "user-1" })).toBe(false);
    setSwitch("FORCE_LEGACY_LLM", "false");
    expect(useNewLlmPath({ key: "user-1" })).toBe(true);

    setSwitch("DISABLE_POOL", "yes");
    expect(useNewLlmPath({ key: "user-1" })).toBe(false);
    setSwitch("DISABLE_POOL", undefined);

    setSwitch("LLM_CANARY_PERCENT", "0");
    expect(useNewLlmPath({ key: "user-1" })).toBe(false);
    setSwitch("LLM_CANARY_PERCENT", "100");
    expect(useNewLlmPath({ key: "user-1" })).toBe(true);

    expect(getPathCounts()).toEqual({ new: 3, legacy: 3 });
    expect(getAsyncLlmClient().getMetrics().paths).toEqual({ new: 3, legacy: 3 });
  });

  it("uses canaryPercent from getAsyncLlmClient until LLM_CANARY_PERCENT says otherwise", () => {
    getAsyncLlmClient({ poolSize: 2, canaryPercent: 0 });
    expect(useNewLlmPath({ key: "user-1" })).toBe(false);
    setSwitch("LLM_CANARY_PERCENT", "100");
    expect(useNewLlmPath({ key: "user-1" })).toBe(true);
  });

  it("sheds load as soon as EMERGENCY_MODE is set, and queues again once it is cleared", async () => {
    upstream.stub().configure({ hang: true });
    const client = getAsyncLlmClient({ poolSize: 1 });
    const stop = new AbortController();
    const sdk = upstream.sdk();
    const ask = () =>
      client.run((request) => sdk.responses.create({ model: "gpt-4o-mini", input: "hi" }, request), { signal: stop.signal });
    const holding = ask().catch((err) => err);
    setSwitch("EMERGENCY_MODE", "1");
    expect(await ask().catch((err) => err)).toBeInstanceOf(LlmOverloadedError);
    setSwitch("EMERGENCY_MODE", "0");
    const queued = ask().catch((err) => err);
    expect(client.getMetrics().queued).toBe(1);
    stop.abort();
    await Promise.all([holding, queued]);
  });
});

describe("gateLlmCall", () => {
  it("runs an SDK call through the pool on the new path and as the original call on the legacy path", async () => {
    const sdk = upstream.sdk();
    const seen: unknown[] = [];
    const ask = () =>
      gateLlmCall({ key: "user-1" }, (options) => {
        seen.push(options);
        return sdk.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }, options);
      });
    const client = getAsyncLlmClient({ poolSize: 2 });
    expect((await ask()).choices[0]?.message.content).toBe("echo: hi");
    setSwitch("FORCE_LEGACY_LLM", "true");
    expect((await ask()).choices[0]?.message.content).toBe("echo: hi");

    expect(seen[0]).toMatchObject({ maxRetries: 0 });
    expect(seen[1]).toBeUndefined();
    expect(client.getMetrics()).toMatchObject({ requestsTotal: 1, paths: { new: 1, legacy: 1 } });
    expect(upstream.stub().stats().requests).toBe(2);
  });
});

describe("the canary", () => {
  it("matches the published test vectors (shared with the Python runtime)", () => {
    expect(vectors.length).toBeGreaterThan(10);
    for (const vector of vectors) {
      expect(canaryBucket(vector.key)).toBe(vector.bucket);
      expect(vector.hash % 10000).toBe(vector.bucket);
      for (const [percent, expected] of Object.entries(vector.inCanary)) {
        expect(isInCanary(vector.key, Number(percent))).toBe(expected);
      }
    }
  });

  it("hashes keys, not their last digit, and reads numbers as their text", () => {
    expect(canaryBucket(42)).toBe(canaryBucket("42"));
    expect(canaryBucket(undefined)).toBe(canaryBucket(""));
    const buckets = new Set(["user-10", "user-20", "user-30", "user-40"].map(canaryBucket));
    expect(buckets.size).toBe(4);
  });

  it.each([1, 5, 10, 25, 50, 75, 90, 99])(
    "puts %i %% of 10,000 users on the new path (±2 points), the same users every time",
    (percent) => {
      const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
      const chosen = keys.filter((key) => isInCanary(key, percent));
      expect(Math.abs((chosen.length / keys.length) * 100 - percent)).toBeLessThanOrEqual(2);
      expect(keys.filter((key) => isInCanary(key, percent))).toEqual(chosen);
    },
  );

  it("only adds users as the percentage grows", () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `account-${i}`);
    const at10 = keys.filter((key) => isInCanary(key, 10));
    const at50 = new Set(keys.filter((key) => isInCanary(key, 50)));
    expect(at10.every((key) => at50.has(key))).toBe(true);
  });

  it("draws calls with no user key at random, so the canary still holds its share", () => {
    getAsyncLlmClient({ poolSize: 2 });
    setSwitch("LLM_CANARY_PERCENT", "30");
    const chosen = Array.from({ length: 10_000 }, () => useNewLlmPath({})).filter(Boolean).length;
    expect(Math.abs(chosen / 100 - 30)).toBeLessThanOrEqual(2);
    setSwitch("LLM_CANARY_PERCENT", "0");
    expect(Array.from({ length: 100 }, () => useNewLlmPath({ key: "" })).some(Boolean)).toBe(false);
  });

  it("gives each user one stable answer through useNewLlmPath", () => {
    getAsyncLlmClient({ poolSize: 2 });
    setSwitch("LLM_CANARY_PERCENT", "30");
    const first = Array.from({ length: 200 }, (_, i) => useNewLlmPath({ key: `user-${i}` }));
    const again = Array.from({ length: 200 }, (_, i) => useNewLlmPath({ key: `user-${i}` }));
    expect(again).toEqual(first);
  });
});
