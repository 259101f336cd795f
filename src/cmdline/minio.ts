// Parser for b2c.minio="ALIAS,URL,ACCESS_KEY,SECRET_KEY": an S3 endpoint volumes sync with.

import type { MinioAlias } from './config.ts';
import { Secret } from './secret.ts';
import { isHttpUrl, NAME, type OptionResult } from './values.ts';

export function parseMinio(value: string): OptionResult<MinioAlias> {
  const fields = value.split(',');
  if (fields.length !== 4) {
    return { errors: [`b2c.minio needs four fields, ALIAS,URL,ACCESS_KEY,SECRET_KEY; got ${fields.length}`], warnings: [] };
  }
  const [alias, url, accessKey, secretKey] = fields as [string, string, string, string];
  const errors: string[] = [];
  if (!NAME.test(alias)) errors.push(`b2c.minio: the alias "${alias}" is not a name (letters, digits, _ . -)`);
  if (!isHttpUrl(url)) errors.push(`b2c.minio=${alias}: ${url} is not an http:// or https:// URL`);
  if (errors.length > 0) return { errors, warnings: [] };
  return { value: { alias, url, accessKey: new Secret(accessKey), secretKey: new Secret(secretKey) }, errors, warnings: [] };
}
