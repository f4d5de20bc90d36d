// Preloaded into a spawned CLI (NODE_OPTIONS=--require): on exit, writes the process's peak
// resident memory (KiB) where DIT_PEAK_RSS_FILE says. A process that aborts writes nothing.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  if (process.env.DIT_PEAK_RSS_FILE)
    writeFileSync(process.env.DIT_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS));
});
