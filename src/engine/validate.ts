// The check lives in the page↔worker protocol (both sides run it); re-exported for the engine's imports.
export { validateTexts } from '../protocol/validate.js';
