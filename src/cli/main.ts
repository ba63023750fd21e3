import { buildProgram } from './program.js';
import { runProgram } from './run.js';

const code = await runProgram(buildProgram(), process.argv);
process.exitCode = code;
