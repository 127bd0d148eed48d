/** A fenced code block of a Markdown document. */
export interface CodeBlock {
  /** The first word of the info string (`ts`, `sh`, ...). */
  language: string;
  code: string;
  /** The nearest heading above the block. */
  heading: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** Every fenced (```) code block of a Markdown text, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    const open = /^```(\S*)/.exec(line);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    blocks.push({ language: open[1] ?? '', code: `${body.join('\n')}\n`, heading, line: start + 1 });
  }
  return blocks;
}
