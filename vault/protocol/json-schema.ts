/**
 * Building blocks of the JSON schemas the vault's and the cosigner's routes declare (OpenAPI and
 * the first structural check), so both servers describe a field the same way.
 */
export const hexSchema = (bytes: number, description = `${bytes} bytes, lowercase hex`) => ({
  type: 'string',
  pattern: `^[0-9a-f]{${bytes * 2}}$`,
  description,
});

export const objectSchema = (
  required: string[],
  properties: Record<string, unknown>,
  description?: string,
) => ({
  type: 'object',
  required,
  additionalProperties: false,
  properties,
  ...(description ? { description } : {}),
});
