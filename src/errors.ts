/**
 * One error hierarchy for everything a user can cause. Each class has a stable `code`,
 * a process exit code, and the CNI error code a plugin would report. Messages are one line
 * naming the problem and the fix.
 */
export type ErrorCode =
  | 'CTNET_INVALID_ARGUMENT'
  | 'CTNET_NOT_FOUND'
  | 'CTNET_CONFLICT'
  | 'CTNET_PERMISSION'
  | 'CTNET_DEPENDENCY_MISSING'
  | 'CTNET_KERNEL'
  | 'CTNET_COMMAND_NOT_FOUND'
  | 'CTNET_COMMAND_NOT_EXECUTABLE'
  | 'CTNET_CONTAINER_SETUP'
  | 'CTNET_INJECTED_FAULT'
  | 'CTNET_CLUSTER_UNREACHABLE';

/** Exit codes are part of the CLI contract; never renumber them. */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  CTNET_INVALID_ARGUMENT: 2,
  CTNET_NOT_FOUND: 3,
  CTNET_CONFLICT: 4,
  CTNET_PERMISSION: 5,
  CTNET_DEPENDENCY_MISSING: 6,
  CTNET_KERNEL: 7,
  CTNET_INJECTED_FAULT: 8,
  CTNET_CLUSTER_UNREACHABLE: 9,
  CTNET_CONTAINER_SETUP: 125,
  CTNET_COMMAND_NOT_EXECUTABLE: 126,
  CTNET_COMMAND_NOT_FOUND: 127,
};

/** CNI spec error codes (used by the CNI entry point). */
const CNI_CODES: Readonly<Record<ErrorCode, number>> = {
  CTNET_INVALID_ARGUMENT: 7,
  CTNET_NOT_FOUND: 3,
  CTNET_CONFLICT: 999,
  CTNET_PERMISSION: 999,
  CTNET_DEPENDENCY_MISSING: 50,
  CTNET_KERNEL: 999,
  CTNET_INJECTED_FAULT: 999,
  CTNET_CLUSTER_UNREACHABLE: 11,
  CTNET_CONTAINER_SETUP: 999,
  CTNET_COMMAND_NOT_EXECUTABLE: 999,
  CTNET_COMMAND_NOT_FOUND: 999,
};

export class CtnetError extends Error {
  override readonly name: string = 'CtnetError';
  constructor(readonly code: ErrorCode, message: string) {
    // One line wherever it goes (a terminal, CNI JSON, the API), whatever a name in it holds.
    super(oneLine(message));
  }
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
  get cniCode(): number {
    return CNI_CODES[this.code];
  }
}

export class InvalidArgumentError extends CtnetError {
  override readonly name = 'InvalidArgumentError';
  constructor(message: string) {
    super('CTNET_INVALID_ARGUMENT', message);
  }
}

export class NotFoundError extends CtnetError {
  override readonly name = 'NotFoundError';
  constructor(message: string) {
    super('CTNET_NOT_FOUND', message);
  }
}

export class ConflictError extends CtnetError {
  override readonly name = 'ConflictError';
  constructor(message: string) {
    super('CTNET_CONFLICT', message);
  }
}

export class PermissionError extends CtnetError {
  override readonly name = 'PermissionError';
  constructor(message: string) {
    super('CTNET_PERMISSION', message);
  }
}

export class DependencyMissingError extends CtnetError {
  override readonly name = 'DependencyMissingError';
  constructor(message: string) {
    super('CTNET_DEPENDENCY_MISSING', message);
  }
}

/** A kernel operation failed; `errno` is the positive errno value when known. */
export class KernelError extends CtnetError {
  override readonly name: string = 'KernelError';
  constructor(message: string, readonly errno?: number) {
    super('CTNET_KERNEL', message);
  }
}

/** nftables refused a change; `errno` is ENOENT when it named a table, set or element that is not there. */
export class NftError extends KernelError {
  override readonly name = 'NftError';
}

export class CommandStartError extends CtnetError {
  override readonly name = 'CommandStartError';
  constructor(code: 'CTNET_COMMAND_NOT_FOUND' | 'CTNET_COMMAND_NOT_EXECUTABLE', message: string) {
    super(code, message);
  }
}

/** Raised by the executor when CTNET_FAULT_AT names the step it is about to apply (tests only). */
export class InjectedFaultError extends CtnetError {
  override readonly name = 'InjectedFaultError';
  constructor(step: number, what: string) {
    super('CTNET_INJECTED_FAULT', `injected fault at step ${step} (${what}); unset CTNET_FAULT_AT to run normally`);
  }
}

/** The cluster store (etcd) did not answer: what needs it is refused, what runs keeps running. */
export class ClusterUnreachableError extends CtnetError {
  override readonly name = 'ClusterUnreachableError';
  constructor(message: string) {
    super('CTNET_CLUSTER_UNREACHABLE', message);
  }
}

/** ctnet-init could not build the container (a mount, pivot_root, the user): what it said, exit 125 as Docker's. */
export class ContainerSetupError extends CtnetError {
  override readonly name = 'ContainerSetupError';
  constructor(message: string) {
    super('CTNET_CONTAINER_SETUP', message.replace(/^ctnet: error: /, ''));
  }
}

/** An error another ctnet process reported (code and message), as the class that code belongs to. */
export function errorFromCode(code: string | undefined, message: string): CtnetError {
  switch (code) {
    case 'CTNET_INVALID_ARGUMENT': return new InvalidArgumentError(message);
    case 'CTNET_NOT_FOUND': return new NotFoundError(message);
    case 'CTNET_CONFLICT': return new ConflictError(message);
    case 'CTNET_PERMISSION': return new PermissionError(message);
    case 'CTNET_DEPENDENCY_MISSING': return new DependencyMissingError(message);
    case 'CTNET_CLUSTER_UNREACHABLE': return new ClusterUnreachableError(message);
    default: return new KernelError(message);
  }
}

/** A message as one line: control characters a name may carry (a newline in `network rm $'a\\nb'`) shown escaped. */
export function oneLine(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
