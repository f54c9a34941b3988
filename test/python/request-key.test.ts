// The sticky canary in Python: the middleware llm-migrate adds sets the request's key in a
// context variable; gated calls with no key of their own (service modules) read it there.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { describeWithFastapi } from "../debian-python.js";
import { PYTHON, REPO } from "../paths.js";

const script = `
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import llm_api

llm_api.get_async_llm_client(pool_size=2, canary_percent=50)

def in_a_service_thread():
    return llm_api.use_new_llm_path(key=None)

async def request(user):
    llm_api.set_llm_request_key(user)  # what the middleware does
    async def service():  # another module's gated call: key=None
        return llm_api.use_new_llm_path(key=None)
    return [await service() for _ in range(3)] + [await asyncio.to_thread(in_a_service_thread)]

async def main():
    users = [f"user-{i}" for i in range(20)]
    paths = await asyncio.gather(*[asyncio.create_task(request(u)) for u in users])
    print(json.dumps({"paths": paths, "expected": [llm_api.is_in_canary(u, 50) for u in users]}))

asyncio.run(main())
`;

describeWithFastapi("the request's canary key (contextvars)", () => {
  it("keeps each user on one path in every module and worker thread, as its key's bucket says", () => {
    const out = JSON.parse(execFileSync(PYTHON, ["-c", script, join(REPO, "runtime", "python")], { encoding: "utf8" }));
    expect(out.paths).toEqual(out.expected.map((inCanary: boolean) => [inCanary, inCanary, inCanary, inCanary]));
    expect(new Set(out.expected).size).toBe(2);
  });
});
