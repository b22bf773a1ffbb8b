import fc from 'fast-check';

/**
 * The subset of JSON Schema (2020-12, as OpenAPI 3.1 embeds it) that our generated document
 * uses, to check responses against it and to generate requests from it. A keyword outside
 * the subset throws rather than pass silently: a check that cannot check must say so.
 */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

const VALIDATED = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'anyOf', 'oneOf', 'allOf',
  'pattern', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
]);
const ANNOTATIONS = new Set(['description', 'default', 'title', 'example', 'examples']);

function assertKnownKeywords(schema: JsonSchema): void {
  for (const keyword of Object.keys(schema)) {
    if (!VALIDATED.has(keyword) && !ANNOTATIONS.has(keyword)) throw new Error(`json-schema helper: keyword "${keyword}" is not supported`);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const typeMatches = (expected: string, actual: string) => expected === actual || (expected === 'number' && actual === 'integer');

// JSON Schema counts characters as code points; String.length counts UTF-16 units.
const codePoints = (s: string) => [...s].length;

/** Why value breaks schema (the first problem found, with its path), or undefined. */
export function schemaProblem(schema: JsonSchema, value: unknown, at = '(root)'): string | undefined {
  assertKnownKeywords(schema);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeMatches(t, typeOf(value)))) return `${at}: ${typeOf(value)} is not ${types.join(' or ')}`;
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) return `${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`;
  if ('const' in schema && schema.const !== value) return `${at}: is not ${JSON.stringify(schema.const)}`;
  for (const sub of schema.allOf ?? []) {
    const problem = schemaProblem(sub, value, at);
    if (problem) return problem;
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives && alternatives.every((sub) => schemaProblem(sub, value, at) !== undefined)) return `${at}: matches none of its alternatives`;

  if (typeof value === 'string') {
    if (schema.minLength !== undefined && codePoints(value) < schema.minLength) return `${at}: shorter than ${schema.minLength}`;
    if (schema.maxLength !== undefined && codePoints(value) > schema.maxLength) return `${at}: longer than ${schema.maxLength}`;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) return `${at}: does not match ${schema.pattern}`;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${at}: below ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${at}: above ${schema.maximum}`;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return `${at}: not above ${schema.exclusiveMinimum}`;
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return `${at}: not below ${schema.exclusiveMaximum}`;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return `${at}: fewer than ${schema.minItems} items`;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return `${at}: more than ${schema.maxItems} items`;
    for (const [i, item] of value.entries()) {
      const problem = schema.items ? schemaProblem(schema.items, item, `${at}.${i}`) : undefined;
      if (problem) return problem;
    }
  }
  if (typeOf(value) === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in record)) return `${at}.${key}: required`;
    for (const [key, v] of Object.entries(record)) {
      const property = schema.properties?.[key];
      const rule = property ?? schema.additionalProperties;
      if (rule === false) return `${at}.${key}: not allowed`;
      if (rule === undefined || rule === true) continue;
      const problem = schemaProblem(rule, v, `${at}.${key}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** NUL, a lone surrogate, control and escape characters: what PostgreSQL, logs and terminals choke on. */
export const CONTROL_STRINGS = ['\u0000', 'fine\u0000print', '\ud800', 'x\udfff', '\u0007', '\u001b[31mred', 'a\r\nb', '\u2028'];

/** Values to try by name (a path parameter or a body property), e.g. ids that exist. */
export type KnownValues = Record<string, readonly unknown[]>;

/** Strings that have broken parsers before: huge numbers, unicode, escapes, path tricks. */
export const oddStrings: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '0', '-1', '1e309', '9'.repeat(400), '9007199254740993', 'null', 'true', '[]', '{}', '..', '%', '%25', '%E0%A4%A', 'a/b', '../../etc', '😀', 'e\u0301', 'Ｓhop', '\u202e', '\\'),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 300 }),
);

/** Any JSON value at all, odd numbers and strings included: what a careless or hostile client sends. */
export const oddJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 64, [], {}, [[[[]]]]),
  oddStrings,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 3 }),
);

/**
 * Values that mostly satisfy schema (strings from their pattern, numbers in range, required
 * properties present), so requests reach the handlers and not only the validators.
 */
export function arbitraryOf(schema: JsonSchema, known: KnownValues = {}, name?: string): fc.Arbitrary<unknown> {
  assertKnownKeywords(schema);
  const generated = fromSchema(schema, known);
  const knownHere = name !== undefined ? known[name] : undefined;
  return knownHere && knownHere.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...knownHere), weight: 3 }, { arbitrary: generated, weight: 1 }) : generated;
}

function fromSchema(schema: JsonSchema, known: KnownValues): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if ('const' in schema) return fc.constant(schema.const);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => arbitraryOf(s, known)));
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => fromSchema({ ...schema, type }, known)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const min = schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : (schema.minimum ?? -1_000_000);
      const max = schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : (schema.maximum ?? 1_000_000);
      // Small amounts mostly, the edges sometimes: most handlers care about both.
      return fc.oneof(fc.integer({ min: Math.max(min, -1_000_000), max: Math.min(max, 1_000_000) }), fc.constantFrom(min, max));
    }
    case 'string': {
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.min(schema.maxLength ?? 40, Math.max(minLength, 40));
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => codePoints(s) >= minLength && codePoints(s) <= (schema.maxLength ?? Infinity));
      // Free text: mostly printable, now and then any code unit at all (NUL, controls, lone surrogates).
      return fc.oneof(
        { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength }) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength, maxLength }) },
        { weight: 1, arbitrary: fc.constantFrom(...CONTROL_STRINGS).filter((s) => s.length >= minLength && s.length <= maxLength) },
      );
    }
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? 3, Math.max(minLength, 3));
      return fc.array(schema.items ? arbitraryOf(schema.items, known) : oddJson, { minLength, maxLength });
    }
    case 'object': {
      const required = new Set(schema.required ?? []);
      const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, s]) => [key, arbitraryOf(s, known, key)]));
      return fc.record(properties, { requiredKeys: [...required].filter((k) => k in properties) });
    }
    default:
      return oddJson;
  }
}

/** The document with every `$ref` to components/schemas replaced by the schema it names, so schemaProblem can read it. */
export function inlineRefs<T>(doc: T): T {
  const schemas = ((doc as { components?: { schemas?: Record<string, unknown> } }).components?.schemas ?? {}) as Record<string, unknown>;
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) return walk(schemas[ref.slice('#/components/schemas/'.length)]);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
  };
  return walk(doc) as T;
}
