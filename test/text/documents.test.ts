import { describe, expect, it } from 'vitest';
import {
  htmlDocument,
  isDocumentFile,
  jsonlDocuments,
  markdownDocument,
  textDocument,
} from '../../src/text/documents.js';

describe('documents', () => {
  it('HTML: visible text only, entities decoded, nested hidden elements dropped, offsets into the source', () => {
    const src =
      '<!doctype html><html><head><title>T &amp; U</title><script>x<y</script></head><body>' +
      '<nav aria-hidden="true"><div>menu <div>deep</div> still</div></nav><p>Caf&#233; &lt;one&gt;</p>' +
      '<template><p>tpl</p></template><div style="display: none">gone</div><p>two&nbsp;words</p><!-- c --></body></html>';
    const d = htmlDocument('a.html', src);
    expect(d.title).toBe('T & U');
    expect(d.text).toBe('Café <one>\n\ntwo words');
    const i = d.text.indexOf('two');
    expect(src.slice(d.offsets![i], d.offsets![i + 3])).toBe('two');
    expect(src.slice(d.offsets![0], d.offsets![2] + 1)).toBe('Caf');
  });

  it('Markdown: front matter skipped (offsets kept), title from it or the first heading', () => {
    const src = '---\ntitle: Hello\n---\nBody text\n';
    const d = markdownDocument('a.md', src);
    expect(d).toMatchObject({ title: 'Hello', text: 'Body text\n', base: src.indexOf('Body') });
    expect(markdownDocument('b.md', 'intro\n\n## Second\n').title).toBe('Second');
    expect(markdownDocument('c.md', 'Title\n=====\n\ntext').title).toBe('Title');
    expect(textDocument('d.txt', '\n  first line\nsecond').title).toBe('first line');
  });

  it('JSONL: one document per record, other fields kept; bad lines are INVALID_INPUT naming the line', () => {
    const docs = jsonlDocuments('x.jsonl', '{"id":"a","text":"hi","tag":1}\n\n{"id":2,"text":"yo","title":"T"}\n');
    expect(docs.map((d) => d.doc)).toEqual([
      { doc: 'x.jsonl#a', title: '', text: 'hi', fields: { tag: 1 } },
      { doc: 'x.jsonl#2', title: 'T', text: 'yo', fields: { title: 'T' } },
    ]);
    expect(() => jsonlDocuments('x.jsonl', '{"id":"a"}')).toThrow(/line 1 needs a string "text"/);
    expect(jsonlDocuments('x.jsonl', '\n{"text":"t","doc":"D"}').map((d) => d.doc)).toEqual([
      { doc: 'x.jsonl#L2', title: 'D', text: 't', fields: { doc: 'D' } },
    ]);
    expect(() => jsonlDocuments('x.jsonl', 'nope')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => jsonlDocuments('x.jsonl', '{"id":"a","text":""}\n{"id":"a","text":""}')).toThrow(/twice/);
  });

  it('knows its file kinds', () => {
    expect(['a.md', 'b.MARKDOWN', 'c.txt', 'd.html', 'e.jsonl'].every(isDocumentFile)).toBe(true);
    expect(isDocumentFile('f.png')).toBe(false);
  });
});
