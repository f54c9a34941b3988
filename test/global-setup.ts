// Once per run, before the test workers start: what they would otherwise each work out again.
import { answerForWorkers } from "./python-imports.js";

export default function setup(): void {
  answerForWorkers();
}
