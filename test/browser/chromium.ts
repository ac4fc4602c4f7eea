// Headless Debian Chromium for browser tests: fixed flags (WebGPU through SwiftShader), a throwaway profile.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { it } from 'vitest';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

let cachedReason: string | null | undefined;

/** Why Chromium cannot run here, or null when it can. Checked once per process (runs `chromium --version`). */
export function chromiumUnavailableReason(): string | null {
  if (cachedReason !== undefined) return cachedReason;
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    cachedReason = `${CHROMIUM_PATH} not found or not executable (install it with: apt-get install -y chromium)`;
    return cachedReason;
  }
  const r = spawnSync(CHROMIUM_PATH, ['--headless=new', '--no-sandbox', '--version'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  cachedReason =
    r.status === 0
      ? null
      : `${CHROMIUM_PATH} --version failed (${r.error?.message ?? `exit ${String(r.status)}`}: ${(r.stderr ?? '').trim().slice(0, 200)})`;
  return cachedReason;
}

/** Synchronous, so tests can write `describe.skipIf(!chromiumAvailable())`. */
export function chromiumAvailable(): boolean {
  return chromiumUnavailableReason() === null;
}

/**
 * For `describe.skipIf(skipBrowserSuite('…'))`: false when Chromium runs here. When it cannot, the suite skips with a
 * printed reason, except under HPD_REQUIRE_BROWSER=1 (CI), where a failing test takes its place: a green run means the browser tests ran.
 */
export function skipBrowserSuite(what: string): boolean {
  const reason = chromiumUnavailableReason();
  if (reason === null) return false;
  if (process.env.HPD_REQUIRE_BROWSER === '1') {
    it(`${what}: Chromium is required (HPD_REQUIRE_BROWSER=1)`, () => {
      throw new Error(`HPD_REQUIRE_BROWSER=1 but Chromium cannot run: ${reason}`);
    });
  } else {
    console.warn(`skipping ${what}: ${reason}`);
  }
  return true;
}

export interface LaunchedChromium {
  context: BrowserContext;
  /** The profile folder (IndexedDB, caches live here until close). */
  userDataDir: string;
  /** Closes the browser and deletes the profile (unless the caller passed its own). */
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** More flags after CHROMIUM_ARGS. */
  args?: readonly string[];
  /** Reuse this profile (a browser restart); the caller owns it and close() keeps it. Default: a fresh temp profile. */
  userDataDir?: string;
  /** The machine's GPU adapter instead of SwiftShader (bench --gpu): drops the SwiftShader flags, enables Vulkan. */
  gpu?: boolean;
  /** An unpacked extension's folder to load (the only extension enabled). */
  extension?: string;
}

/** Starts headless Chromium with a fresh profile; IndexedDB and other storage persist across reloads until close(). */
export async function launchChromium(options: LaunchOptions = {}): Promise<LaunchedChromium> {
  const owned = options.userDataDir === undefined;
  const userDataDir = options.userDataDir ?? (await mkdtemp(join(tmpdir(), 'hpd-chromium-')));
  let context: BrowserContext;
  try {
    const base = options.gpu
      ? [...CHROMIUM_ARGS.filter((a) => !/swiftshader/i.test(a)), '--enable-features=Vulkan', '--ignore-gpu-blocklist']
      : CHROMIUM_ARGS;
    const extension =
      options.extension === undefined
        ? []
        : [`--disable-extensions-except=${options.extension}`, `--load-extension=${options.extension}`];
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      args: [...base, ...extension, ...(options.args ?? [])],
      headless: true,
    });
  } catch (e) {
    if (owned) await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    userDataDir,
    async close() {
      await context.close().catch(() => undefined);
      if (owned) await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
