// The compiler's last plain `Error`s are typed: a caller can match on `code` for them too.
import { describe, expect, it } from 'vitest';
import { ProtoWriter } from '../../src/convert/protobuf-writer.js';
import { wordpieceTokenizerJson } from '../../src/convert/wordpiece-tokenizer.js';
import { ConvertError, HpdError } from '../../src/errors.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('typed errors in src/convert', () => {
  it('ProtoWriter misuse is INTERNAL (an ONNX writer bug), not a plain Error', () => {
    const unbalanced = thrown(() => new ProtoWriter().ldelim());
    expect(unbalanced).toBeInstanceOf(HpdError);
    expect(unbalanced).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('ldelim() without fork()') });
    const open = thrown(() => new ProtoWriter().fork().uint32(1).finish());
    expect(open).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('1 open fork()') });
  });

  it('a vocabulary without [UNK]/[CLS]/[SEP] is CHECKPOINT_INVALID naming the missing token', () => {
    const e = thrown(() => wordpieceTokenizerJson(['[PAD]', '[UNK]', '[SEP]', 'a']));
    expect(e).toBeInstanceOf(ConvertError);
    expect(e).toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringContaining('lacks [CLS]') });
    expect(() => wordpieceTokenizerJson(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a'])).not.toThrow();
  });
});
