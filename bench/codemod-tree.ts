// Synthetic Express projects for `npm run bench:codemod`: a server, one shared OpenAI client,
// about 40 route modules that call it, and ordinary 50–300-line modules that have nothing to do
// with an LLM (the bulk of any real tree). Deterministic, so every run measures the same bytes.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export const ROUTE_MODULES = 40;
/** The call every route makes, and the shape ast-grep is given to rewrite. */
export const CALL_PATTERN = "openai.chat.completions.create($$$ARGS)";

/** Small linear congruential generator: the same tree on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const NOUNS = ["order", "invoice", "customer", "ticket", "report", "shipment", "account", "payment", "session", "profile", "catalog", "review"];
const VERBS = ["normalise", "validate", "summarise", "merge", "sort", "filter", "score", "format", "parse", "group", "rank", "index"];

/** One ordinary module: types, pure functions and a small class, importing a few earlier modules. */
function ordinaryModule(index: number, imports: number[], lines: number, next: () => number): string {
  const noun = NOUNS[index % NOUNS.length]!;
  const Type = `${noun[0]!.toUpperCase()}${noun.slice(1)}${index}`;
  const out: string[] = [`// ${noun} helpers, module ${index}.`];
  for (const other of imports) out.push(`import { ${VERBS[other % VERBS.length]}${other} } from "./module-${other}.js";`);
  out.push(
    "",
    `export interface ${Type} {`,
    "  id: string;",
    "  createdAt: Date;",
    "  amount: number;",
    "  tags: string[];",
    "  notes?: string;",
    "}",
    "",
    `export const DEFAULT_${noun.toUpperCase()}_LIMIT_${index} = ${10 + Math.floor(next() * 90)};`,
    "",
  );
  const verb = VERBS[index % VERBS.length]!;
  out.push(
    `export function ${verb}${index}(items: ${Type}[]): ${Type}[] {`,
    "  const seen = new Set<string>();",
    `  const result: ${Type}[] = [];`,
    "  for (const item of items) {",
    "    if (seen.has(item.id)) continue;",
    "    seen.add(item.id);",
    "    result.push({ ...item, tags: [...item.tags].sort() });",
    "  }",
    ...imports.map((other) => `  ${VERBS[other % VERBS.length]}${other}(result as never[]);`),
    "  return result;",
    "}",
    "",
  );
  let helper = 0;
  while (out.length < lines - 12) {
    helper += 1;
    const kind = Math.floor(next() * 3);
    if (kind === 0) {
      out.push(
        `export function total${index}x${helper}(items: readonly ${Type}[], minimum = ${Math.floor(next() * 100)}): number {`,
        "  let sum = 0;",
        "  for (const item of items) {",
        "    if (item.amount < minimum) continue;",
        `    sum += item.amount * ${(1 + next()).toFixed(2)};`,
        "  }",
        "  return Math.round(sum * 100) / 100;",
        "}",
        "",
      );
    } else if (kind === 1) {
      out.push(
        `export function describe${index}x${helper}(item: ${Type}): string {`,
        "  const parts = [item.id, item.createdAt.toISOString()];",
        "  if (item.notes) parts.push(item.notes.trim());",
        `  if (item.tags.length > ${Math.floor(next() * 5)}) parts.push(item.tags.join(", "));`,
        `  return parts.join(" | ");`,
        "}",
        "",
      );
    } else {
      out.push(
        `export class ${Type}Store${helper} {`,
        `  private readonly byId = new Map<string, ${Type}>();`,
        "",
        `  add(item: ${Type}): void {`,
        "    this.byId.set(item.id, item);",
        "  }",
        "",
        `  get(id: string): ${Type} | undefined {`,
        "    return this.byId.get(id);",
        "  }",
        "",
        `  since(date: Date): ${Type}[] {`,
        "    return [...this.byId.values()].filter((item) => item.createdAt >= date);",
        "  }",
        "}",
        "",
      );
    }
  }
  return out.join("\n") + "\n";
}

