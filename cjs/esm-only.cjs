// `require('sendmux-sync')` lands here: the package is ES modules only.
'use strict';
const error = new Error(
  "sendmux-sync is an ES module package (ESM-only) and cannot be loaded with require(). " +
    "Use `import { createMailboxSync } from 'sendmux-sync'` in an ES module (\"type\": \"module\" or a .mjs file), " +
    "or `const { createMailboxSync } = await import('sendmux-sync')` from CommonJS.",
);
error.code = 'ERR_REQUIRE_ESM';
throw error;
