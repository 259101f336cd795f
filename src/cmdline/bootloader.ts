// Picks the kernel arguments out of a bootloader script (iPXE, GRUB, SYSLINUX) or takes a bare command line as it is.

export interface KernelArguments {
  line: string;
  /** Where the line came from, in words. */
  source: string;
  notes: string[];
}

// iPXE's `kernel`/`chain` options that take a value.
const IPXE_VALUE_OPTIONS = new Set(['--name', '-n', '--timeout', '-t']);

/** What follows the kernel image on a `kernel URL args` or `linux /vmlinuz args` line, blanks and quotes kept. */
function afterImage(rest: string): string {
  const words = [...rest.matchAll(/\S+/g)];
  let i = 0;
  while (i < words.length && (words[i] as RegExpMatchArray)[0].startsWith('-')) i += IPXE_VALUE_OPTIONS.has((words[i] as RegExpMatchArray)[0]) ? 2 : 1;
  const image = words[i];
  return image === undefined ? '' : rest.slice(image.index + image[0].length).trim();
}

export function kernelArgumentsOf(text: string): KernelArguments {
  const found: Array<{ keyword: string; args: string }> = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    const match = /^(kernel|linux|linuxefi|linux16|imgargs|append)\s+(.*)$/i.exec(line);
    if (!match) continue;
    const keyword = (match[1] as string).toLowerCase();
    // SYSLINUX's APPEND holds only arguments; every other keyword names an image first.
    found.push({ keyword, args: keyword === 'append' ? (match[2] as string) : afterImage(match[2] as string) });
  }
  if (found.length === 0) {
    return {
      line: text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'))
        .join(' '),
      source: 'the command line as given',
      notes: [],
    };
  }
  // SYSLINUX names the kernel on a KERNEL line of its own and gives the arguments on APPEND.
  const withArguments = found.filter((entry) => entry.args !== '');
  const candidates = withArguments.length > 0 ? withArguments : found;
  const first = candidates[0] as { keyword: string; args: string };
  const notes = candidates.length > 1 ? [`${candidates.length} kernel lines found: checking the first (${first.keyword})`] : [];
  return { line: first.args, source: `the arguments of the ${first.keyword} line`, notes };
}
