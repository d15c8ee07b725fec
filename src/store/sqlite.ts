import Database from 'better-sqlite3';
import { createRequire } from 'node:module';

/**
 * Opens a SQLite database with better-sqlite3's addon found by its path. The CLI's bundle carries
 * better-sqlite3's JavaScript (compiled from the bundle's code cache: loading its dozen files cost
 * ~10 ms of every command), where the `bindings` package it finds the addon with cannot work.
 */
export function openDatabase(filename: string, options?: Omit<Database.Options, 'nativeBinding'>): Database.Database {
  addonPath ??= createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  return new Database(filename, { ...options, nativeBinding: addonPath });
}

let addonPath: string | undefined;
