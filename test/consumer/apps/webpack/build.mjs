// Runs webpack through its Node API with the plain config (what `webpack --config webpack.config.mjs` does).
import webpack from 'webpack';
import config from './webpack.config.mjs';

webpack(config, (err, stats) => {
  if (err || stats.hasErrors()) {
    console.error(err ?? stats.toString({ all: false, errors: true, errorDetails: true }));
    process.exit(1);
  }
  console.log(stats.toString({ all: false, assets: true }));
});
