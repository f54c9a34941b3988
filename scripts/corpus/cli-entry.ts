/** Runs the CLI from source (the corpus spawns this under tsx, so no build is needed). */
import { main } from "../../src/cli/index.js";

process.exitCode = await main(process.argv);
