/** One text edit: replace [start, end) of a file's text (an insertion when start === end). */
export interface PlannedEdit {
  start: number;
  end: number;
  text: string;
}

/**
 * Text edits collected while analysing and applied together at the end, for any language: each
 * language says how a file takes its edits (`applyTo`). Applying them one by one would make the
 * nodes still to be visited stale. Edits at the same position apply in the order they were added.
 */
export class EditPlan<File> {
  private readonly edits = new Map<File, PlannedEdit[]>();

  constructor(private readonly applyTo: (file: File, edits: readonly PlannedEdit[]) => void) {}

  insert(file: File, pos: number, text: string): void {
    this.replace(file, pos, pos, text);
  }

  replace(file: File, start: number, end: number, text: string): void {
    const list = this.edits.get(file) ?? [];
    list.push({ start, end, text });
    this.edits.set(file, list);
  }

  get changedFiles(): File[] {
    return [...this.edits.keys()];
  }

  apply(): void {
    for (const [file, edits] of this.edits) this.applyTo(file, edits);
    this.edits.clear();
  }
}

/** A file's text with the edits applied back to front, so that the offsets still to apply stay right. */
export function applyToText(text: string, edits: readonly PlannedEdit[]): string {
  const backToFront = edits.map((edit, order) => ({ ...edit, order })).sort((a, b) => b.start - a.start || b.order - a.order);
  for (const edit of backToFront) text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  return text;
}
