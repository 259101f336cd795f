// Types for the parts of QuickJS's own 'std' and 'os' modules that b2c uses (quickjs 2025-04-26).

declare module 'std' {
  export interface FILE {
    puts(text: string): void;
    seek(offset: number, whence: number): number;
    read(buffer: ArrayBuffer, position: number, length: number): number;
    write(buffer: ArrayBuffer, position: number, length: number): number;
    error(): boolean;
    readAsString(maxSize?: number): string;
    flush(): void;
    close(): number;
  }
  export const SEEK_SET: number;
  export const out: FILE;
  export const err: FILE;
  export function open(path: string, flags: string, errorObject?: { errno?: number }): FILE | null;
  export function fdopen(fd: number, flags: string): FILE | null;
  export function strerror(errno: number): string;
  export function getenv(name: string): string | undefined;
}

declare module 'os' {
  export interface ExecOptions {
    block?: boolean;
    usePath?: boolean;
    file?: string;
    cwd?: string;
    stdin?: number;
    stdout?: number;
    stderr?: number;
    env?: Record<string, string>;
  }
  /** With block: false, the child's pid; a negative errno when the program could not be started. */
  export function exec(argv: string[], options?: ExecOptions): number;
  /** [pid or -errno, raw wait status] */
  export function waitpid(pid: number, options: number): [number, number];
  export const WNOHANG: number;
  export function pipe(): [number, number] | null;
  export function close(fd: number): number;
  /** A file descriptor, or a negative errno. */
  export function open(path: string, flags: number, mode?: number): number;
  export const O_WRONLY: number;
  export const O_CREAT: number;
  export const O_APPEND: number;
  export const O_RDONLY: number;
  export function read(fd: number, buffer: ArrayBuffer, offset: number, length: number): number;
  export function sleep(milliseconds: number): void;
  export function sleepAsync(milliseconds: number): Promise<void>;
  /** A timer the event loop runs once; the handle is for clearTimeout. */
  export function setTimeout(handler: () => void, milliseconds: number): unknown;
  export function clearTimeout(handle: unknown): void;
  export function readdir(path: string): [string[], number];
  export function mkdir(path: string, mode?: number): number;
  /** mtime in milliseconds since the epoch. */
  export function stat(path: string): [{ mode: number; size: number; mtime: number }, number];
  export function lstat(path: string): [{ mode: number; size: number; mtime: number }, number];
  export function remove(path: string): number;
  export function rename(oldPath: string, newPath: string): number;
  export function symlink(target: string, linkPath: string): number;
  /** Runs the handler from the event loop when the signal arrives; null restores the default. */
  export function signal(signal: number, handler: (() => void) | null): void;
  export const SIGCHLD: number;
  export const S_IFMT: number;
  export const S_IFDIR: number;
  export const S_IFREG: number;
  export const S_IFLNK: number;
}

/** Set by the bundler: the version of b2c this init belongs to. */
declare const B2C_VERSION: string;
