import { createEmbedder } from 'hpd-embed/node';
import { run } from './run.cjs';

console.log(JSON.stringify(await run(createEmbedder, process.argv[2])));
