// Raw pickle bytes for the torch checkpoint reader's tests: the protocol-2 opcodes torch.save writes for a state dict.
export const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
/** BINUNICODE of `s` (ASCII only). */
export const unicode = (s: string): number[] => [0x58, s.length, 0, 0, 0, ...ascii(s)];

/** A state dict {t: _rebuild_tensor_v2(storage(numel), offset, size, stride)} with raw pickle pieces for each argument. */
export function tensorPickle(numel: number[], offset: number[], size: number[], stride: number[]): Uint8Array {
  return Uint8Array.from([
    0x80,
    0x02,
    ...ascii('ccollections\nOrderedDict\n'),
    0x29,
    0x52,
    0x28,
    ...unicode('t'),
    ...ascii('ctorch._utils\n_rebuild_tensor_v2\n'),
    0x28,
    0x28,
    ...unicode('storage'),
    ...ascii('ctorch\nFloatStorage\n'),
    ...unicode('0'),
    ...unicode('cpu'),
    ...numel,
    0x74,
    0x51,
    ...offset,
    ...size,
    ...stride,
    0x89,
    0x4e,
    0x74,
    0x52,
    0x75,
    0x2e,
  ]);
}
