import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { pauseSync } from '../kernel/pause.js';

/**
 * Opens a SQLite database with better-sqlite3's addon found by its path. The CLI's bundle carries
 * better-sqlite3's JavaScript (compiled from the bundle's code cache: loading its dozen files cost
 * ~10 ms of every command), where the `bindings` package it finds the addon with cannot work.
 */
export function openDatabase(filename: string, options?: Omit<Database.Options, 'nativeBinding'>): Database.Database {
  addonPath ??= findAddon();
  return new Database(filename, { ...options, nativeBinding: addonPath });
}

const ADDON = 'better-sqlite3/build/Release/better_sqlite3.node';

/**
 * Where a checkout or a global install has it, beside ctnet's dist/ (every module and bundle that
 * opens a database is two levels below the package); else wherever Node's resolution finds it (a
 * package manager may have hoisted it), which reads package.json files on the way (~0.8 ms).
 */
function findAddon(): string {
  const beside = fileURLToPath(new URL(`../../node_modules/${ADDON}`, import.meta.url));
  return existsSync(beside) ? beside : createRequire(import.meta.url).resolve(ADDON);
}

let addonPath: string | undefined;

/**
 * Puts a database in WAL mode (asked first: one already in it is only read). Processes opening a
 * new state at once (a node's first pods, each its own CNI process) race to switch it: each holds a
 * read lock and wants to write the header, and SQLite answers the loser SQLITE_BUSY at once rather
 * than wait in that deadlock for its busy timeout. The switch is tried again until `timeoutMs`.
 */
export function useWal(db: Database.Database, timeoutMs: number): void {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if (!String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY') || Date.now() > until) throw err;
      pauseSync(5 + Math.random() * 10);
    }
  }
}
