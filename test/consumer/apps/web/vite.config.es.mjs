// The README's Vite setup: module workers keep their dynamic imports (compiler, index) as chunks of their own.
// Vite's default worker format (iife) inlines them into one worker file. (Vite loads a config's default export.)
export default { worker: { format: 'es' } };
