import { InvalidArgumentError } from "commander";

/** An empty folder argument (`scan ''`, an unset shell variable) would otherwise mean the current folder. */
export function folder(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("must name a folder");
  return value;
}
