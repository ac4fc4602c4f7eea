/**
 * Read-only access to the files of a checkpoint or bundle, by relative path ("2_Dense/config.json").
 * The converter touches files only through this, so it runs unchanged in Node, a page or a worker.
 */
export interface FileSource {
  /** The file's bytes, or `undefined` when it does not exist. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** A label for messages (a folder path, a URL). */
  readonly label: string;
}

export type InMemoryFile = Uint8Array | ArrayBuffer | Blob;

/** A source over in-memory files, e.g. from a file picker or a test. */
export function memorySource(
  files: Map<string, InMemoryFile> | Record<string, InMemoryFile>,
  label = 'in-memory files',
): FileSource {
  const map = files instanceof Map ? files : new Map(Object.entries(files));
  return {
    label,
    async read(path) {
      const f = map.get(path);
      if (f === undefined) return undefined;
      if (f instanceof Uint8Array) return f;
      if (f instanceof ArrayBuffer) return new Uint8Array(f);
      return new Uint8Array(await f.arrayBuffer());
    },
  };
}
