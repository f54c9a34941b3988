// One LLM limit across replicas, under faults (not a test): `npm run bench:cluster`.
// The Express and FastAPI examples, migrated by the CLI, run as 4 TypeScript replicas and 1 Python
// replica sharing one redis-server (LLM_GLOBAL_POOL_SIZE=12) in front of the stub at L = 300 ms.
// 80 callers drive them round-robin, as a load balancer would: a replica that refuses or drops
// a connection is taken out and the request goes to the next one. Mid-run one replica is
// kill -9'ed, and redis-server is stopped and started again (empty). The stub counts calls in
// flight throughout. The last line is the one to grep:
//   cluster: peak=… limit=12 goodput_ratio=… failed=… recover_s=…
import { setTimeout as sleep } from "node:timers/promises";
import { bootServer, stoppingServersOnSignals, type ServerProcess } from "../src/verify/processes.js";
import { RedisServer } from "../test/redis/redis-server.js";
import { chatBody, copyExample, migrate, START } from "./examples.js";
import { startStubProcess } from "./support.js";

const LIMIT = 12;
const LATENCY_MS = 300;
const CALLERS = 80;
const LEASE_MS = 2000;
/** Seconds from the start of the load: the kill, Redis stopped, Redis started again, the end. */
const KILL_AT = 5;
const REDIS_DOWN_AT = 11;
const REDIS_UP_AT = 14;
const END_AT = 22;

interface Replica {
  name: string;
  server: ServerProcess;
  body: string;
  alive: boolean;
  latenciesMs: number[];
}

interface Tally {
  ok: number;
  failed: number;
  rerouted: number;
  failures: Map<string, number>;
}

async function startReplicas(stubUrl: string, redisUrl: string): Promise<Replica[]> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENAI_BASE_URL: stubUrl,
    OPENAI_API_KEY: "sk-bench-not-a-secret",
    LLM_REDIS_URL: redisUrl,
    LLM_GLOBAL_POOL_SIZE: String(LIMIT),
    LLM_POOL_SIZE: String(LIMIT),
    LLM_REDIS_LEASE_MS: String(LEASE_MS),
  };
  const kinds = [
    { example: "express-ts", key: "userId", count: 4, prefix: "ts" },
    { example: "fastapi", key: "user_id", count: 1, prefix: "py" },
  ] as const;
  const replicas: Replica[] = [];
  for (const kind of kinds) {
    const dir = copyExample(kind.example);
    const notMigrated = migrate(dir, LIMIT);
    if (notMigrated) throw new Error(`${kind.example}: ${notMigrated}`);
    for (let i = 1; i <= kind.count; i++) {
      const server = await bootServer({ command: START[kind.example], cwd: dir, env });
      replicas.push({ name: `${kind.prefix}${i}`, server, body: chatBody(kind.key), alive: true, latenciesMs: [] });
    }
  }
  return replicas;
}

