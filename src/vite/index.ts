// `hpd-embed/vite` entry: re-exports only.
export { hpdEmbed, VIRTUAL_ID, type HpdEmbedPluginOptions, type IndexConfig } from './plugin.js';
