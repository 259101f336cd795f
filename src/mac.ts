// MAC addresses as a farm writes them and as b2c keeps them: what `b2c serve` knows machines by and `b2c run --mac` gives a VM.

/** `52:54:00:12:34:56` or `52-54-00-12-34-56`, any case, as lower case with colons; undefined for anything else. */
export function normalizeMac(text: string): string | undefined {
  const match = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i.exec(text.trim());
  if (match === null) return undefined;
  return [match[1], match[3], match[4], match[5], match[6], match[7]].join(':').toLowerCase();
}
