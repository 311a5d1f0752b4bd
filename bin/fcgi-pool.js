#!/usr/bin/env node
// Entry point of `npx fcgi-pool` and `npm start`. Plain JS so that an older Node on the PATH
// fails with a clear message instead of a syntax error in a .ts file.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 26) {
  process.stderr.write(
    `fcgi-pool needs Node.js 26 or newer (this is ${process.version}). ` +
      'Run it through npm (npm start, npx fcgi-pool), which uses the node@26 pinned in package.json.\n',
  );
  process.exit(1);
}
void minor;
await import('../src/cli/main.ts');
