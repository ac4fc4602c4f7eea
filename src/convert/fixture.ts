import { seededRandom } from '../seeded-random.js';
import { RANDOM_WEIGHTS_KEY } from './compile.js';
import { writeSafetensors } from './safetensors.js';
import type { PoolingMode } from './st-layout.js';
import type { Tensor } from './tensor.js';
import { writeTorchCheckpoint } from './torch-writer.js';
import { wordpieceTokenizerJson } from './wordpiece-tokenizer.js';

export interface FixtureOptions {
  layers?: number;
  hidden?: number;
  heads?: number;
  ffn?: number;
  /** Output dimension of the Dense layer; 0 for no Dense module. */
  dim?: number;
  /** Vocabulary tokens; a small generated WordPiece vocabulary when absent. */
  vocab?: string[];
  seed?: number;
  maxPositions?: number;
  maxSeqLength?: number;
  pooling?: PoolingMode[];
  normalize?: boolean;
}

/** The shape of Hugging Face `Xuandong/HPD-MiniLM-F128`. */
export const HPD_MINILM_F128: Required<
  Pick<FixtureOptions, 'layers' | 'hidden' | 'heads' | 'ffn' | 'dim' | 'maxPositions' | 'maxSeqLength'>
> = {
  layers: 6,
  hidden: 384,
  heads: 12,
  ffn: 1536,
  dim: 128,
  maxPositions: 512,
  maxSeqLength: 128,
};

