// A plain webpack 5 setup: nothing in it is specific to hpd-embed.
import { resolve } from 'node:path';

export default {
  mode: 'production',
  entry: './src/main.js',
  output: { path: resolve(import.meta.dirname, 'dist'), filename: 'main.js', clean: true },
  performance: { hints: false },
};
