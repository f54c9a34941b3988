/** A route as the user names it on the command line: `POST /chat`. Kept apart so option parsing loads no parser. */
export interface Route {
  method: string;
  path: string;
}

export function formatRoute(route: Route): string {
  return `${route.method} ${route.path}`;
}

/** `"POST /chat"` → `{ method: "POST", path: "/chat" }`; undefined when it is not that shape. */
export function parseRoute(text: string): Route | undefined {
  const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(text);
  return match ? { method: match[1]!.toUpperCase(), path: match[2]! } : undefined;
}
