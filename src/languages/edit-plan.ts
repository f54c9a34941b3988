/** One text edit: replace [start, end) of a file's text (an insertion when start === end). */
export interface PlannedEdit {
  start: number;
  end: number;
  text: string;
  /** Placed before the other edits at the same position. */
  first?: boolean;
  /** Once the plan is applied: where its text starts in the new file. */
  newStart?: number;
}

/**
 * Text edits collected while analysing and applied together at the end, for any language: each
 * language says how a file takes its edits (`applyTo`). Applying them one by one would make the
 * nodes still to be visited stale. All transforms of a run share one plan, so the project is
 * analysed once. Edits at the same position apply in the order they were added, except that
 * `first` ones go before the others; `applyTo` gets them in that order.
 */
export class EditPlan<File> {
  private readonly edits = new Map<File, PlannedEdit[]>();

  constructor(private readonly applyTo: (file: File, edits: readonly PlannedEdit[]) => void) {}

  insert(file: File, pos: number, text: string, options: { first?: boolean } = {}): PlannedEdit {
    return this.replace(file, pos, pos, text, options);
  }

  replace(file: File, start: number, end: number, text: string, { first = false }: { first?: boolean } = {}): PlannedEdit {
    const edit: PlannedEdit = { start, end, text, ...(first ? { first } : {}) };
    const list = this.edits.get(file) ?? [];
    list.push(edit);
    this.edits.set(file, list);
    return edit;
  }

  get changedFiles(): File[] {
    return [...this.edits.keys()];
  }

  apply(): void {
    for (const [file, edits] of this.edits) {
      const ordered = edits
        .map((edit, order) => ({ edit, order }))
        .sort((a, b) => a.edit.start - b.edit.start || Number(!!b.edit.first) - Number(!!a.edit.first) || a.order - b.order)
        .map(({ edit }) => edit);
      let done = 0;
      let shift = 0;
      for (const edit of ordered) {
        // Two transforms changing the same text would each need to see the other's result.
        if (edit.start < done) throw new Error(`llm-migrate: two edits overlap at offset ${edit.start} of ${String((file as { getFilePath?(): string }).getFilePath?.() ?? file)}`);
        edit.newStart = edit.start + shift;
        shift += edit.text.length - (edit.end - edit.start);
        done = edit.end;
      }
      this.applyTo(file, ordered);
    }
    this.edits.clear();
  }
}

/** A file's text with the edits applied back to front, so that the offsets still to apply stay right. */
export function applyToText(text: string, edits: readonly PlannedEdit[]): string {
  const backToFront = edits.map((edit, order) => ({ ...edit, order })).sort((a, b) => b.start - a.start || b.order - a.order);
  for (const edit of backToFront) text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  return text;
}
