import { defineFixtureSuite, fixtureSuites } from "./fixture-suites.js";

// gate-call-sites and frameworks/ have files of their own (fixtures-*.test.ts), run beside this one.
for (const suite of fixtureSuites().filter((s) => s.folder !== "gate-call-sites" && !s.folder.startsWith("frameworks/"))) defineFixtureSuite(suite);
