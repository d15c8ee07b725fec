/**
 * An interrupted bench (SIGINT, SIGTERM) stops at its next measurement or command in a namespace:
 * the error unwinds through every part's `finally`, which removes what the part made (its
 * containers and their processes, namespaces, directories). A signal's handler cannot do that
 * itself: it runs between two turns of the event loop, while a part is half-way.
 */
let interruptedBy = null;

export const interrupt = (signal) => {
  interruptedBy = signal;
};

export const interrupted = () => interruptedBy;

export function throwIfInterrupted() {
  if (interruptedBy) throw new BenchInterrupted(interruptedBy);
}

export class BenchInterrupted extends Error {
  constructor(signal) {
    super(`interrupted by ${signal}`);
  }
}
