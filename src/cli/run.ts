// Process entry of `sendmux-sync` (bin/sendmux-sync.js loads it).
import { main } from './main.js';

const code = await main(process.argv.slice(2));
// The MCP server keeps the process alive on its own; everything else exits now
// (open handles of a stopped engine must not hold the shell).
process.exit(code);
