// CommonJS: require() of the ESM package (Node >= 20.19 loads it synchronously).
const { createEmbedder } = require('hpd-embed/node');
const { run } = require('./run.cjs');

run(createEmbedder, process.argv[2]).then(
  (r) => console.log(JSON.stringify(r)),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
