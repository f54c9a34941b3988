import { Node, SyntaxKind } from "../../src/languages/typescript/ts-morph.js";
import type { ClassDeclaration, Expression, SourceFile } from "ts-morph";
import { detectStyle, endOfStatementLine, indentationAt } from "../../src/languages/typescript/source-style.js";
import type { FrameworkAdapter, RouteRegistration, TextEdit } from "./adapter.js";
import { importsModule, METRICS_PATH, semicolon, servesMetricsPath, statementOf } from "./shared.js";

const MODULES = ["@nestjs/common", "@nestjs/core"];
const ROUTE_DECORATORS = new Map([
  ["Get", "get"],
  ["Post", "post"],
  ["Put", "put"],
  ["Patch", "patch"],
  ["Delete", "delete"],
  ["Options", "options"],
  ["Head", "head"],
  ["All", "all"],
]);
const CONTROLLER = "LlmMetricsController";
const COMMON_NAMES = ["Controller", "Get", "Req", "Res"];

/**
 * NestJS: routes are decorated controller methods, so handlers are not wrapped; the runtime's
 * errors are mapped by a global exception filter, and /metrics/llm is a small controller added
 * to the root module.
 */
export const nest: FrameworkAdapter = {
  name: "nest",
  language: "typescript",
  modules: MODULES,

  detect(files) {
    return files.some((file) => importsModule(file, MODULES));
  },

  findRoutes(file) {
    const routes: RouteRegistration[] = [];
    for (const cls of file.getClasses()) {
      if (!cls.getDecorator("Controller")) continue;
      const statement = statementOf(cls);
      if (!statement) continue;
      for (const method of cls.getMethods()) {
        for (const decorator of method.getDecorators()) {
          const verb = ROUTE_DECORATORS.get(decorator.getName());
          if (!verb) continue;
          const call = decorator.getCallExpression();
          if (!call) continue;
          const receiver = cls.getNameNode() ?? cls;
          routes.push({ call, receiver: cls.getName() ?? "", receiverNode: receiver, method: verb, statement, handlers: [{ argument: call as Expression, fn: method }] });
        }
      }
    }
    return routes;
  },

  clientAddress() {
    // A Nest handler sees the request only through `@Req()`; without it there is no address to read.
    return undefined;
  },

  placeMetricsRoute(files, entryFile) {
    const module = rootModule(files, entryFile);
    const statement = module && statementOf(module);
    const decorator = module?.getDecorator("Module")?.getArguments()[0];
    if (!module || !statement || !Node.isObjectLiteralExpression(decorator)) return undefined;
    const file = module.getSourceFile();
    const edits: TextEdit[] = [commonImports(file)].filter((e): e is TextEdit => e !== undefined);
    const controllers = decorator.getProperty("controllers");
    const list = Node.isPropertyAssignment(controllers) ? controllers.getInitializer() : undefined;
    if (Node.isArrayLiteralExpression(list)) {
      const last = list.getElements().at(-1);
      edits.push(last ? { file, pos: last.getEnd(), text: `, ${CONTROLLER}` } : { file, pos: list.getStart() + 1, text: CONTROLLER });
    } else if (controllers === undefined) {
      edits.push(firstKey(decorator, `controllers: [${CONTROLLER}]`));
    } else {
      return undefined;
    }
    return { receiver: module.getName() ?? "", before: statement, edits };
  },

  routePrefix(files) {
    for (const file of files) {
      for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
        const callee = call.getExpression();
        const [prefix] = call.getArguments();
        if (Node.isPropertyAccessExpression(callee) && callee.getName() === "setGlobalPrefix" && Node.isStringLiteral(prefix)) {
          return `/${prefix.getLiteralValue().replace(/^\/+|\/+$/g, "")}`;
        }
      }
    }
    return undefined;
  },

  hasMetricsRoute: servesMetricsPath,

  metricsRoute(_place, { quote: q, indent, semicolons }) {
    const end = semicolon(semicolons);
    return [
      `@Controller()`,
      `class ${CONTROLLER} {`,
      `${indent}@Get(${q}${METRICS_PATH.slice(1)}${q})`,
      `${indent}async metrics(@Req() request: unknown, @Res() response: unknown): Promise<void> {`,
      `${indent}${indent}await sendLlmMetrics(request, response)${end}`,
      `${indent}}`,
      `}`,
    ].join("\n");
  },

  serverSetup(entryFile) {
    if (entryFile.getFullText().includes("LlmErrorFilter")) return undefined;
    const create = entryFile
      .getDescendantsOfKind(SyntaxKind.CallExpression)
      .find((call) => call.getExpression().getText() === "NestFactory.create");
    const app = create?.getFirstAncestorByKind(SyntaxKind.VariableDeclaration);
    const statement = app && statementOf(app);
    if (!app || !statement || !Node.isIdentifier(app.getNameNode())) return undefined;
    const end = semicolon(detectStyle(entryFile).semicolons);
    const indent = indentationAt(entryFile, statement.getStart());
    return {
      file: entryFile,
      pos: endOfStatementLine(entryFile, statement.getEnd()),
      text: `\n${indent}// llm-migrate: the runtime's retryable errors (full queue, deadline) become 503 + Retry-After.\n${indent}${app.getName()}.useGlobalFilters(new LlmErrorFilter())${end}`,
      names: ["LlmErrorFilter"],
    };
  },
};

/** The module `NestFactory.create(…)` starts, else the first `@Module` class. */
function rootModule(files: readonly SourceFile[], entryFile: SourceFile | undefined): ClassDeclaration | undefined {
  const create = entryFile
    ?.getDescendantsOfKind(SyntaxKind.CallExpression)
    .find((call) => call.getExpression().getText() === "NestFactory.create");
  const argument = create?.getArguments()[0];
  if (Node.isIdentifier(argument)) {
    const symbol = argument.getSymbol();
    const target = symbol?.isAlias() ? symbol.getAliasedSymbol() : symbol;
    const cls = target?.getDeclarations().find(Node.isClassDeclaration);
    if (cls?.getDecorator("Module")) return cls;
  }
  return files.flatMap((f) => f.getClasses()).find((cls) => cls.getDecorator("Module"));
}

/** Adds the decorators the controller uses to the file's import from @nestjs/common. */
function commonImports(file: SourceFile): TextEdit | undefined {
  const declaration = file.getImportDeclarations().find((d) => d.getModuleSpecifierValue() === "@nestjs/common");
  const present = new Set(declaration?.getNamedImports().map((n) => n.getName()) ?? []);
  const missing = COMMON_NAMES.filter((name) => !present.has(name));
  if (!missing.length) return undefined;
  const last = declaration?.getNamedImports().at(-1);
  if (last) return { file, pos: last.getEnd(), text: `, ${missing.join(", ")}` };
  const { quote: q, semicolons } = detectStyle(file);
  return { file, pos: 0, text: `import { ${missing.join(", ")} } from ${q}@nestjs/common${q}${semicolon(semicolons)}\n` };
}

/** A key put first in `@Module({ … })`, laid out like the keys already there (one a line, or inline). */
function firstKey(object: Node & { getProperties(): Node[] }, entry: string): TextEdit {
  const file = object.getSourceFile();
  const first = object.getProperties()[0];
  if (!first) return { file, pos: object.getStart() + 1, text: ` ${entry} ` };
  const multiline = object.getStartLineNumber() !== first.getStartLineNumber();
  return { file, pos: first.getStart(), text: multiline ? `${entry},\n${indentationAt(file, first.getStart())}` : `${entry}, ` };
}
