// The generator of src/generated/protocol.ts: JSON Schema (as schemars writes it for the
// server's Rust types) to TypeScript.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { describe, it } from 'node:test';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { generate, typeOf } = require(path.resolve(__dirname, '..', '..', '..', 'scripts', 'protocol-types.js')) as {
  generate: (schema: object) => string;
  typeOf: (schema: object) => string;
};

describe('protocol types from JSON Schema', () => {
  it('maps scalars, options, arrays, maps and references', () => {
    assert.equal(typeOf({ type: 'integer', format: 'uint' }), 'number');
    assert.equal(typeOf({ type: ['string', 'null'] }), 'string | null');
    assert.equal(typeOf({ anyOf: [{ $ref: '#/$defs/Period' }, { type: 'null' }] }), 'Period | null');
    assert.equal(typeOf({ type: 'array', items: { $ref: '#/$defs/Scored' } }), 'Scored[]');
    assert.equal(typeOf({ type: 'array', items: { type: ['string', 'null'] } }), '(string | null)[]');
    assert.equal(typeOf({ type: 'object', additionalProperties: { type: 'integer' } }), 'Record<string, number>');
    assert.equal(typeOf({ oneOf: [{ const: 'memory', description: 'x' }, { const: 'pinned' }] }), '"memory" | "pinned"');
    assert.equal(typeOf({ enum: ['a', 'b'] }), '"a" | "b"');
    assert.equal(typeOf({}), 'unknown');
  });

  it('writes interfaces with optional fields where the server may leave them out', () => {
    const ts = generate({
      results: ['RememberResult'],
      requests: [],
      $defs: {
        RememberResult: {
          type: 'object',
          description: 'What remember did.',
          properties: { redacted: { type: 'integer', description: 'Secrets replaced.' }, store: { type: 'string' } },
          required: ['redacted'],
        },
        Layer: { type: 'string', enum: ['memory', 'pinned'] },
      },
    });
    assert.match(ts, /export type Layer = "memory" \| "pinned";/);
    assert.ok(
      ts.includes('/** What remember did. */\nexport interface RememberResult {\n  /** Secrets replaced. */\n  redacted: number;\n  store?: string;\n}'),
      ts,
    );
    assert.match(ts, /export type ResultName = "RememberResult";/);
  });
});
