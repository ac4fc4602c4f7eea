// The whole setup a site needs: the plugin builds the index from its Markdown and ships the model beside it.
import { hpdEmbed } from 'hpd-embed/vite';

export default {
  plugins: [
    hpdEmbed({
      model: 'models/bundle',
      emitModel: true,
      indexes: { docs: { include: 'content/**/*.md' } },
      embedder: { device: 'wasm', threads: 1 },
    }),
  ],
};
