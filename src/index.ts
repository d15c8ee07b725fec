export { Engine } from './engine/engine.js';
export type { EngineOptions } from './engine/context.js';
export type { AttachRequest, RunRequest } from './engine/containers.js';
export type { CreateNetworkRequest } from './engine/networks.js';
export type { ContainerListing, ContainerView, NetworkListing, NetworkView, Overview } from './engine/views.js';
export type { Topology } from './topology/model.js';
export type { Diagnosis, Check } from './doctor/doctor.js';
export * from './errors.js';