function normalSampler(rand: () => number): () => number {
  return () => {
    const u = 1 - rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
}

const WORDS = `the of and to in is was for on that with as by at from it be this are an or his which not but had have
they you were their one all we can her has there been if more when will would who so no what up out about into them than
some could time only new other two like then do first any my now over such our man me even most made after also did many
before must through back years where much your way well down should because each just those people how too little state
good very make world still own see men work long get here between both life being under never day same another know while
last might us great old year off come since against go came right used take three small large find sentence search model
vector embedding browser fast text word query index cat dog sat mat play music film movie car road city house water food
quick brown fox jumps lazy run running walked talk talking ing ed er ly es s`
  .split(/\s+/)
  .filter(Boolean);

/** A small but real WordPiece vocabulary: specials, characters, ## pieces and common words. */
export function generatedVocab(): string[] {
  const vocab = ['[PAD]', ...Array.from({ length: 5 }, (_, i) => `[unused${i}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789.,!?;:\'"()-/&%$#@'.split('');
  vocab.push(...chars, ...chars.filter((c) => /[a-z0-9]/.test(c)).map((c) => `##${c}`));
  for (const w of WORDS) if (!vocab.includes(w)) vocab.push(w);
  for (const suffix of ['ing', 'ed', 'er', 'ly', 'es', 's', 'tion', 'ness', 'ment', 'able']) vocab.push(`##${suffix}`);
  return vocab;
}

/**
 * A random-weight sentence-transformers checkpoint in the Hugging Face layout, with weights in both
 * safetensors and torch-zip form: normal(0, 0.02) matrices, LayerNorm gains near 1, non-zero biases. Its config.json
 * carries `hpd_embed_random_weights: true`, so every bundle compiled from it is labelled random.
 */
export function generateFixture(opts: FixtureOptions = {}): Map<string, Uint8Array> {
  const o = { ...HPD_MINILM_F128, seed: 42, pooling: ['mean'] as PoolingMode[], normalize: false, ...opts };
  const vocab = o.vocab ?? generatedVocab();
  const rand = seededRandom(o.seed);
  const normal = normalSampler(rand);
  const H = o.hidden,
    F = o.ffn;
  const randn = (shape: number[], std = 0.02, mean = 0): Tensor => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = mean + std * normal();
    return { shape, data };
  };

  const t: [string, Tensor][] = [
    ['embeddings.word_embeddings.weight', randn([vocab.length, H])],
    ['embeddings.position_embeddings.weight', randn([o.maxPositions, H])],
    ['embeddings.token_type_embeddings.weight', randn([2, H])],
    ['embeddings.LayerNorm.weight', randn([H], 0.05, 1)],
    ['embeddings.LayerNorm.bias', randn([H], 0.02)],
  ];
  for (let i = 0; i < o.layers; i++) {
    const p = `encoder.layer.${i}`;
    const lin = (name: string, out: number, inp: number) => {
      t.push([`${p}.${name}.weight`, randn([out, inp])], [`${p}.${name}.bias`, randn([out], 0.02)]);
    };
    lin('attention.self.query', H, H);
    lin('attention.self.key', H, H);
    lin('attention.self.value', H, H);
    lin('attention.output.dense', H, H);
    t.push(
      [`${p}.attention.output.LayerNorm.weight`, randn([H], 0.05, 1)],
      [`${p}.attention.output.LayerNorm.bias`, randn([H], 0.02)],
    );
    lin('intermediate.dense', F, H);
    lin('output.dense', H, F);
    t.push([`${p}.output.LayerNorm.weight`, randn([H], 0.05, 1)], [`${p}.output.LayerNorm.bias`, randn([H], 0.02)]);
  }
  t.push(['pooler.dense.weight', randn([H, H])], ['pooler.dense.bias', randn([H], 0.02)]);
  // Older transformers versions saved this int64 buffer; keep it so readers must skip it.
  const positionIds = {
    shape: [1, o.maxPositions],
    data: BigInt64Array.from({ length: o.maxPositions }, (_, i) => BigInt(i)),
  };

  const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);
  const files = new Map<string, Uint8Array>();
  files.set(
    'config.json',
    json({
      architectures: ['BertModel'],
      attention_probs_dropout_prob: 0.1,
      gradient_checkpointing: false,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      hidden_size: H,
      initializer_range: 0.02,
      intermediate_size: F,
      layer_norm_eps: 1e-12,
      max_position_embeddings: o.maxPositions,
      model_type: 'bert',
      num_attention_heads: o.heads,
      num_hidden_layers: o.layers,
      pad_token_id: 0,
      position_embedding_type: 'absolute',
      transformers_version: '4.18.0',
      type_vocab_size: 2,
      use_cache: true,
      vocab_size: vocab.length,
      // Read by compileCheckpoint: bundles from this checkpoint say their rankings are meaningless.
      [RANDOM_WEIGHTS_KEY]: true,
    }),
  );
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (o.dim > 0) modules.push({ idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
  if (o.normalize)
    modules.push({
      idx: modules.length,
      name: String(modules.length),
      path: `${modules.length}_Normalize`,
      type: 'sentence_transformers.models.Normalize',
    });
  files.set('modules.json', json(modules));
  files.set('sentence_bert_config.json', json({ max_seq_length: o.maxSeqLength, do_lower_case: false }));
  files.set(
    'config_sentence_transformers.json',
    json({ __version__: { sentence_transformers: '2.2.0', transformers: '4.18.0', pytorch: '1.11.0' } }),
  );
  files.set(
    '1_Pooling/config.json',
    json({
      word_embedding_dimension: H,
      pooling_mode_cls_token: o.pooling.includes('cls'),
      pooling_mode_mean_tokens: o.pooling.includes('mean'),
      pooling_mode_max_tokens: o.pooling.includes('max'),
      pooling_mode_mean_sqrt_len_tokens: o.pooling.includes('mean_sqrt_len'),
    }),
  );
  if (o.dim > 0) {
    const dense: [string, Tensor][] = [
      ['linear.weight', randn([o.dim, H * o.pooling.length], 0.05)],
      ['linear.bias', randn([o.dim], 0.02)],
    ];
    files.set(
      '2_Dense/config.json',
      json({
        in_features: H * o.pooling.length,
        out_features: o.dim,
        bias: true,
        activation_function: 'torch.nn.modules.activation.Tanh',
      }),
    );
    files.set('2_Dense/pytorch_model.bin', writeTorchCheckpoint(dense));
    files.set('2_Dense/model.safetensors', writeSafetensors(dense));
  }
  files.set('pytorch_model.bin', writeTorchCheckpoint(t, [['embeddings.position_ids', positionIds]]));
  files.set('model.safetensors', writeSafetensors(t));
  files.set('vocab.txt', new TextEncoder().encode(`${vocab.join('\n')}\n`));
  files.set('tokenizer.json', new TextEncoder().encode(wordpieceTokenizerJson(vocab, true)));
  files.set(
    'tokenizer_config.json',
    json({
      do_lower_case: true,
      model_max_length: o.maxPositions,
      tokenizer_class: 'BertTokenizer',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      mask_token: '[MASK]',
    }),
  );
  files.set(
    'special_tokens_map.json',
    json({ cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]' }),
  );
  return files;
}
