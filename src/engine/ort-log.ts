// onnxruntime-web has no log callback: its wasm prints through `console.log.bind(console)` (and console.error), bound
// once, when the runtime starts. So the only tap is the function console holds at that moment: while ORT starts, the
// console methods are a pass-through tap that ORT keeps; afterwards console is restored, and captures subscribe to the
// tap without touching console at all.

type Sink = (line: string) => void;

const METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;
/** ORT's own log lines, e.g. "2026-… [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp] …". */
const ORT_LINE = /\[([VIWEF]):onnxruntime:/;
const sinks = new Set<Sink>();
let tapped = false;

/** Whether ORT's log reaches the tap (it started inside `whileOrtStarts`); without it no placement can be captured. */
export function ortLogTapped(): boolean {
  return tapped;
}

/** A session asked for ORT's log and none came through the tap (onnxruntime-web's Node build writes to stdout): stop asking. */
export function ortLogBypassesTap(): void {
  tapped = false;
}

/**
 * Runs `start`, which starts ORT's wasm runtime, with each console method wrapped in a tap that forwards every call
 * unchanged; ORT binds the tap for good. Console is restored afterwards (unless someone re-wrapped it meanwhile).
 */
export async function whileOrtStarts<T>(start: () => Promise<T>): Promise<T> {
  const saved = METHODS.map((k) => console[k]);
  const taps = saved.map((original) => tap(original));
  METHODS.forEach((k, i) => (console[k] = taps[i]));
  try {
    return await start();
  } finally {
    METHODS.forEach((k, i) => {
      if (console[k] === taps[i]) console[k] = saved[i];
    });
    tapped = true;
  }
}

/**
 * While subscribed, ORT's log lines go to `sink` instead of the console. Returns the unsubscribe. Unsubscribed, ORT's
 * verbose and info lines (only sessions created for a capture ask for them) are dropped; its warnings and errors, and
 * everything that is not ORT's, reach the console unchanged.
 */
export function captureOrtLog(sink: Sink): () => void {
  sinks.add(sink);
  return () => void sinks.delete(sink);
}

function tap(original: (...args: unknown[]) => void): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    const ort = args.length === 1 && typeof args[0] === 'string' ? ORT_LINE.exec(args[0]) : null;
    if (ort && sinks.size > 0) for (const s of sinks) s(args[0] as string);
    else if (!ort || !(ort[1] === 'V' || ort[1] === 'I')) original.apply(console, args);
  };
}
