/**
 * Text that PostgreSQL (and anyone reading it later) can store and show. PostgreSQL refuses
 * U+0000 in text and jsonb (SQLSTATE 22021 / 22P05), a lone UTF-16 surrogate cannot be
 * encoded as UTF-8 at all, and the other C0/C1 control characters are never meant in a
 * person's words: they only hide what was written. Tab, newline and carriage return stay.
 */
const REFUSED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored, or undefined when it can. Never quotes the string. */
export function unstorableTextReason(text: string): string | undefined {
  const found = REFUSED.exec(text);
  if (!found) return undefined;
  const code = found[0].charCodeAt(0);
  const name = code >= 0xd800 && code <= 0xdfff ? 'a lone surrogate' : code === 0 ? 'a NUL byte' : 'a control character';
  return `contains ${name} (U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${found.index}) that cannot be stored`;
}

export interface TextIssue {
  path: string;
  message: string;
}

/**
 * How deep a request's JSON may nest. Our schemas nest a few levels; JSON.parse
 * accepts 50,000 inside a 100 kB body, and walking that recursively overflows the stack.
 */
export const MAX_NESTING = 64;

/** Every string (and object key) in a JSON-like value that cannot be stored, by its path. */
export function unstorableTextIssues(value: unknown, prefix: string[] = []): TextIssue[] {
  const at = (parts: string[]) => parts.join('.') || '(root)';
  if (typeof value === 'string') {
    const reason = unstorableTextReason(value);
    return reason ? [{ path: at(prefix), message: reason }] : [];
  }
  if (value !== null && typeof value === 'object' && prefix.length >= MAX_NESTING) {
    return [{ path: at(prefix), message: `is nested deeper than ${MAX_NESTING} levels` }];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => unstorableTextIssues(item, [...prefix, String(i)]));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) => {
    const keyReason = unstorableTextReason(key);
    // A bad key is named by its position, not by itself.
    if (keyReason) return [{ path: at([...prefix, '(key)']), message: `a field name ${keyReason}` }];
    return unstorableTextIssues(item, [...prefix, key]);
  });
}
