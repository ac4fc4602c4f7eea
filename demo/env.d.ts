/// <reference types="vite/client" />

// The sample corpus as a prebuilt index (hpd-embed/vite, see vite.config.ts); empty when no model was prepared.
declare module 'virtual:hpd-embed' {
  export const indexes: Record<string, { url: string; integrity: string; bytes: number; texts?: string }>;
  export const modelUrl: string | undefined;
}
