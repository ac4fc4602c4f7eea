// Runs in every test file (vitest.config.ts setupFiles).
import { afterAll } from 'vitest';
import { removeProcessScratch } from './process-scratch.js';

afterAll(removeProcessScratch);
