import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TOOLS } from './vectors.js';

/** libdime's own DMTP client (../shared/tools/libdime-dmtp, tools/libdime-dmtp.md). */
const TOOL = resolve(TOOLS, 'libdime-dmtp');
if (!existsSync(TOOL)) throw new Error(`libdime-dmtp not found at ${TOOL}`);

export interface LibdimeRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the tool asynchronously (the servers it talks to live in the test process). */
export function libdime(args: string[]): Promise<LibdimeRun> {
  return new Promise((done) => {
    execFile(TOOL, args, { timeout: 30_000, encoding: 'latin1' }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
