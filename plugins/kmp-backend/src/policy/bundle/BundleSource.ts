import fs from 'node:fs';
import path from 'node:path';
import { Document, LineCounter, parseDocument, Scalar } from 'yaml';

/** Where in a bundle file a problem is. */
export interface BundleIssue {
  /** Path relative to the bundle directory, e.g. `overlays/production.yaml`. */
  file: string;
  ruleId?: string;
  line?: number;
  column?: number;
  message: string;
}

export function formatIssue(issue: BundleIssue): string {
  const where =
    issue.line !== undefined
      ? `${issue.file}:${issue.line}:${issue.column ?? 1}`
      : issue.file;
  return `${where}${issue.ruleId ? ` rule '${issue.ruleId}'` : ''}: ${
    issue.message
  }`;
}

/**
 * A policy bundle that does not validate. The message lists every problem
 * with file, line, column and rule id, one per line.
 */
export class PolicyBundleError extends Error {
  constructor(readonly issues: BundleIssue[]) {
    super(
      `Invalid policy bundle (${issues.length} problem${
        issues.length === 1 ? '' : 's'
      }):\n${issues.map(i => `  ${formatIssue(i)}`).join('\n')}`,
    );
    this.name = 'PolicyBundleError';
  }
}

export type YamlPath = (string | number)[];

/** One YAML file of the bundle, with what is needed to point into it. */
export class BundleSource {
  private constructor(
    readonly file: string,
    readonly text: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  static parse(
    file: string,
    text: string,
  ): {
    source: BundleSource;
    issues: BundleIssue[];
  } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
    const source = new BundleSource(file, text, doc, lines);
    const issues = [...doc.errors, ...doc.warnings].map(error => {
      const pos = lines.linePos(error.pos[0]);
      return {
        file,
        line: pos.line,
        column: pos.col,
        message: error.message.split('\n')[0],
      };
    });
    return { source, issues };
  }

  static read(dir: string, file: string) {
    return BundleSource.parse(
      file,
      fs.readFileSync(path.join(dir, file), 'utf8'),
    );
  }

  get data(): unknown {
    return this.doc.toJS();
  }

  /**
   * The position of the node at `yamlPath`, or of its nearest existing
   * ancestor. With `offset`, the position of that character of a string
   * value (exact for plain, quoted and literal block scalars; folded block
   * scalars point at their first line).
   */
  position(
    yamlPath: YamlPath,
    offset?: number,
  ): { line: number; column: number } {
    for (let n = yamlPath.length; n >= 0; n--) {
      const node = this.doc.getIn(yamlPath.slice(0, n), true) as
        | { range?: [number, number, number] }
        | undefined;
      if (node && node.range) {
        const start = node.range[0];
        if (offset === undefined || n !== yamlPath.length) {
          const pos = this.lines.linePos(start);
          return { line: pos.line, column: pos.col };
        }
        return this.offsetPosition(node as Scalar, start, offset);
      }
    }
    return { line: 1, column: 1 };
  }

  private offsetPosition(node: Scalar, start: number, offset: number) {
    const startPos = this.lines.linePos(start);
    if (node.type === 'PLAIN') {
      return this.fromOffset(start + offset);
    }
    if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') {
      const raw = this.text.slice(start, (node.range as number[])[1]);
      if (!raw.includes('\n') && !raw.includes('\\') && !raw.includes("''")) {
        return this.fromOffset(start + 1 + offset);
      }
      return { line: startPos.line, column: startPos.col };
    }
    if (node.type === 'BLOCK_LITERAL') {
      const value = String(node.value);
      const before = value.slice(0, offset);
      const lineInBlock = before.split('\n').length - 1;
      const lineStart = before.lastIndexOf('\n') + 1;
      const firstContent = this.text.indexOf('\n', start) + 1;
      const indent = /^ */.exec(this.text.slice(firstContent))![0].length;
      return {
        line: startPos.line + 1 + lineInBlock,
        column: indent + 1 + (offset - lineStart),
      };
    }
    return { line: startPos.line + 1, column: startPos.col };
  }

  private fromOffset(offset: number) {
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  issue(
    yamlPath: YamlPath,
    message: string,
    options: { ruleId?: string; offset?: number } = {},
  ): BundleIssue {
    return {
      file: this.file,
      ruleId: options.ruleId,
      ...this.position(yamlPath, options.offset),
      message,
    };
  }
}