function routeModule(index: number, helpers: number[]): string {
  const out = [`import { Router } from "express";`, `import { openai } from "../llm.js";`];
  for (const helper of helpers) out.push(`import { ${VERBS[helper % VERBS.length]}${helper} } from "../lib/module-${helper}.js";`);
  out.push(
    "",
    `export const route${index} = Router();`,
    "",
    `route${index}.post("/ask-${index}", async (req, res) => {`,
    "  const question = String(req.body.question ?? \"\");",
    ...helpers.map((helper) => `  ${VERBS[helper % VERBS.length]}${helper}([]);`),
    "  const completion = await openai.chat.completions.create({",
    `    model: "gpt-4o-mini",`,
    `    messages: [{ role: "user", content: question }],`,
    "  });",
    "  res.json({ answer: completion.choices[0]?.message.content ?? \"\" });",
    "});",
  );
  return out.join("\n") + "\n";
}

function serverModule(routes: number): string {
  const out = [`import express from "express";`];
  for (let i = 0; i < routes; i++) out.push(`import { route${i} } from "./routes/route-${i}.js";`);
  out.push("", "const app = express();", "app.use(express.json());");
  for (let i = 0; i < routes; i++) out.push(`app.use("/api", route${i});`);
  out.push("", "app.listen(Number(process.env.PORT ?? 3000));");
  return out.join("\n") + "\n";
}

const CLIENT_MODULE = `import OpenAI from "openai";\n\nexport const openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });\n`;

function packageFiles(name: string): Record<string, string> {
  return {
    "package.json": JSON.stringify({ name, private: true, type: "module", dependencies: { express: "^4.21.2", openai: "^4.77.0" } }, null, 2) + "\n",
    "tsconfig.json":
      JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true }, include: ["src"] }, null, 2) + "\n",
  };
}

async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

/** An Express project of `total` source files, ROUTE_MODULES of which call the shared client. */
export async function writeExpressProject(dir: string, total: number): Promise<void> {
  const next = random(total);
  const ordinary = total - ROUTE_MODULES - 2;
  const files: Record<string, string> = { ...packageFiles(`synthetic-${total}`), "src/server.ts": serverModule(ROUTE_MODULES), "src/llm.ts": CLIENT_MODULE };
  for (let i = 0; i < ordinary; i++) {
    const imports = i < 3 ? [] : Array.from({ length: Math.floor(next() * 4) }, () => Math.floor(next() * i)).filter((v, k, a) => a.indexOf(v) === k);
    files[`src/lib/module-${i}.ts`] = ordinaryModule(i, imports, 50 + Math.floor(next() * 250), next);
  }
  for (let i = 0; i < ROUTE_MODULES; i++) {
    const helpers = [Math.floor(next() * ordinary), Math.floor(next() * ordinary)].filter((v, k, a) => a.indexOf(v) === k);
    files[`src/routes/route-${i}.ts`] = routeModule(i, helpers);
  }
  await writeTree(dir, files);
}

/**
 * A project holding one source file of about `bytes` bytes (under the 1 MiB read limit): the
 * client, the app and a route every ~40 functions among ordinary ones, all in one module.
 */
export async function writeBigFileProject(dir: string, bytes: number): Promise<void> {
  const next = random(bytes);
  const out = [`import express from "express";`, `import OpenAI from "openai";`, "", "const openai = new OpenAI();", "const app = express();", "app.use(express.json());", ""];
  let size = out.join("\n").length;
  for (let i = 0; size < bytes - 4000; i++) {
    const chunk =
      i % 40 === 0
        ? routeModule(i, []).split("\n").slice(3).join("\n").replace(`export const route${i} = Router();`, "").replaceAll(`route${i}.post`, "app.post")
        : ordinaryModule(i, [], 20 + Math.floor(next() * 40), next).split("\n").slice(1).join("\n").replaceAll("export ", "");
    out.push(chunk);
    size += chunk.length + 1;
  }
  out.push("app.listen(Number(process.env.PORT ?? 3000));");
  await writeTree(dir, { ...packageFiles("synthetic-big-file"), "src/server.ts": out.join("\n") + "\n" });
}
