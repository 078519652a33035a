/**
 * Checks a JSON value against the subset of JSON Schema / OpenAPI 3.0 our route schemas use
 * (type, nullable, anyOf, enum, pattern, minimum, maximum, maxLength, required, properties,
 * additionalProperties: false, items). Returns the problems found, with their paths.
 */
export interface SchemaNode {
  type?: string | string[];
  nullable?: boolean;
  anyOf?: SchemaNode[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean;
  items?: SchemaNode;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function schemaProblems(schema: SchemaNode, value: unknown, path = '$'): string[] {
  if (value === null && schema.nullable) return [];
  if (schema.anyOf) {
    const fits = schema.anyOf.some((s) => schemaProblems(s, value, path).length === 0);
    return fits ? [] : [`${path}: matches none of anyOf`];
  }
  const problems: string[] = [];
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const ok = types.includes(t) || (t === 'integer' && types.includes('number'));
    if (!ok) return [`${path}: ${t}, expected ${types.join('|')}`];
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${path}: not in enum`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
      problems.push(`${path}: does not match ${schema.pattern}`);
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      problems.push(`${path}: longer than ${schema.maxLength}`);
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${path}: < min`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${path}: > max`);
  }
  if (t === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of schema.required ?? []) {
      if (!(k in o)) problems.push(`${path}.${k}: missing`);
    }
    for (const [k, v] of Object.entries(o)) {
      const sub = schema.properties?.[k];
      if (sub) problems.push(...schemaProblems(sub, v, `${path}.${k}`));
      else if (schema.additionalProperties === false) problems.push(`${path}.${k}: not in schema`);
    }
  }
  if (t === 'array' && schema.items) {
    (value as unknown[]).forEach((v, i) => {
      problems.push(...schemaProblems(schema.items as SchemaNode, v, `${path}[${i}]`));
    });
  }
  return problems;
}
