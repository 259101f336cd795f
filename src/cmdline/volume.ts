// Parser for b2c.volume="NAME,opts": a podman volume, where it syncs with S3 and when, how long it lives, how it is encrypted.

import { SYNC_CONDITIONS, type SyncCondition, type VolumeConfig } from './config.ts';
import { Secret } from './secret.ts';
import { NAME, type OptionResult } from './values.ts';

function parseConditions(option: string, text: string, errors: string[], warnings: string[], volume: string): SyncCondition[] {
  const conditions: SyncCondition[] = [];
  for (const condition of text.split('|')) {
    if ((SYNC_CONDITIONS as readonly string[]).includes(condition)) {
      if (!conditions.includes(condition as SyncCondition)) conditions.push(condition as SyncCondition);
    } else {
      errors.push(`b2c.volume=${volume}: ${option}=${condition} is not a condition; use ${SYNC_CONDITIONS.join(', ')}, joined by |`);
    }
  }
  // `changes` syncs continuously and once more at the end: other conditions add nothing.
  if (conditions.includes('changes') && conditions.length > 1) {
    const ignored = conditions.filter((item) => item !== 'changes').join('|');
    warnings.push(`b2c.volume=${volume}: ${option}=changes already syncs continuously and at pipeline end; ${ignored} ignored`);
    return ['changes'];
  }
  return conditions;
}

export function parseVolume(value: string): OptionResult<VolumeConfig> {
  const [name = '', ...options] = value.split(',');
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!NAME.test(name)) return { errors: [`b2c.volume: "${name}" is not a volume name (letters, digits, _ . -)`], warnings };
  const volume: VolumeConfig = {
    name,
    pullOn: [],
    pushOn: [],
    expiration: 'never',
    overwrite: false,
    remove: false,
    preserve: false,
    exclude: [],
    fscryptResetKey: false,
  };
  let pullOn: SyncCondition[] | undefined;
  let pushOn: SyncCondition[] | undefined;
  let afterKey = false;
  for (const option of options) {
    const equals = option.indexOf('=');
    const key = equals === -1 ? option : option.slice(0, equals);
    const optionValue = equals === -1 ? undefined : option.slice(equals + 1);
    // Templates render an unset variable as an empty value (ci-tron's exclude= when a job excludes nothing): said, and left out.
    const needValue = (): string | undefined => {
      if (optionValue === undefined) errors.push(`b2c.volume=${name}: ${key} needs a value (${key}=…)`);
      else if (optionValue === '') warnings.push(`b2c.volume=${name}: ${key}= is empty (a template left it unset?): ignored`);
      return optionValue || undefined;
    };
    switch (key) {
      case 'mirror': {
        const path = needValue();
        if (path) volume.pullFrom = volume.pushTo = path;
        break;
      }
      case 'pull_from':
        volume.pullFrom = needValue() ?? volume.pullFrom;
        break;
      case 'push_to':
        volume.pushTo = needValue() ?? volume.pushTo;
        break;
      case 'pull_on':
      case 'push_on': {
        const text = needValue();
        if (text === undefined) break;
        const conditions = parseConditions(key, text, errors, warnings, name);
        if (key === 'pull_on') pullOn = conditions;
        else pushOn = conditions;
        break;
      }
      case 'expiration':
        if (optionValue === '') warnings.push(`b2c.volume=${name}: expiration= is empty (a template left it unset?): never`);
        else if (optionValue === 'never' || optionValue === 'pipeline_end') volume.expiration = optionValue;
        else errors.push(`b2c.volume=${name}: expiration=${optionValue ?? ''} is not valid; use never or pipeline_end`);
        break;
      case 'overwrite':
      case 'remove':
      case 'preserve':
      case 'fscrypt_reset_key':
        if (optionValue !== undefined) errors.push(`b2c.volume=${name}: ${key} takes no value`);
        if (key === 'fscrypt_reset_key') volume.fscryptResetKey = true;
        else volume[key] = true;
        break;
      case 'exclude': {
        const pattern = needValue();
        if (pattern) volume.exclude.push(pattern);
        break;
      }
      case 'encrypt_key': {
        afterKey = true;
        const key = needValue();
        if (key === undefined) break;
        volume.encryptKey = new Secret(key);
        warnings.push(
          `b2c.volume=${name}: encrypt_key (S3 server-side encryption with a customer key) is not supported by this b2c: ` +
            'the volume will be refused at boot rather than synced in the clear',
        );
        break;
      }
      case 'fscrypt_key': {
        afterKey = true;
        const key = needValue();
        if (key && !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) errors.push(`b2c.volume=${name}: fscrypt_key must be base64`);
        else if (key) volume.fscryptKey = new Secret(key);
        break;
      }
      case 'filesystem':
        volume.filesystem = needValue() ?? volume.filesystem;
        break;
      default:
        // A key holding a comma splits into options of its own: what follows a key is never echoed.
        warnings.push(
          afterKey
            ? `b2c.volume=${name}: an unknown option after a key is ignored (not shown: it may be part of the key, which cannot hold a comma)`
            : `b2c.volume=${name}: unknown option ${key} ignored`,
        );
    }
  }
  // As upstream: a volume syncs only at the conditions it names. Farms mirror read-only buckets with pull_on alone.
  volume.pullOn = pullOn ?? [];
  volume.pushOn = pushOn ?? [];
  if (volume.pullOn.length > 0 && volume.pullFrom === undefined) errors.push(`b2c.volume=${name}: pull_on needs pull_from= or mirror=`);
  if (volume.pushOn.length > 0 && volume.pushTo === undefined) errors.push(`b2c.volume=${name}: push_on needs push_to= or mirror=`);
  return errors.length > 0 ? { errors, warnings } : { value: volume, errors, warnings };
}

/** The alias a volume's bucket path names: `ALIAS/BUCKET/PATH` → `ALIAS`. */
export function aliasOf(bucketPath: string): string {
  return bucketPath.split('/')[0] ?? '';
}
