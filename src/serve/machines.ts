// The machines file of `b2c serve`: which kernel, initramfs archives and command line each MAC address boots, checked before anything is served.

import { Document, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { ARCHITECTURES, type Architecture } from '../architectures.ts';
import { parseCmdline } from '../cmdline/parse.ts';
import { outputNames } from '../image/output-names.ts';
import { normalizeMac } from '../mac.ts';
import { upstreamWarnings, type RegistryCacheSpec } from './registries-plan.ts';
import { isAbsolute, join } from 'node:path';

/** What one machine (or every machine not named) boots. */
export interface MachineBoot {
  /** The MAC address in lower case with colons, or `default`. */
  key: string;
  arch: Architecture;
  /** Absolute paths. */
  kernel: string;
  /** In the order the bootloader loads them: the initramfs, then add-ons. */
  initrds: string[];
  cmdline: string;
}

export interface MachinesTable {
  /** By MAC address, lower case with colons. */
  machines: Map<string, MachineBoot>;
  default?: MachineBoot;
}

export interface MachinesReading {
  table: MachinesTable;
  /** Each names the machine it is about; any error refuses the whole file. */
  errors: string[];
  warnings: string[];
}

/** Where relative paths start, and where `b2c build` left the files a machine boots when its entry names none. */
export interface MachinesContext {
  /** The machines file's folder. */
  fileDir: string;
  /** `b2c build`'s output folder, absolute. */
  outDir: string;
  /** The registry caches b2c serve runs, and the gateway address machines reach them at: a line that bypasses one is warned about. */
  registryCaches?: { gateway: string; caches: readonly RegistryCacheSpec[] };
}

const FIELDS = ['cmdline', 'arch', 'kernel', 'initrd'] as const;

/** The entry a machine boots: its own, or the default; undefined when the file offers it nothing. */
export function bootFor(table: MachinesTable, mac: string): MachineBoot | undefined {
  const normalized = normalizeMac(mac);
  return (normalized === undefined ? undefined : table.machines.get(normalized)) ?? table.default;
}

/**
 * A word iPXE would not pass to the kernel: its script language takes a
 * lone `&&`, `||` or `;` as the end of a command and a word starting with
 * `#` as a comment, and b2c cannot quote them in a `kernel` line.
 */
export function ipxeProblem(cmdline: string): string | undefined {
  const word = cmdline.split(/\s+/).find((item) => item === '&&' || item === '||' || item === ';' || item.startsWith('#'));
  if (word === undefined) return undefined;
  const fix = word.startsWith('#') ? 'start no word with #' : `write ${word} without blanks around it (a shell reads make${word}make test alike)`;
  return `iPXE would read '${word}' as ${word.startsWith('#') ? 'the start of a comment' : 'the end of its command'} and cut the line there: ${fix}`;
}

function scalarText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const value = node.value;
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

function absolute(path: string, context: MachinesContext): string {
  return isAbsolute(path) ? path : join(context.fileDir, path);
}

/** One entry, or the errors that refuse it; each message starts with the machine's name. */
function readEntry(name: string, key: string, node: unknown, context: MachinesContext, warnings: string[]): MachineBoot | string[] {
  if (!isMap(node)) return [`${name}: give a mapping with cmdline (and arch, kernel, initrd if needed)`];
  const errors: string[] = [];
  const fields = new Map<string, Node | null>();
  for (const pair of node.items) {
    const field = scalarText(pair.key) ?? '';
    if (!(FIELDS as readonly string[]).includes(field)) errors.push(`${name}: unknown field '${field}': the fields are ${FIELDS.join(', ')}`);
    else fields.set(field, pair.value as Node | null);
  }
  const archName = fields.has('arch') ? scalarText(fields.get('arch')) : 'amd64';
  const arch = archName === undefined || !Object.hasOwn(ARCHITECTURES, archName) ? undefined : ARCHITECTURES[archName];
  if (arch === undefined) errors.push(`${name}: arch ${archName ?? '(not a name)'} is not one of ${Object.keys(ARCHITECTURES).join(', ')}`);
  const cmdline = scalarText(fields.get('cmdline'));
  if (!fields.has('cmdline')) errors.push(`${name}: no cmdline: give the kernel command line this machine boots with`);
  else if (cmdline === undefined) errors.push(`${name}: cmdline must be text (quote it in YAML)`);
  else if (/[\r\n]/.test(cmdline)) errors.push(`${name}: cmdline must be one line`);
  else {
    const ipxe = ipxeProblem(cmdline);
    if (ipxe !== undefined) errors.push(`${name}: cmdline: ${ipxe}`);
    const config = parseCmdline(cmdline);
    for (const error of config.errors) errors.push(`${name}: cmdline: ${error}`);
    for (const warning of config.warnings) warnings.push(`${name}: cmdline: ${warning}`);
    if (context.registryCaches !== undefined) {
      const { gateway, caches } = context.registryCaches;
      for (const warning of upstreamWarnings(config, caches, gateway)) warnings.push(`${name}: cmdline: ${warning}`);
    }
    // The kernel writes to the screen unless told otherwise: a serial reader, and b2c run --netboot, would see the firmware and then nothing.
    if (!/(^|\s)console=/.test(cmdline))
      warnings.push(`${name}: cmdline: no console=: the machine's output goes to its screen only; add console=ttyS0,115200 (ttyAMA0 on ARM boards)`);
  }
  const names = outputNames(arch?.debian ?? 'amd64');
  let kernel = join(context.outDir, names.kernel);
  if (fields.has('kernel')) {
    const text = scalarText(fields.get('kernel'));
    if (text === undefined || text === '') errors.push(`${name}: kernel must be a file's path`);
    else kernel = absolute(text, context);
  }
  let initrds = [join(context.outDir, names.initramfs.xz)];
  if (fields.has('initrd')) {
    const value = fields.get('initrd');
    const items = isSeq(value) ? value.items.map((item) => scalarText(item)) : [scalarText(value)];
    if (items.length === 0 || items.some((item) => item === undefined || item === '')) errors.push(`${name}: initrd must be a file's path or a list of them`);
    else initrds = items.map((item) => absolute(item as string, context));
  }
  if (errors.length > 0 || arch === undefined || cmdline === undefined) return errors;
  return { key, arch, kernel, initrds, cmdline };
}

/**
 * Reads a machines file (YAML, so JSON too): a `default` entry and one entry
 * per MAC address, each with `cmdline` and optionally `arch`, `kernel` and
 * `initrd`. Every command line is checked as `b2c cmdline` checks it.
 */
export function readMachines(text: string, context: MachinesContext): MachinesReading {
  const errors: string[] = [];
  const warnings: string[] = [];
  const table: MachinesTable = { machines: new Map() };
  const parsed = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (parsed.errors.length > 0) {
    return { table, errors: parsed.errors.map((error) => `the file does not parse: ${error.message.split('\n')[0] ?? ''}`), warnings };
  }
  // Aliases (`*common`) stand for what they name: read again as plain values, the file has none left.
  let root: unknown;
  try {
    root = new Document(parsed.toJS({ maxAliasCount: 1000 })).contents;
  } catch (error) {
    return { table, errors: [`the file does not parse: ${error instanceof Error ? error.message : String(error)}`], warnings };
  }
  if (root === null || (isScalar(root) && root.value === null))
    return { table, errors: ['the file names no machine: give a default entry or a MAC address'], warnings };
  if (!isMap(root)) return { table, errors: ['the file must be a mapping from MAC addresses (or default) to machine entries'], warnings };
  const seen = new Map<string, string>();
  for (const pair of root.items) {
    const name = scalarText(pair.key) ?? '(a key that is not text)';
    const key = name === 'default' ? 'default' : normalizeMac(name);
    if (key === undefined) {
      errors.push(`${name}: neither default nor a MAC address such as 52:54:00:12:34:56`);
      continue;
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      errors.push(`${name}: the same machine as ${earlier}, named twice`);
      continue;
    }
    seen.set(key, name);
    const entry = readEntry(name, key, pair.value, context, warnings);
    if (Array.isArray(entry)) errors.push(...entry);
    else if (key === 'default') table.default = entry;
    else table.machines.set(key, entry);
  }
  return { table, errors, warnings };
}

/** Every file the table serves, once, with the machines that boot it: to check them before serving. */
export function filesOf(table: MachinesTable): Map<string, string[]> {
  const files = new Map<string, string[]>();
  for (const entry of [...table.machines.values(), ...(table.default === undefined ? [] : [table.default])]) {
    for (const file of [entry.kernel, ...entry.initrds]) files.set(file, [...(files.get(file) ?? []), entry.key]);
  }
  return files;
}
