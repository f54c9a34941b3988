// Prints the README's reason-code table: `npx tsx scripts/reason-table.ts`.
import { reasonTableMarkdown } from "../src/report/reason-table.js";

process.stdout.write(reasonTableMarkdown());