async function post(replica: Replica): Promise<number> {
  const response = await fetch(`${replica.server.url}/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: replica.body });
  await response.text();
  return response.status;
}

/** One caller: a call after another until the end, to the next live replica each time. */
async function caller(index: number, replicas: Replica[], endAt: number, tally: Tally): Promise<void> {
  let next = index;
  while (Date.now() < endAt) {
    const live = replicas.filter((replica) => replica.alive);
    const replica = live[next++ % live.length]!;
    const startedAt = Date.now();
    let status: number;
    try {
      status = await post(replica);
    } catch {
      // Refused or dropped: the replica is gone; the balancer takes it out and sends the call elsewhere.
      replica.alive = false;
      tally.rerouted++;
      continue;
    }
    if (status === 200) {
      tally.ok++;
      replica.latenciesMs.push(Date.now() - startedAt);
    } else {
      tally.failed++;
      tally.failures.set(`${replica.name} HTTP ${status}`, (tally.failures.get(`${replica.name} HTTP ${status}`) ?? 0) + 1);
    }
  }
}

async function stubStats(control: string): Promise<{ inFlight: number; peakInFlight: number }> {
  return (await (await fetch(`${control}/stats`)).json()) as { inFlight: number; peakInFlight: number };
}

const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
const fixed = (value: number, digits = 2) => value.toFixed(digits);

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const stub = await startStubProcess(["--latency", String(LATENCY_MS)]);
  const control = stub.url.replace(/\/v1$/, "/_stub");
  let replicas: Replica[] = [];
  await stoppingServersOnSignals(
    async () => {
      replicas = await startReplicas(stub.url, redis.url);
      // Warm up: every replica reaches Redis and the stub once before the clock starts.
      await Promise.all(replicas.map((replica) => post(replica)));
      await sleep(LEASE_MS / 2);
      await fetch(`${control}/reset`, { method: "POST" });

      const startedAt = Date.now();
      const at = (seconds: number) => startedAt + seconds * 1000;
      const tally: Tally = { ok: 0, failed: 0, rerouted: 0, failures: new Map() };
      const okAt: number[] = [];
      const samples: Array<{ t: number; inFlight: number }> = [];
      const callers = Array.from({ length: CALLERS }, (_, i) => caller(i, replicas, at(END_AT), tally));
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          samples.push({ t: Date.now(), inFlight: (await stubStats(control)).inFlight });
          okAt.push(tally.ok);
          await sleep(20);
        }
      })();
      const fairnessBefore = (): string[] => replicas.map((replica) => `${replica.name}=${fixed(mean(replica.latenciesMs) - LATENCY_MS, 0)}`);

      await sleep(at(KILL_AT) - Date.now());
      const fairness = fairnessBefore();
      const victim = replicas[1]!;
      const killedAt = Date.now();
      process.kill(-victim.server.pid, "SIGKILL");
      victim.alive = false;
      process.stderr.write(`cluster: t=${KILL_AT}s kill -9 ${victim.name}\n`);
      await sleep(at(REDIS_DOWN_AT) - Date.now());
      await redis.stop();
      process.stderr.write(`cluster: t=${REDIS_DOWN_AT}s redis-server stopped\n`);
      await sleep(at(REDIS_UP_AT) - Date.now());
      await redis.restart();
      process.stderr.write(`cluster: t=${REDIS_UP_AT}s redis-server started again (empty)\n`);
      await Promise.all(callers);
      const endedAt = Date.now();
      sampling = false;
      await sampler;

      const { peakInFlight } = await stubStats(control);
      // The dead replica's slots are back when the stub again sees the whole pool busy.
      const dipped = samples.findIndex((sample) => sample.t >= killedAt && sample.inFlight < LIMIT);
      const back = dipped < 0 ? -1 : samples.findIndex((sample, i) => i > dipped && sample.inFlight >= LIMIT);
      const recoverS = dipped < 0 ? 0 : back < 0 ? Number.NaN : (samples[back]!.t - killedAt) / 1000;
      const seconds = (endedAt - startedAt) / 1000;
      const goodput = tally.ok / seconds / (LIMIT / (LATENCY_MS / 1000));
      const phase = (from: number, to: number) => {
        const inside = samples.map((sample, i) => ({ ...sample, ok: okAt[i]! })).filter((s) => s.t >= at(from) && s.t <= at(to));
        if (inside.length < 2) return "n/a";
        const first = inside[0]!;
        const last = inside[inside.length - 1]!;
        const rate = (last.ok - first.ok) / ((last.t - first.t) / 1000);
        const busy = mean(inside.map((s) => s.inFlight));
        return `${fixed(rate / (LIMIT / (LATENCY_MS / 1000)))} (in flight: mean ${fixed(busy, 1)}, peak ${Math.max(...inside.map((s) => s.inFlight))})`;
      };
      const spread = fairness.map((entry) => Number(entry.split("=")[1]));
      console.log(`cluster: ${CALLERS} callers, ${replicas.length} replicas (4 TS, 1 Python), limit ${LIMIT}, L=${LATENCY_MS} ms, lease ${LEASE_MS} ms, ${fixed(seconds, 1)} s`);
      console.log(`cluster: fairness before the kill, mean wait by replica (ms): ${fairness.join(" ")} (max-min ${fixed(Math.max(...spread) - Math.min(...spread), 0)} ms)`);
      console.log(`cluster: goodput by phase: steady ${phase(1, KILL_AT)}, after kill ${phase(KILL_AT, REDIS_DOWN_AT)}, redis down ${phase(REDIS_DOWN_AT, REDIS_UP_AT)}, redis back ${phase(REDIS_UP_AT, END_AT)}`);
      console.log(`cluster: ok=${tally.ok} rerouted_after_kill=${tally.rerouted}${[...tally.failures].map(([what, n]) => ` ${what}: ${n}`).join("")}`);
      console.log(`cluster: peak=${peakInFlight} limit=${LIMIT} goodput_ratio=${fixed(goodput)} failed=${tally.failed} recover_s=${fixed(recoverS)}`);
    },
    async () => {
      await Promise.all(replicas.map((replica) => replica.server.stop()));
      stub.child.kill();
      await redis.close();
    },
  );
  await Promise.all(replicas.map((replica) => replica.server.stop()));
  stub.child.kill();
  await redis.close();
}

await main();
