// Public surface of src/eval (`hpd-embed/eval`; also re-exported by `hpd-embed/node`): environment-free, usable in a page.
export { evaluateSts, evaluateRetrieval, embedAll } from './evaluate.js';
export type {
  EmbedFn,
  EvalOptions,
  EvalProgress,
  RetrievalOptions,
  RetrievalResult,
  RetrievalScores,
  StsResult,
} from './evaluate.js';
export { parseSts, guessStsFormat, STS_FORMATS } from './sts-data.js';
export type { StsData, StsFormat } from './sts-data.js';
export { parseBeir } from './beir-data.js';
export type { BeirData } from './beir-data.js';
export { pearson, spearman, averageRanks } from './correlation.js';
export { ndcgAt, reciprocalRankAt, recallAt } from './retrieval-metrics.js';
