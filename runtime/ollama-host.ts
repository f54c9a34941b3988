/**
 * The OpenAI-compatible API (`/v1`) of the Ollama server that the `ollama` CLI on this machine
 * talks to: OLLAMA_HOST read as Ollama reads it (envconfig.Host in github.com/ollama/ollama), so
 * that a migrated `ollama run` reaches the same server. The scheme defaults to http and the host
 * to 127.0.0.1; the port to 11434, or 80 / 443 when a scheme is given; a path is kept (a server
 * behind a proxy). An unspecified address (0.0.0.0, ::) or an empty host is reached at loopback.
 */
export function ollamaBaseUrl(env: Record<string, string | undefined> = process.env): string {
  let value = (env["OLLAMA_HOST"] ?? "").trim().replace(/^["']+|["']+$/g, "").trim();
  if (value === "ollama.com") value = "https://ollama.com:443";
  let scheme = "http";
  let defaultPort = "11434";
  const schemeEnd = value.indexOf("://");
  if (schemeEnd !== -1) {
    scheme = value.slice(0, schemeEnd);
    value = value.slice(schemeEnd + 3);
    if (scheme === "http") defaultPort = "80";
    else if (scheme === "https") defaultPort = "443";
  }
  const slash = value.indexOf("/");
  const path = slash === -1 ? "" : value.slice(slash + 1);
  const hostport = slash === -1 ? value : value.slice(0, slash);
  let { host, port } = splitHostPort(hostport) ?? { host: hostport.replace(/^\[|\]$/g, ""), port: defaultPort };
  if (!/^\d+$/.test(port) || Number(port) > 65535) port = defaultPort;
  if (host === "" || host === "0.0.0.0") host = "127.0.0.1";
  else if (host === "::") host = "::1";
  const hostText = host.includes(":") ? `[${host}]` : host;
  return `${scheme}://${hostText}:${port}${path ? `/${path.replace(/\/+$/, "")}` : ""}/v1`;
}

/** Go's net.SplitHostPort for the forms OLLAMA_HOST takes: `host:port`, `[v6]:port`, `:port`; undefined without a port. */
function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  const bracketed = hostport.match(/^\[([^\]]*)\]:([^:]*)$/);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! };
  const colons = hostport.split(":").length - 1;
  if (colons !== 1) return undefined; // no port, or a bare IPv6 address
  const at = hostport.indexOf(":");
  return { host: hostport.slice(0, at), port: hostport.slice(at + 1) };
}
