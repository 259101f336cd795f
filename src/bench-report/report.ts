// Puts one section into the benchmark report, leaving the others as the run that wrote them left them.

/**
 * The report with `section` (which starts with its `## ` heading) in place of
 * the section of that heading, or added: after the report's opening
 * paragraph when `first`, else at the end.
 */
export function replaceSection(report: string, section: string, first = false): string {
  const heading = section.split('\n', 1)[0] as string;
  const body = `${section.trimEnd()}\n`;
  const start = report.indexOf(`\n${heading}\n`);
  if (start !== -1) {
    const next = report.indexOf('\n## ', start + 1);
    const before = report.slice(0, start).trimEnd();
    const after = next === -1 ? '' : `\n${report.slice(next + 1)}`;
    return `${before}\n\n${body}${after}`;
  }
  const firstSection = report.indexOf('\n## ');
  if (!first || firstSection === -1) return `${report.trimEnd()}\n\n${body}`;
  return `${report.slice(0, firstSection).trimEnd()}\n\n${body}\n${report.slice(firstSection + 1)}`;
}
