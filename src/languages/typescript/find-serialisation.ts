import { Node, SyntaxKind } from "./ts-morph.js";

/** Something that lets one LLM call run at a time (or a few per interval). */
export interface Serialisation {
  node: Node;
  /** How it serialises, in the user's words: `PQueue({ concurrency: 1 })`, `Mutex`, `promise chain`. */
  what: string;
  /** A queue with `interval`/`intervalCap`: kept on purpose as a rate limit. */
  rateLimit: boolean;
}

const QUEUE_CLASSES = /^(PQueue|Queue)$/;
const MUTEX_CLASSES = /^(Mutex|Semaphore|Lock|AsyncLock)$/;

/** Queues with concurrency 1 or a rate limit, mutexes and promise chains inside `scope`. */
export function findSerialisation(scope: Node): Serialisation[] {
  const found: Serialisation[] = [];
  for (const construction of scope.getDescendantsOfKind(SyntaxKind.NewExpression)) {
    const name = construction.getExpression().getText().split(".").pop()!;
    const [options] = construction.getArguments();
    if (QUEUE_CLASSES.test(name) && Node.isObjectLiteralExpression(options)) {
      const number = (key: string) => {
        const property = options.getProperty(key);
        return Node.isPropertyAssignment(property) ? property.getInitializer()?.getText() : undefined;
      };
      const rateLimit = number("interval") !== undefined || number("intervalCap") !== undefined;
      if (number("concurrency") === "1" || rateLimit) found.push({ node: construction, what: `${name}(${options.getText().replace(/\s+/g, " ")})`, rateLimit });
    } else if (MUTEX_CLASSES.test(name)) {
      const permits = construction.getArguments()[0]?.getText();
      if (permits === undefined || permits === "1") found.push({ node: construction, what: name, rateLimit: false });
    }
  }
  for (const call of scope.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    // p-limit's `pLimit(1)`
    if (/^p?[lL]imit$/.test(call.getExpression().getText()) && call.getArguments()[0]?.getText() === "1") {
      found.push({ node: call, what: "pLimit(1)", rateLimit: false });
    }
  }
  for (const assignment of scope.getDescendantsOfKind(SyntaxKind.BinaryExpression)) {
    if (assignment.getOperatorToken().getKind() !== SyntaxKind.EqualsToken) continue;
    const target = assignment.getLeft().getText();
    // `this.chain = this.chain.then(() => …)`: each call waits for the one before it.
    if (assignment.getRight().getText().replace(/\s+/g, "").startsWith(`${target.replace(/\s+/g, "")}.then(`)) {
      found.push({ node: assignment, what: "promise chain", rateLimit: false });
    }
  }
  return found;
}
