// dit-audit: the command-line surface. Exit 0 on success, 2 on error (one line on stderr;
// the stack only with --debug).
import { Command, CommanderError } from 'commander';
import { withCliAdvice } from './advice';
import { registerAudit } from './commands/audit';
import { registerDemo } from './commands/demo';
import { registerEval } from './commands/eval';
import { registerForward } from './commands/forward';
import { registerGenerate } from './commands/generate';
import { registerInspect } from './commands/inspect';
import { registerMerge } from './commands/merge';
import { registerReview } from './commands/review';
import { registerServe } from './commands/serve';

const program = new Command('dit-audit')
  .description('Audit finetuned language models with Diff Interpretation Tuning')
  .option('--debug', 'print stack traces on errors')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

registerAudit(program);
registerDemo(program);
registerEval(program);
registerForward(program);
registerGenerate(program);
registerInspect(program);
registerMerge(program);
registerReview(program);
registerServe(program);

// exitCode, not process.exit(): exiting at once would cut off stdout still flowing into a pipe.
program.parseAsync(process.argv).then(
  () => {
    process.exitCode ??= 0;
  },
  (error: unknown) => {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    const e = error instanceof Error ? error : new Error(String(error));
    const oneLine = withCliAdvice(e.message.split('\n')[0]);
    process.stderr.write(`dit-audit: ${oneLine}\n`);
    if (program.opts().debug && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 2;
  },
);
