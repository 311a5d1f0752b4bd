import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OVERRIDES } from '../../src/config/overrides.ts';
import { DEFAULTS } from '../../src/config/schema.ts';

const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');

test('docs/config.md lists every environment variable and flag', () => {
  for (const o of OVERRIDES) {
    if (o.env !== undefined) assert.ok(doc.includes(`\`${o.env}\``), `${o.env} is not documented`);
    if (o.option !== undefined) assert.ok(doc.includes(`\`${o.option}`), `${o.option} is not documented`);
  }
});

test('docs/config.md lists every setting of every section', () => {
  for (const section of ['warmUp', 'listen', 'app', 'pool', 'shutdown', 'discovery', 'log'] as const) {
    for (const key of Object.keys(DEFAULTS[section])) {
      assert.ok(
        doc.includes(`\`${key}\``) || doc.includes(`\`${section}.${key}\``),
        `${section}.${key} is not documented`,
      );
    }
  }
  for (const key of Object.keys(DEFAULTS.serverDefaults)) assert.ok(doc.includes(`\`${key}\``), key);
});
