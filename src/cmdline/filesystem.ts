// Parser for b2c.filesystem="NAME,type=T,src=S,opts=a|b": a filesystem a volume or the cache can mount.

import type { FilesystemConfig } from './config.ts';
import { NAME, type OptionResult } from './values.ts';

export function parseFilesystem(value: string): OptionResult<FilesystemConfig> {
  const [name = '', ...options] = value.split(',');
  if (!NAME.test(name)) return { errors: [`b2c.filesystem: "${name}" is not a filesystem name (letters, digits, _ . -)`], warnings: [] };
  const filesystem: Partial<FilesystemConfig> & { name: string; opts: string[] } = { name, opts: [] };
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const option of options) {
    const equals = option.indexOf('=');
    const key = equals === -1 ? option : option.slice(0, equals);
    const optionValue = equals === -1 ? '' : option.slice(equals + 1);
    if (equals !== -1 && optionValue === '' && key !== 'src') warnings.push(`b2c.filesystem=${name}: ${key}= is empty (a template left it unset?): ignored`);
    else if (key === 'type') filesystem.type = optionValue;
    else if (key === 'src') filesystem.src = optionValue;
    else if (key === 'opts') filesystem.opts = optionValue.split('|').filter((item) => item !== '');
    else warnings.push(`b2c.filesystem=${name}: unknown option ${key} ignored; b2c knows type=, src= and opts=a|b`);
  }
  if (!filesystem.src) errors.push(`b2c.filesystem=${name} needs src= (the device or source to mount)`);
  if (errors.length > 0) return { errors, warnings };
  return { value: filesystem as FilesystemConfig, errors, warnings };
}
