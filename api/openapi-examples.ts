/*
 * A success response that names no example of its own gets one made from its schema, so every
 * operation in the document shows what it answers. The example follows the schema (types,
 * enums, required members, lengths) and reads like data by the member's name (…Id, …Fen,
 * …At); a route that knows better passes its own `example`.
 */

export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  enum?: unknown[];
  const?: unknown;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  allOf?: SchemaNode[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  default?: unknown;
  example?: unknown;
  $ref?: string;
}

const EXAMPLE_TIME = '2026-11-20T02:00:00.000Z';

function stringFor(name: string, node: SchemaNode): string {
  let text: string;
  if (/At$|^since$|^at$|[dD]eadline$|[dD]ate$/.test(name)) text = EXAMPLE_TIME;
  else if (/[pP]eriod$|Month$/.test(name)) text = '2026-10';
  else if (/^shopId$/.test(name)) text = 'shop-m-1001';
  else if (/^merchantId$/.test(name)) text = 'm-1001';
  else if (/[iI]d$/.test(name)) text = `${name.replace(/Id$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) || 'id'}-1`;
  else text = name || 'text';
  if (node.minLength !== undefined && text.length < node.minLength) text = text.padEnd(node.minLength, 'x');
  if (node.maxLength !== undefined && text.length > node.maxLength) text = text.slice(0, node.maxLength);
  return text;
}

function numberFor(name: string, node: SchemaNode): number {
  const floor = node.minimum ?? (node.exclusiveMinimum !== undefined ? node.exclusiveMinimum + 1 : undefined);
  const wanted = /Fen$/.test(name) ? 50_000 : /[cC]ount$|^total/.test(name) ? 3 : 1;
  return floor !== undefined && wanted < floor ? floor : wanted;
}

/** An example value of a schema (`name` is the member it is for, which guides the wording). */
export function exampleOf(node: SchemaNode, name = '', resolve: (ref: string) => SchemaNode | undefined = () => undefined, depth = 0): unknown {
  if (depth > 12) return null;
  if (node.example !== undefined) return node.example;
  if (node.$ref) {
    const target = resolve(node.$ref);
    return target ? exampleOf(target, name, resolve, depth + 1) : null;
  }
  if ('const' in node) return node.const;
  if (node.enum && node.enum.length > 0) return node.enum[0];
  if (node.default !== undefined) return node.default;
  const alternative = node.anyOf?.[0] ?? node.oneOf?.[0];
  if (alternative) return exampleOf(alternative, name, resolve, depth + 1);
  if (node.allOf && node.allOf.length > 0) return Object.assign({}, ...node.allOf.map((part) => exampleOf(part, name, resolve, depth + 1)));
  const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
  // A nullable member shows its value, not null: null says less.
  const type = types.find((t) => t !== 'null') ?? types[0];
  switch (type) {
    case 'object': {
      const example: Record<string, unknown> = {};
      for (const [key, member] of Object.entries(node.properties ?? {})) example[key] = exampleOf(member, key, resolve, depth + 1);
      return example;
    }
    case 'array': {
      const item = node.items ? exampleOf(node.items, name.replace(/s$/, ''), resolve, depth + 1) : {};
      return Array.from({ length: Math.max(1, node.minItems ?? 1) }, () => item);
    }
    case 'string':
      return stringFor(name, node);
    case 'integer':
    case 'number':
      return numberFor(name, node);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      // No type: any JSON value (a free-form detail); an empty object says so.
      return {};
  }
}
