// Parser for b2c.storage="KEY=VALUE[,…]": podman storage options, of which b2c carries out additionalimagestores=NAME[,NAME…].

import type { StorageConfig } from './config.ts';
import { NAME, type OptionResult } from './values.ts';

/**
 * Values are lists, so a word without `=` belongs to the key before it:
 * `additionalimagestores=a,b` names two stores.
 */
export function parseStorage(value: string): OptionResult<StorageConfig> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const storage: StorageConfig = { additionalImageStores: [] };
  let key: string | undefined;
  for (const word of value.split(',')) {
    const equals = word.indexOf('=');
    if (equals !== -1) key = word.slice(0, equals);
    const item = equals === -1 ? word : word.slice(equals + 1);
    if (key === undefined) {
      errors.push(`b2c.storage: "${word}" is not KEY=VALUE, e.g. b2c.storage="additionalimagestores=publicimgstore"`);
    } else if (key === 'additionalimagestores') {
      if (NAME.test(item)) storage.additionalImageStores.push(item);
      else errors.push(`b2c.storage: additionalimagestores names b2c.filesystems; "${item}" is not a name (letters, digits, _ . -)`);
    } else if (equals !== -1) {
      warnings.push(`b2c.storage: ${key} is not a storage option b2c sets, ignored; b2c knows additionalimagestores=NAME[,NAME…]`);
    }
  }
  return errors.length > 0 ? { errors, warnings } : { value: storage, errors, warnings };
}
