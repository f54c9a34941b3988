import { defineFixtureSuite, fixtureSuites } from "./fixture-suites.js";

// The largest suite has a file of its own, so that it runs beside the others.
for (const suite of fixtureSuites().filter((s) => s.folder === "gate-call-sites")) defineFixtureSuite(suite);
