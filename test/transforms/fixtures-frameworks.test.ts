import { defineFixtureSuite, fixtureSuites } from "./fixture-suites.js";

for (const suite of fixtureSuites().filter((s) => s.folder.startsWith("frameworks/"))) defineFixtureSuite(suite);
