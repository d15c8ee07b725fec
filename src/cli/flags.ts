/** Flags several commands share, as commander gives them to an action. */
export type ChangeFlags = { explain?: boolean; dryRun?: boolean };
export type JsonFlag = { json?: boolean };
