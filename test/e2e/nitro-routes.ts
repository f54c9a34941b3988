// Nitro's file routing, reduced to what the Nitro fixture needs (nitropack itself is not a dev
// dependency): each server/plugins/*.ts is run once first, then each server/api/**/<name>.<method>.ts
// is served at /api/<name> and each server/routes/**/<name>.<method>.ts at /<name>, by its default
// export, on an h3 router.
// Run with tsx in the migrated project's folder.
import { readdirSync } from "node:fs";
import { createServer } from "node:http";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { createApp, createRouter, toNodeListener, type EventHandler } from "h3";

const server = join(process.cwd(), "server");
for (const entry of readdirSync(join(server, "plugins"), { withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
  const plugin = (await import(pathToFileURL(join(server, "plugins", entry.name)).href)) as { default: (app: unknown) => void };
  plugin.default({});
}
const router = createRouter();
for (const [folder, prefix] of [["api", "/api"], ["routes", ""]] as const) {
  for (const entry of readdirSync(join(server, folder), { recursive: true, withFileTypes: true })) {
    const match = /^(.+)\.(get|post|put|patch|delete)\.ts$/.exec(entry.name);
    if (!entry.isFile() || !match) continue;
    const path = `${prefix}/${relative(join(server, folder), join(entry.parentPath, match[1]!)).split("\\").join("/")}`;
    const handler = ((await import(pathToFileURL(join(entry.parentPath, entry.name)).href)) as { default: EventHandler }).default;
    router[match[2] as "get" | "post" | "put" | "patch" | "delete"](path, handler);
  }
}
const app = createApp();
app.use(router);
const port = Number(process.env.PORT ?? 3000);
createServer(toNodeListener(app)).listen(port, "127.0.0.1", () => console.log(`nitro routes listening on http://127.0.0.1:${port}`));
